/**
 * One of the agent's service-account tokens. Registration uses a fresh one;
 * other calls reuse it until it is close to expiry, as a projected token
 * volume is refreshed by the kubelet before it runs out.
 */
import type { MintedToken } from "./kube";

/** Re-mint when the token expires within this margin (2 minutes). */
export const REFRESH_MARGIN_MS = 120_000;

/** Mints and caches tokens; `mint` resolves undefined when the ServiceAccount is missing. */
export class TokenSource {
  private cached: MintedToken | undefined;

  constructor(
    private readonly mint: () => Promise<MintedToken | undefined>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A newly minted token (kept for later calls). */
  async fresh(): Promise<MintedToken | undefined> {
    this.cached = await this.mint();
    return this.cached;
  }

  /** The cached token, or a new one when there is none or it expires within the margin. */
  async current(): Promise<MintedToken | undefined> {
    if (this.cached && this.cached.expiresAt - this.now() > REFRESH_MARGIN_MS) return this.cached;
    return this.fresh();
  }

  /** Forgets the cached token, e.g. after the issuer refused it. */
  invalidate(): void {
    this.cached = undefined;
  }

  /** The cached token's value, for scrubbing it from log lines. */
  get value(): string | undefined {
    return this.cached?.token;
  }
}
