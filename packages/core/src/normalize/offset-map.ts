import type { Span } from '../types.js';

/**
 * Maps positions in a derived string back to the string it was made from. A derived string is
 * made by replacing some ranges of its source; only replacements that change the length are
 * recorded (a same-length replacement keeps every position). Maps chain through `parent`.
 */
export class OffsetMap {
  // INVARIANT: edits are sorted by outStart and do not overlap.
  private readonly inStarts: number[] = [];
  private readonly inEnds: number[] = [];
  private readonly outStarts: number[] = [];
  private readonly outEnds: number[] = [];

  constructor(readonly parent: OffsetMap | null) {}

  get isIdentity(): boolean {
    return this.outStarts.length === 0 && (this.parent === null || this.parent.isIdentity);
  }

  /** Records that source range [inStart, inEnd) became output range [outStart, outEnd). */
  record(inStart: number, inEnd: number, outStart: number, outEnd: number): void {
    this.inStarts.push(inStart);
    this.inEnds.push(inEnd);
    this.outStarts.push(outStart);
    this.outEnds.push(outEnd);
  }

  /** Maps a span of the derived string to the smallest span of the original that covers it. */
  toSource(span: Span): Span {
    const start = this.mapStart(span.start);
    const end = Math.max(start, this.mapEnd(span.end));
    return this.parent ? this.parent.toSource({ start, end }) : { start, end };
  }

  private mapStart(position: number): number {
    const index = lastAtOrBefore(this.outStarts, position, false);
    if (index < 0) return position;
    const outEnd = this.outEnds[index] as number;
    if (position < outEnd) return this.inStarts[index] as number;
    return (this.inEnds[index] as number) + (position - outEnd);
  }

  private mapEnd(position: number): number {
    const index = lastAtOrBefore(this.outStarts, position, true);
    if (index < 0) return position;
    const outEnd = this.outEnds[index] as number;
    if (position <= outEnd) return this.inEnds[index] as number;
    return (this.inEnds[index] as number) + (position - outEnd);
  }
}

/** Index of the last element <= value (or < value when `strict`), or -1. */
function lastAtOrBefore(sorted: number[], value: number, strict: boolean): number {
  let low = 0;
  let high = sorted.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const item = sorted[middle] as number;
    if (strict ? item < value : item <= value) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

/**
 * `source.replace(pattern, replacer)` that also returns the offset map back to `source`.
 * `pattern` must be global and have no named groups.
 */
export function replaceMapped(
  source: string,
  pattern: RegExp,
  replacer: (match: string, offset: number) => string,
  parent: OffsetMap | null,
): { text: string; map: OffsetMap } {
  const map = new OffsetMap(parent);
  let delta = 0;
  const text = source.replace(pattern, (...args: unknown[]) => {
    const match = args[0] as string;
    const offset = args[args.length - 2] as number;
    const replacement = replacer(match, offset);
    if (replacement.length !== match.length) {
      const outStart = offset + delta;
      map.record(offset, offset + match.length, outStart, outStart + replacement.length);
      delta += replacement.length - match.length;
    }
    return replacement;
  });
  return { text, map };
}
