import { doctor, USAGE } from "./doctor";

/** Entry of the `pulumi-enforce` bin. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "doctor") return doctor(rest);
  process.stderr.write((command ? `unknown command "${command}"\n` : "") + USAGE);
  return 2;
}
