import { doctor } from "./doctor";

/** Entry of the `pulumi-enforce` bin. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "doctor") return doctor(rest);
  process.stderr.write(
    `usage: pulumi-enforce doctor --kubeconfig PATH [--context NAME] [--json]\n` +
      (command ? `unknown command "${command}"\n` : ""),
  );
  return 2;
}
