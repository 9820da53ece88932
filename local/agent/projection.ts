/**
 * The kubelet's part for the agent's pod: the service-account tokens its projected volumes
 * declare, minted with the bootstrap credential, with the audience and lifetime the installed
 * StatefulSet asks for (not constants of the stand-in). A token is kept until it nears expiry,
 * as the kubelet refreshes a projected token before it runs out.
 */
import type { MintedToken } from "./kube";
import type { PodView, TokenSpec } from "./pod";
import { TokenSource } from "./token-source";

/** Mints a token as a projected volume declares it; undefined when the ServiceAccount is missing. */
export type MintToken = (spec: TokenSpec) => Promise<MintedToken | undefined>;

/** The pod the agent runs as, and its tokens by path. */
export class Projection {
  private pod: { uid: string; view: PodView } | undefined;
  private readonly tokens = new Map<string, { spec: string; source: TokenSource }>();

  constructor(
    private readonly mint: MintToken,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records the pod the StatefulSet `uid` describes now (undefined: no pod). Resolves true when
   * this is another pod than before, as after an install or a reinstall.
   */
  setPod(uid: string | undefined, view?: PodView): boolean {
    const changed = this.pod?.uid !== uid;
    this.pod = uid !== undefined && view ? { uid, view } : undefined;
    if (changed) this.tokens.clear();
    return changed;
  }

  /** The token file at `path`, or why there is none. */
  tokenAt(path: string): TokenSource | string {
    if (!this.pod) return "the agent's pod does not exist (no StatefulSet)";
    const file = this.pod.view.fileAt(path);
    if (file?.kind !== "token") {
      return `the pod template mounts no service-account token at ${path}`;
    }
    const spec = JSON.stringify(file.token);
    let entry = this.tokens.get(path);
    if (entry?.spec !== spec) {
      entry = { spec, source: new TokenSource(() => this.mint(file.token), this.now) };
      this.tokens.set(path, entry);
    }
    return entry.source;
  }
}
