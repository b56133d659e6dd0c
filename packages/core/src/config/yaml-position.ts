/** The smallest view of a yaml Document this needs (no runtime import of yaml). */
interface DocumentLike {
  getIn(path: Iterable<unknown>, keepScalar?: boolean): unknown;
}

/**
 * Source offset of the key that ends `path` (so an unknown or misspelled key points at itself,
 * not at its value), or undefined when the last segment is not a key of a map.
 */
export function keyPosition(document: DocumentLike, path: readonly (string | number)[]): number | undefined {
  const last = path[path.length - 1];
  if (typeof last !== 'string') return undefined;
  const parent = document.getIn(path.slice(0, -1), true) as
    | { items?: { key?: { value?: unknown; range?: [number, number, number] } }[] }
    | undefined;
  const pair = parent?.items?.find((item) => item.key?.value === last);
  return pair?.key?.range?.[0];
}
