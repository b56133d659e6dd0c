import { childPath } from '../scanner/walk-value.js';
import type { Detection, Span } from '../types.js';

export interface RedactOptions {
  /**
   * `'mask'` (default) replaces each span with `[REDACTED:EMAIL]`-style placeholders;
   * `'tokenize'` replaces it with a numbered token (`<PII_EMAIL_1>`) and returns the mapping,
   * which the caller keeps to restore the text later.
   */
  mode?: 'mask' | 'tokenize';
  /** Only detections that pass this filter are redacted. Default: all. */
  filter?: (detection: Detection) => boolean;
  /** Existing token mapping to extend, so one value keeps one token across calls. */
  vault?: Map<string, string>;
  /**
   * Names the token of a value (tokenize mode) instead of numbering it; `kind` is the family and
   * label (`PII_EMAIL`). The name must look like `<KIND_digits>` for `restoreTokens` to find it.
   */
  tokenFor?: (kind: string, value: string) => string;
}

export interface RedactResult {
  text: string;
  /** Token -> original value (tokenize mode); empty in mask mode. */
  tokens: Map<string, string>;
  /** The spans replaced, after merging overlaps, in the original text. */
  spans: Span[];
}

interface Region extends Span {
  label: string;
  family: string;
}

/**
 * Replaces detected spans in `text`. Overlapping spans merge into one replacement, labelled by the
 * detection that covers most of it. Only detections on the string itself are used (no `path`).
 *
 * @example
 * redact('mail bob@example.com', scanner.scan('mail bob@example.com').detections).text
 * // 'mail [REDACTED:EMAIL]'
 */
export function redact(text: string, detections: readonly Detection[], options: RedactOptions = {}): RedactResult {
  const regions: Region[] = detections
    .filter((detection) => (options.filter ? options.filter(detection) : true))
    .map((detection) => ({ start: detection.span.start, end: detection.span.end, label: labelOf(detection), family: detection.family }))
    .filter((region) => region.end > region.start && region.start >= 0 && region.end <= text.length)
    .sort((left, right) => left.start - right.start || right.end - left.end);

  const merged: Region[] = [];
  for (const region of regions) {
    const last = merged[merged.length - 1];
    if (last && region.start < last.end) {
      if (region.end > last.end) last.end = region.end;
      continue;
    }
    merged.push({ ...region });
  }

  const tokens = new Map<string, string>();
  const vault = options.vault ?? new Map<string, string>();
  const byValue = new Map<string, string>();
  for (const [token, value] of vault) byValue.set(value, token);
  const counters = new Map<string, number>();
  for (const token of vault.keys()) {
    const match = /^<([A-Z]+_[A-Z0-9_]+?)_(\d+)>$/.exec(token);
    if (match) counters.set(match[1] as string, Math.max(counters.get(match[1] as string) ?? 0, Number(match[2])));
  }

  let output = '';
  let cursor = 0;
  for (const region of merged) {
    output += text.slice(cursor, region.start);
    const value = text.slice(region.start, region.end);
    if (options.mode === 'tokenize') {
      let token = byValue.get(value);
      if (!token) {
        const kind = `${region.family}_${region.label}`;
        const next = (counters.get(kind) ?? 0) + 1;
        counters.set(kind, next);
        token = options.tokenFor ? options.tokenFor(kind, value) : `<${kind}_${next}>`;
        byValue.set(value, token);
        vault.set(token, value);
      }
      tokens.set(token, value);
      output += token;
    } else {
      output += `[REDACTED:${region.label}]`;
    }
    cursor = region.end;
  }
  output += text.slice(cursor);
  return { text: output, tokens, spans: merged.map(({ start, end }) => ({ start, end })) };
}

/** Restores tokenised text with the mapping `redact` returned. */
export function restoreTokens(text: string, tokens: ReadonlyMap<string, string>): string {
  return text.replace(/<[A-Z]+_[A-Z0-9_]+?_\d+>/g, (token) => tokens.get(token) ?? token);
}

/** Placeholder label: the most specific tag word (`personal.pii.email` -> EMAIL), else the family. */
function labelOf(detection: Detection): string {
  const tag = detection.tags[0];
  const last = tag ? tag.split('.').pop() : undefined;
  return (last ?? detection.family).toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/**
 * Redacts the strings of a structured value (tool arguments or results) at the paths its
 * detections name, returning a copy; the input is not changed.
 */
export function redactValue(value: unknown, detections: readonly Detection[], options: Omit<RedactOptions, 'filter'> = {}): unknown {
  const byPath = new Map<string, Detection[]>();
  for (const detection of detections) {
    const path = detection.path ?? '$';
    const list = byPath.get(path);
    if (list) list.push(detection);
    else byPath.set(path, [detection]);
  }
  const visit = (node: unknown, path: string): unknown => {
    if (typeof node === 'string' || typeof node === 'number') {
      const found = byPath.get(path);
      return found ? redact(String(node), found, options).text : node;
    }
    if (Array.isArray(node)) return node.map((item, index) => visit(item, `${path}[${index}]`));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, visit(item, childPath(path, key))]));
    }
    return node;
  };
  return visit(value, '$');
}
