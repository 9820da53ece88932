/**
 * The client of an environment's control socket (served by `up`, see `environment.ts`): what
 * `enforce-local rotate-key` and `apiserver stop|start` call, and the tests with them.
 * @module
 */
import * as http from "node:http";

/**
 * `POST`s `body` as JSON to `call` (e.g. `/rotate-key`) on the control socket and resolves with
 * the answer's JSON; an answer other than 200 rejects with the error it names.
 */
/** What the control socket answers: the call's result, or the error it refused with. */
export interface ControlAnswer {
  error?: string;
  /** `/rotate-key`: the new signing key's id. */
  kid?: string;
}

export function callControl(
  socketPath: string,
  call: string,
  body: unknown,
): Promise<ControlAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, path: call, method: "POST", headers: { "content-type": "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          let answer: ControlAnswer;
          try {
            answer = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as ControlAnswer;
          } catch {
            answer = {};
          }
          if (res.statusCode === 200) resolve(answer);
          else reject(new Error(answer.error ?? `control socket answered ${res.statusCode}`));
        });
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}
