/**
 * The agent's objects in a local cluster as a connection installs them, for tests that run
 * the agent stand-in without the provider's lifecycle: the objects `agentObjects` renders
 * from `manifests/agent/` (the platform settings a test chooses included), applied as the
 * provider applies them. Only `mcp-creds` is written by hand, since tests need malformed
 * data in it too.
 * @module
 */
import { applyObjects } from "../../provider/install/apply";
import { kindOf, objectPath } from "../../provider/install/kinds";
import { agentObjects, describeObject, type KubeObject } from "../../provider/install/manifests";
import { AGENT_NAMESPACE, AGENT_STATEFULSET, CREDS_SECRET } from "../../provider/install/names";
import { newConnectionId } from "../../provider/install/ownership";
import type { AgentPlatform } from "../../provider/install/platform-settings";
import { KubeClient } from "../../provider/kube/client";
import { eventually } from "./env";

/** Options of {@link AgentInstall.install}. */
export interface InstallOptions {
  /**
   * Objects to leave out, named as messages name them (`ServiceAccount gulfstream/controller`),
   * to show what the agent does without them.
   */
  omit?: string[];
}

/** What an install created: the UIDs the agent registers with and reports on. */
export interface Installed {
  namespaceUid: string;
  /** `""` when the StatefulSet was left out. */
  statefulSetUid: string;
}

/** Field manager of the Secret a test writes (the installation's objects use the provider's). */
const TEST_MANAGER = "agent-test";

const secretPath = objectPath(
  kindOf({ apiVersion: "v1", kind: "Secret" }),
  CREDS_SECRET,
  AGENT_NAMESPACE,
);
const statefulSetPath = objectPath(
  kindOf({ apiVersion: "apps/v1", kind: "StatefulSet" }),
  AGENT_STATEFULSET,
  AGENT_NAMESPACE,
);
const namespacePath = objectPath(
  kindOf({ apiVersion: "v1", kind: "Namespace" }),
  AGENT_NAMESPACE,
  undefined,
);

/** Installs, changes and removes the agent's objects in one cluster (admin kubeconfig). */
export class AgentInstall {
  private constructor(
    private readonly kube: KubeClient,
    /** The owning connection's id on every object, as one connection would keep it. */
    private readonly connectionId: string,
  ) {}

  /** A client of the cluster whose admin kubeconfig is at `kubeconfig`; close it after. */
  static async connect(kubeconfig: string): Promise<AgentInstall> {
    return new AgentInstall(await KubeClient.load({ kubeconfig }), newConnectionId());
  }

  /**
   * Applies the agent's objects (creating or updating them) with `platform` as where the
   * agent finds Enforce; `mcp-creds` is not among them (see {@link writeCreds}).
   */
  async install(platform: AgentPlatform, opts: InstallOptions = {}): Promise<Installed> {
    const omit = new Set(opts.omit ?? []);
    const rendered = agentObjects({
      connectionId: this.connectionId,
      clusterName: "agent-test",
      // No admission webhooks: no pod would serve them here.
      profiles: ["observer"],
      enforcerOptions: {
        enableCipCache: false,
        namespaceEnforcementMode: "opt-in",
        webhookFailOpen: false,
      },
      agentImages: {},
      platform,
    });
    const unknown = [...omit].filter((name) => !rendered.some((o) => describeObject(o) === name));
    if (unknown.length > 0)
      throw new TypeError(`omit names no rendered object: ${unknown.join(", ")}`);
    const objects = rendered.filter((o) => !omit.has(describeObject(o)));
    const applied = await applyObjects(this.kube, objects);
    const uid = (kind: string, name: string): string =>
      [...applied.values()].find((o) => o.kind === kind && o.metadata.name === name)?.metadata
        .uid ?? "";
    return {
      namespaceUid: uid("Namespace", AGENT_NAMESPACE),
      statefulSetUid: uid("StatefulSet", AGENT_STATEFULSET),
    };
  }

  /**
   * Makes Secret `gulfstream/mcp-creds` hold exactly `data` (plain text values): created,
   * updated, and keys left out removed (server-side apply under one field manager).
   */
  async writeCreds(data: Record<string, string>): Promise<void> {
    const secret: KubeObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: CREDS_SECRET, namespace: AGENT_NAMESPACE },
      type: "Opaque",
      data: Object.fromEntries(
        Object.entries(data).map(([key, value]) => [
          key,
          Buffer.from(value, "utf8").toString("base64"),
        ]),
      ),
    };
    await this.kube.apply(secretPath, secret, TEST_MANAGER);
  }

  /** Deletes StatefulSet `gulfstream/meta-controlplane` without waiting (a finalizer may hold it). */
  async deleteStatefulSet(): Promise<void> {
    await this.kube.delete(statefulSetPath, { accept: [404] });
  }

  /** Deletes Namespace `gulfstream` (everything in it included) and waits until it is gone. */
  async deleteNamespace(): Promise<void> {
    await this.kube.delete(namespacePath, { accept: [404] });
    await eventually(
      "Namespace gulfstream to be gone",
      async () =>
        (await this.kube.get(namespacePath, { accept: [404] })).status === 404 ? true : undefined,
      90000,
    );
  }

  close(): void {
    this.kube.close();
  }
}
