import * as fs from "node:fs";
import { stringify } from "yaml";

export interface KubeconfigSpec {
  name: string;
  server: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The kubeconfig's name for the user. @default `<name>-admin` */
  user?: string;
}

/**
 * Writes a kubeconfig with the CA and client credentials embedded, so the file
 * can be handed around alone. It holds a private key: mode 0600.
 */
export function writeKubeconfig(path: string, spec: KubeconfigSpec): void {
  const b64 = (f: string) => fs.readFileSync(f).toString("base64");
  const user = spec.user ?? `${spec.name}-admin`;
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: spec.name,
        cluster: { server: spec.server, "certificate-authority-data": b64(spec.caFile) },
      },
    ],
    users: [
      {
        name: user,
        user: {
          "client-certificate-data": b64(spec.certFile),
          "client-key-data": b64(spec.keyFile),
        },
      },
    ],
    contexts: [{ name: spec.name, context: { cluster: spec.name, user } }],
    "current-context": spec.name,
    preferences: {},
  };
  fs.writeFileSync(path, stringify(doc), { mode: 0o600 });
}
