import * as fs from "node:fs";
import * as path from "node:path";
import type { Toolchain } from "../toolchain/toolchain";
import { BOOTSTRAP_USER, grantBootstrap } from "./agent-bootstrap";
import { AUDIT_POLICY } from "./audit-policy";
import { writeKubeconfig } from "./kubeconfig";
import type { Front } from "./latency-proxy";
import { issueCA, issueCert, writeServiceAccountKey } from "./pki";
import { freePort } from "./ports";
import { get } from "./probe";
import { Managed, Supervisor, tail } from "./process";
import { waitFor } from "./wait";

/**
 * How a cluster publishes its service-account issuer:
 * - `apiserver`: the issuer is the API server's own https URL (as on EKS or GKE,
 *   where the issuer is reachable): public once anonymous discovery is allowed;
 * - `cluster-local`: `https://kubernetes.default.svc.cluster.local`, as kind and
 *   kubeadm set it: discovery works through the API, but nobody outside can reach
 *   the issuer, so the cluster is private;
 * - `disabled`: an issuer that is not an https URL, so the API server serves no
 *   discovery documents at all (a misconfigured cluster).
 */
export type IssuerMode = "apiserver" | "cluster-local" | "disabled";

export interface ClusterOptions {
  name: string;
  issuerMode?: IssuerMode;
  /**
   * Puts a proxy in front of the API server (`up --latency-ms`): the kubeconfigs, the issuer
   * and `apiServer` then name the proxy; only the controller manager and start-up probes go
   * direct. @default none: everything talks to the API server itself
   */
  front?: Front;
}

/** What `ready.json` says about one cluster. */
export interface ClusterInfo {
  name: string;
  kubeconfig: string;
  /**
   * The agent stand-in's kubeconfig: the server, the cluster CA and a bootstrap credential that
   * may only read the agent's StatefulSet and mint its ServiceAccount's tokens.
   */
  agentKubeconfig: string;
  apiServer: string;
  /** With `--latency-ms`: the API server's own URL, behind the proxy `apiServer` names. */
  directApiServer?: string;
  issuer: string;
  auditLog: string;
  caFile: string;
  issuerMode: IssuerMode;
  signingKeyId: string;
}

interface KeyState {
  /** Index of the key that signs tokens. */
  signing: number;
  /** Indexes of the keys the JWKS publishes. */
  published: number[];
  kids: Record<number, string>;
}

/**
 * One local cluster: a kube-apiserver and a kube-controller-manager sharing the
 * environment's etcd under a prefix of their own, with a CA, an admin
 * kubeconfig, service-account signing keys and an audit log under `dir`.
 */
export class LocalCluster {
  readonly dir: string;
  private port = 0;
  /** Where clients connect: the proxy's port with `front`, else {@link port}. */
  private publicPort = 0;
  private keys: KeyState = { signing: 1, published: [1], kids: {} };
  private apiserver?: Managed;

  constructor(
    private readonly sup: Supervisor,
    private readonly tools: Toolchain,
    private readonly etcdUrl: string,
    envDir: string,
    readonly opts: ClusterOptions,
  ) {
    this.dir = path.join(envDir, "clusters", opts.name);
  }

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  /** The URL clients use: the proxy in front of the API server when there is one. */
  get apiServerUrl(): string {
    return `https://127.0.0.1:${this.publicPort}`;
  }

