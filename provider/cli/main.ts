import { doctor, USAGE } from "./doctor";
import { uninstall, UNINSTALL_USAGE } from "./uninstall";

/** Entry of the `pulumi-enforce` bin. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "doctor") return doctor(rest);
  if (command === "uninstall") return uninstall(rest);
  process.stderr.write(
    (command ? `unknown command "${command}"\n` : "") + USAGE + "\n" + UNINSTALL_USAGE,
  );
  return 2;
}
