/**
 * Reading what a fixture guarantees. With `noUncheckedIndexedAccess`, `list[i]` may be
 * undefined; where the fixture (the environment's two clusters, the requests a fake server
 * recorded) or an assertion just before guarantees the element, {@link at} says so once and
 * fails with a clear message, instead of a `TypeError` further down, when it does not hold.
 */

/**
 * The element at `index` of `list`, e.g. `at(env.clusters, 1)` for the second cluster of the
 * shared environment; throws if the fixture has no such element.
 */
export function at<T>(list: readonly T[], index: number): T {
  const item = list[index];
  if (item === undefined) {
    throw new Error(`fixture has no element ${index} (it has ${list.length})`);
  }
  return item;
}