  /** The API server's own URL, for the control plane's traffic and start-up probes. */
  get directUrl(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  get issuer(): string {
    switch (this.opts.issuerMode ?? "apiserver") {
      case "apiserver":
        return this.apiServerUrl;
      case "cluster-local":
        return "https://kubernetes.default.svc.cluster.local";
      case "disabled":
        return "kubernetes.local";
    }
  }

  info(): ClusterInfo {
    return {
      name: this.opts.name,
      kubeconfig: this.file("kubeconfig"),
      agentKubeconfig: this.file("agent.kubeconfig"),
      apiServer: this.apiServerUrl,
      ...(this.publicPort !== this.port && { directApiServer: this.directUrl }),
      issuer: this.issuer,
      auditLog: this.file("audit.log"),
      caFile: this.file("ca.crt"),
      issuerMode: this.opts.issuerMode ?? "apiserver",
      signingKeyId: this.keys.kids[this.keys.signing] ?? "",
    };
  }

  /** Creates credentials, starts both components and waits until the cluster works. */
  async start(): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    this.port = await freePort();
    this.publicPort = this.opts.front ? await this.opts.front(this.port) : this.port;
    await this.writePki();
    fs.writeFileSync(this.file("audit-policy.yaml"), AUDIT_POLICY);
    writeKubeconfig(this.file("kubeconfig"), {
      name: this.opts.name,
      server: this.apiServerUrl,
      caFile: this.file("ca.crt"),
      certFile: this.file("admin.crt"),
      keyFile: this.file("admin.key"),
    });
    writeKubeconfig(this.file("agent.kubeconfig"), {
      name: this.opts.name,
      server: this.apiServerUrl,
      caFile: this.file("ca.crt"),
      certFile: this.file("agent-bootstrap.crt"),
      keyFile: this.file("agent-bootstrap.key"),
      user: "agent-bootstrap",
    });
    writeKubeconfig(this.file("kcm.kubeconfig"), {
      name: this.opts.name,
      server: this.directUrl,
      caFile: this.file("ca.crt"),
      certFile: this.file("kcm.crt"),
      keyFile: this.file("kcm.key"),
    });
    await this.startApiserver();
    this.startControllerManager();
    await this.waitForDefaultServiceAccount();
    await grantBootstrap(this.directUrl, this.adminTls());
  }

  private async writePki(): Promise<void> {
    const ca = { cert: this.file("ca.crt"), key: this.file("ca.key") };
    await issueCA(this.tools.pki, ca, `${this.opts.name} local cluster CA`);
    await Promise.all([
      issueCert(
        this.tools.pki,
        ca,
        { cert: this.file("apiserver.crt"), key: this.file("apiserver.key") },
        {
          cn: "kube-apiserver",
          hosts: [
            "127.0.0.1",
            "localhost",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "10.0.0.1",
          ],
          server: true,
        },
      ),
      issueCert(
        this.tools.pki,
        ca,
        { cert: this.file("admin.crt"), key: this.file("admin.key") },
        {
          cn: "admin",
          orgs: ["system:masters"],
          client: true,
        },
      ),
      issueCert(
        this.tools.pki,
        ca,
        { cert: this.file("agent-bootstrap.crt"), key: this.file("agent-bootstrap.key") },
        { cn: BOOTSTRAP_USER, client: true },
      ),
      // Its own identity, so the audit policy can leave its traffic out.
      issueCert(
        this.tools.pki,
        ca,
        { cert: this.file("kcm.crt"), key: this.file("kcm.key") },
        {
          cn: "system:kube-controller-manager",
          orgs: ["system:masters"],
          client: true,
        },
      ),
    ]);
    this.keys.kids[1] = writeServiceAccountKey(this.file("sa-1.key"), this.file("sa-1.pub"));
    this.saveKeys();
  }

  private saveKeys(): void {
    fs.writeFileSync(this.file("keys.json"), JSON.stringify(this.keys, null, 2) + "\n");
  }

