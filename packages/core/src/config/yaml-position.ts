import type { LineCounter } from 'yaml';
import type { core } from 'zod';

/** The smallest view of a yaml Document this needs (no runtime import of yaml). */
interface DocumentLike {
  getIn(path: Iterable<unknown>, keepScalar?: boolean): unknown;
}

export type FieldPath = (string | number)[];

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

/** Line and column of the node at `path`, or of its nearest ancestor that has a source range. */
export function nodePosition(
  document: DocumentLike,
  lineCounter: LineCounter,
  path: readonly (string | number)[],
): { line?: number; column?: number } {
  for (let length = path.length; length >= 0; length--) {
    const node = document.getIn(path.slice(0, length), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) {
      const at = lineCounter.linePos(node.range[0]);
      return { line: at.line, column: at.col };
    }
  }
  return {};
}

/**
 * A zod issue as a field path, a message that says what was expected, and (given the parsed
 * document) the line and column: an unknown key points at the key itself.
 */
export function describeZodIssue(
  issue: core.$ZodIssue,
  source: { document: DocumentLike; lineCounter: LineCounter } | undefined,
): { path: FieldPath; line?: number; column?: number; message: string } {
  const path = issue.path.filter((part): part is string | number => typeof part !== 'symbol');
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown key "${issue.keys.join('", "')}" (a typo here could silently disable a rule, so it is an error)`
      : issue.code === 'invalid_key'
        ? `bad id: ${issue.issues[0]?.message ?? issue.message}`
        : issue.message;
  if (!source) return { path, message };
  const key = issue.code === 'unrecognized_keys' ? keyPosition(source.document, path) : undefined;
  if (key !== undefined) {
    const at = source.lineCounter.linePos(key);
    return { path, line: at.line, column: at.col, message };
  }
  return { path, ...nodePosition(source.document, source.lineCounter, path), message };
}
