import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { KubeClientPool } from "../../provider/kube/pool";

function kubeconfig(server: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters: [{name: c, cluster: {server: " + server + "}}]",
    "users: [{name: u, user: {token: t}}]",
    "contexts: [{name: a, context: {cluster: c, user: u}}, {name: b, context: {cluster: c, user: u}}]",
    "current-context: a",
    "",
  ].join("\n");
}

describe("the process's shared cluster clients", () => {
  it("one client per kubeconfig and context, kept open when an operation closes it", async () => {
    const pool = new KubeClientPool();
    const text = kubeconfig("https://one.example:6443");
    const first = await pool.connect({ kubeconfig: text });
    first.close();
    expect(await pool.connect({ kubeconfig: text })).toBe(first);
    const other = await pool.connect({ kubeconfig: text, context: "b" });
    expect(other).not.toBe(first);
    expect(other.contextName).toBe("b");
  });

  it("a kubeconfig file rewritten in place gets a new client", async () => {
    const pool = new KubeClientPool();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enforce-pool-"));
    try {
      const file = path.join(dir, "config");
      fs.writeFileSync(file, kubeconfig("https://one.example:6443"));
      const first = await pool.connect({ kubeconfig: file });
      expect(await pool.connect({ kubeconfig: file })).toBe(first);
      fs.writeFileSync(file, kubeconfig("https://two.example:6443"));
      const second = await pool.connect({ kubeconfig: file });
      expect(second.server).toBe("https://two.example:6443");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a kubeconfig that fails to load is not kept: the next call tries again", async () => {
    const pool = new KubeClientPool();
    const missing = path.join(os.tmpdir(), "enforce-pool-missing", "config");
    await expect(pool.connect({ kubeconfig: missing })).rejects.toThrow(missing);
    await expect(pool.connect({ kubeconfig: missing })).rejects.toThrow(missing);
  });
});