  private apiserverArgs(): string[] {
    const args = [
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${this.port}`,
      `--tls-cert-file=${this.file("apiserver.crt")}`,
      `--tls-private-key-file=${this.file("apiserver.key")}`,
      `--client-ca-file=${this.file("ca.crt")}`,
      `--etcd-servers=${this.etcdUrl}`,
      `--etcd-prefix=/clusters/${this.opts.name}`,
      "--service-cluster-ip-range=10.0.0.0/24",
      `--service-account-issuer=${this.issuer}`,
      `--service-account-signing-key-file=${this.file(`sa-${this.keys.signing}.key`)}`,
      ...this.keys.published.map((i) => `--service-account-key-file=${this.file(`sa-${i}.pub`)}`),
      "--authorization-mode=RBAC",
      "--anonymous-auth=true",
      "--allow-privileged=true",
      `--audit-policy-file=${this.file("audit-policy.yaml")}`,
      `--audit-log-path=${this.file("audit.log")}`,
      "--audit-log-format=json",
      "--audit-log-mode=blocking",
      "--profiling=false",
      "--v=1",
    ];
    if (this.issuer !== this.directUrl && this.opts.issuerMode !== "disabled") {
      // The issuer is not this API server's own address (it is the cluster-local name, or the
      // latency proxy in front): say where clients fetch the keys, or the discovery document
      // would name the advertised address and port, going around the proxy.
      args.push(`--service-account-jwks-uri=${this.apiServerUrl}/openid/v1/jwks`);
    }
    return args;
  }

  private async startApiserver(): Promise<void> {
    this.apiserver = this.sup.start(
      `${this.opts.name}/kube-apiserver`,
      this.tools.kubeApiserver,
      this.apiserverArgs(),
      this.file("apiserver.log"),
    );
    const m = this.apiserver;
    const tls = this.adminTls();
    await waitFor(
      `${this.opts.name}: kube-apiserver /readyz`,
      async () => {
        if (m.child.exitCode !== null) {
          throw new Error(`kube-apiserver exited with ${m.child.exitCode}:\n${tail(m.logFile)}`);
        }
        const res = await get(`${this.directUrl}/readyz`, tls);
        return res.status === 200 ? true : undefined;
      },
      { timeoutMs: 120000, intervalMs: 500 },
    );
  }

  private startControllerManager(): void {
    this.sup.start(
      `${this.opts.name}/kube-controller-manager`,
      this.tools.kubeControllerManager,
      [
        `--kubeconfig=${this.file("kcm.kubeconfig")}`,
        `--authentication-kubeconfig=${this.file("kcm.kubeconfig")}`,
        `--authorization-kubeconfig=${this.file("kcm.kubeconfig")}`,
        "--bind-address=127.0.0.1",
        "--secure-port=0",
        "--leader-elect=false",
        "--use-service-account-credentials=false",
        `--root-ca-file=${this.file("ca.crt")}`,
        // What makes the cluster behave like a real one here: default service
        // accounts, namespace deletion, owner-reference cascades, aggregated
        // ClusterRoles, and workload controllers (their pods stay Pending).
        "--controllers=namespace-controller,serviceaccount-controller,garbage-collector-controller," +
          "root-ca-certificate-publisher-controller,clusterrole-aggregation-controller," +
          "statefulset-controller,deployment-controller,replicaset-controller",
        "--v=1",
      ],
      this.file("kcm.log"),
    );
  }

  private async waitForDefaultServiceAccount(): Promise<void> {
    const tls = this.adminTls();
    await waitFor(
      `${this.opts.name}: kube-controller-manager to create the default service account`,
      async () => {
        const res = await get(
          `${this.directUrl}/api/v1/namespaces/default/serviceaccounts/default`,
          tls,
        );
        return res.status === 200 ? true : undefined;
      },
      { timeoutMs: 120000, intervalMs: 500 },
    );
  }

  adminTls(): { ca: Buffer; cert: Buffer; key: Buffer } {
    return {
      ca: fs.readFileSync(this.file("ca.crt")),
      cert: fs.readFileSync(this.file("admin.crt")),
      key: fs.readFileSync(this.file("admin.key")),
    };
  }

  /** Stops the API server (an outage, for fault-injection tests); the port stays reserved. */
  async stopApiserver(): Promise<void> {
    await this.sup.stop(`${this.opts.name}/kube-apiserver`, 3000);
  }

  /** Starts the API server again after {@link stopApiserver}, on the same port and keys. */
  async restartApiserver(): Promise<void> {
    if (this.apiserver && this.apiserver.child.exitCode === null && !this.apiserver.child.killed) {
      return;
    }
    await this.startApiserver();
  }

  /**
   * Rotates the service-account signing key the way an operator would: a new
   * key signs from now on; the JWKS lists the new key, and the old one as well
   * when `keepOld` (tokens signed before stay valid until they expire). The API
   * server reads its keys at start, so it restarts on the same port.
   * Returns the new key id.
   */
  async rotateKey(keepOld: boolean): Promise<string> {
    const next = Math.max(...Object.keys(this.keys.kids).map(Number)) + 1;
    const kid = writeServiceAccountKey(this.file(`sa-${next}.key`), this.file(`sa-${next}.pub`));
    this.keys.kids[next] = kid;
    this.keys.published = keepOld ? [...this.keys.published, next] : [next];
    this.keys.signing = next;
    this.saveKeys();
    await this.stopApiserver();
    await this.startApiserver();
    return kid;
  }
}
