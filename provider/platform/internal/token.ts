/**
 * Bearer tokens go into an HTTP header verbatim; anything outside visible
 * ASCII would either be refused by undici (with an error that could quote
 * it) or split the header. Checked before any request is built.
 */
export function isWellFormedToken(token: string): boolean {
  return /^[\x21-\x7e]+$/.test(token);
}
