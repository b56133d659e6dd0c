import { isDeepStrictEqual } from 'node:util';
import { type Document, isMap, isPair, isScalar, isSeq, type Node, type Pair, parseDocument, stringify, YAMLMap, type YAMLSeq } from 'yaml';

export type YamlPath = readonly (string | number)[];

/**
 * One change to a YAML file, as data.
 * - `set`: sets the key at `path` (its last segment is a map key), creating missing parent maps.
 * - `delete`: removes a map key or a sequence item.
 * - `append`: appends an item to the sequence at `path`, creating it when missing.
 */
export type YamlEdit =
  | { op: 'set'; path: YamlPath; value: unknown }
  | { op: 'delete'; path: YamlPath }
  | { op: 'append'; path: YamlPath; value: unknown };

export interface YamlEditResult {
  text: string;
  /**
   * `preserved`: only the edited lines changed (every comment, blank line and quote style
   * elsewhere is byte for byte as it was). `reformatted`: the layout could not be kept (an
   * unusual shape), so the document was re-printed by the yaml library; comments survive, some
   * spacing may not.
   */
  layout: 'preserved' | 'reformatted';
}

/**
 * Applies an edit to YAML text, changing only the lines it must. The edit is made twice: as a
 * splice of the text, and through the yaml Document API; the splice is kept only when it parses
 * to exactly the data the Document API produced, so a splice bug can cost layout, never
 * correctness.
 *
 * @example
 * editYamlText('tenants:\n  # ours\n  acme: { name: Acme }\n', { op: 'set', path: ['tenants', 'beta'], value: { name: 'Beta' } }).text
 * // 'tenants:\n  # ours\n  acme: { name: Acme }\n  beta:\n    name: Beta\n'
 */
export function editYamlText(text: string, edit: YamlEdit): YamlEditResult {
  const document = parseDocument(text);
  if (document.errors.length > 0) throw document.errors[0];
  applyToDocument(document, edit);
  const expected = document.toJS();
  let spliced: string | undefined;
  try {
    spliced = spliceYamlText(text, edit);
  } catch {
    spliced = undefined;
  }
  if (spliced !== undefined) {
    const check = parseDocument(spliced);
    if (check.errors.length === 0 && isDeepStrictEqual(check.toJS(), expected)) return { text: spliced, layout: 'preserved' };
  }
  return { text: document.toString(), layout: 'reformatted' };
}

/** The Document API version of an edit (the reference the splice is checked against). */
function applyToDocument(document: Document, edit: YamlEdit): void {
  if (edit.op === 'delete') {
    document.deleteIn(edit.path);
    return;
  }
  // A key written with no value (`tenants:`) is null; it becomes an empty map to hold the new key.
  for (let length = 1; length < edit.path.length; length++) {
    const prefix = edit.path.slice(0, length);
    const node = document.getIn(prefix, true);
    if (isScalar(node) && node.value === null) document.setIn(prefix, new YAMLMap());
  }
  if (edit.op === 'set') {
    document.setIn(edit.path, document.createNode(edit.value));
    return;
  }
  const existing = document.getIn(edit.path, true);
  if (isSeq(existing)) existing.add(document.createNode(edit.value));
  else document.setIn(edit.path, document.createNode([edit.value]));
}

type Collection = YAMLMap<unknown, unknown> | YAMLSeq<unknown>;
type Range = [number, number, number];

const rangeOf = (node: unknown): Range | undefined => (node as { range?: Range | null } | null)?.range ?? undefined;

/** Offset of the start of the line holding `offset`. */
function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Offset just past the newline ending the line holding `offset` (or the end of the text). */
function lineEnd(text: string, offset: number): number {
  const newline = text.indexOf('\n', offset);
  return newline === -1 ? text.length : newline + 1;
}

/** Leading spaces of the line starting at `start`. */
function indentAt(text: string, start: number): number {
  let column = 0;
  while (text[start + column] === ' ') column++;
  return column;
}

function lineText(text: string, start: number): string {
  return text.slice(start, lineEnd(text, start)).replace(/\r?\n$/, '');
}

const isBlank = (line: string) => line.trim() === '';
const isComment = (line: string) => line.trimStart().startsWith('#');

/** The indentation step the file uses (the smallest indentation of an indented line), default 2. */
function indentStep(text: string): number {
  let step = Number.POSITIVE_INFINITY;
  for (const line of text.split('\n')) {
    if (isBlank(line) || isComment(line)) continue;
    const column = line.length - line.trimStart().length;
    if (column > 0 && column < step) step = column;
  }
  return Number.isFinite(step) && step <= 8 ? step : 2;
}

/** Block YAML of `value`, every line indented by `column` spaces. */
function blockText(value: unknown, column: number, step: number): string {
  const body = stringify(value, { indent: step, lineWidth: 0 });
  const pad = ' '.repeat(column);
  return body
    .split('\n')
    .filter((line, index, lines) => line !== '' || index < lines.length - 1)
    .map((line) => (line === '' ? line : pad + line))
    .join('\n')
    .concat('\n');
}

/** One-line flow YAML of `value`. */
function flowText(value: unknown): string {
  return stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();
}

function keyOf(pair: Pair<unknown, unknown>): unknown {
  return isScalar(pair.key) ? pair.key.value : pair.key;
}

/** Where an item of a collection starts: a map key, or the `-` of a block sequence item. */
function itemStart(text: string, collection: Collection, item: unknown): number {
  if (isPair(item)) {
    const range = rangeOf(item.key);
    if (!range) throw new Error('key without a source range');
    return range[0];
  }
  const range = rangeOf(item);
  if (!range) throw new Error('item without a source range');
  if (collection.flow) return range[0];
  let at = range[0] - 1;
  while (at >= 0 && /\s/.test(text[at] ?? '')) at--;
  if (text[at] !== '-') throw new Error('block sequence item without a dash');
  return at;
}

/** End of an item's own content (before any trailing comment). */
function itemContentEnd(item: unknown): number {
  if (isPair(item)) {
    const value = rangeOf(item.value);
    const key = rangeOf(item.key);
    const end = Math.max(value?.[1] ?? 0, key?.[1] ?? 0);
    if (end === 0) throw new Error('pair without a source range');
    return end;
  }
  const range = rangeOf(item);
  if (!range) throw new Error('item without a source range');
  return range[1];
}

/**
 * End of a block item: the end of the line its content ends on, then any comment lines indented
 * deeper than the item (they are inside it).
 */
function blockItemEnd(text: string, item: unknown, column: number): number {
  const contentEnd = itemContentEnd(item);
  let end = text[contentEnd - 1] === '\n' ? contentEnd : lineEnd(text, contentEnd);
  while (end < text.length) {
    const line = lineText(text, end);
    if (isComment(line) && indentAt(text, end) > column) end = lineEnd(text, end);
    else break;
  }
  return end;
}

/** Start of a block item including the comment lines right above it at its own indentation. */
function blockItemLead(text: string, start: number, column: number): number {
  let lead = lineStart(text, start);
  while (lead > 0) {
    const previous = lineStart(text, lead - 1);
    const line = lineText(text, previous);
    if (isComment(line) && indentAt(text, previous) === column) lead = previous;
    else break;
  }
  return lead;
}

function splice(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}

/** The text edit for `edit`, or a thrown Error when the shape is one the splice does not handle. */
export function spliceYamlText(text: string, edit: YamlEdit): string {
  const document = parseDocument(text);
  if (document.errors.length > 0) throw document.errors[0];
  const step = indentStep(text);
  if (edit.op === 'delete') return spliceDelete(text, document, edit.path);
  if (edit.op === 'append') {
    const existing = document.getIn(edit.path, true);
    if (isSeq(existing)) return appendToSequence(text, existing, edit.value, step, document, edit.path);
    return spliceSet(text, document, edit.path, [edit.value], step);
  }
  return spliceSet(text, document, edit.path, edit.value, step);
}

function spliceSet(text: string, document: Document, path: YamlPath, value: unknown, step: number): string {
  let node: unknown = document.contents;
  if (node === null || (isScalar(node) && node.value === null)) {
    // An empty document (or comments only): the new key goes at the end.
    const nested = nest(path, value);
    const prefix = text === '' || text.endsWith('\n') ? '' : '\n';
    return text + prefix + blockText(nested, 0, step);
  }
  let ownerPair: Pair<unknown, unknown> | undefined;
  for (let index = 0; index < path.length; index++) {
    const key = path[index];
    if (!isMap(node) || typeof key !== 'string') throw new Error(`not a map at ${path.slice(0, index).join('.')}`);
    const pair = node.items.find((item) => keyOf(item) === key);
    const rest = path.slice(index + 1);
    if (!pair) return insertPair(text, node, ownerPair, key, nest(rest, value), step);
    const last = index === path.length - 1;
    if (last) return replaceValue(text, pair, value);
    const child = pair.value;
    if (child === null || child === undefined || (isScalar(child) && child.value === null)) {
      return fillEmptyValue(text, pair, nest(rest, value), step);
    }
    ownerPair = pair;
    node = child;
  }
  throw new Error('empty path');
}

/** `{ a: { b: value } }` from `['a', 'b']`. */
function nest(path: YamlPath, value: unknown): unknown {
  return path.reduceRight<unknown>((inner, key) => ({ [String(key)]: inner }), value);
}

/** Adds `key: value` to a map that does not have `key`. */
function insertPair(
  text: string,
  map: YAMLMap<unknown, unknown>,
  ownerPair: Pair<unknown, unknown> | undefined,
  key: string,
  value: unknown,
  step: number,
): string {
  const entry = { [key]: value };
  if (map.flow) {
    const range = rangeOf(map);
    if (!range) throw new Error('flow map without a source range');
    const last = map.items[map.items.length - 1];
    if (last) return splice(text, itemContentEnd(last), itemContentEnd(last), `, ${flowText(entry).slice(1, -1).trim()}`);
    // An empty `{}` under a block key becomes a block map; inside flow it stays flow.
    if (ownerPair && !isFlowContext(text, ownerPair)) return emptyFlowToBlock(text, range, ownerPair, entry, step);
    return splice(text, range[0], range[1], flowText(entry));
  }
  const first = map.items[0];
  const last = map.items[map.items.length - 1];
  if (!first || !last) throw new Error('block map without items');
  const column = itemStart(text, map, first) - lineStart(text, itemStart(text, map, first));
  const at = blockItemEnd(text, last, column);
  let prefix = at > 0 && text[at - 1] !== '\n' ? '\n' : '';
  // A new top-level section is set off by a blank line, as sections usually are.
  if (column === 0 && !text.slice(0, at).endsWith('\n\n')) prefix += '\n';
  return splice(text, at, at, prefix + blockText(entry, column, step));
}

/** Whether a pair sits inside a flow collection (its line does not start with its key). */
function isFlowContext(text: string, pair: Pair<unknown, unknown>): boolean {
  const start = rangeOf(pair.key)?.[0];
  if (start === undefined) return true;
  return text.slice(lineStart(text, start), start).trim() !== '';
}

/** `key: {}` (or `[]`) becomes `key:` followed by an indented block holding `value`. */
function emptyFlowToBlock(text: string, range: Range, ownerPair: Pair<unknown, unknown>, value: unknown, step: number): string {
  const keyStart = rangeOf(ownerPair.key)?.[0];
  if (keyStart === undefined) throw new Error('key without a source range');
  const column = keyStart - lineStart(text, keyStart);
  let from = range[0];
  while (from > 0 && text[from - 1] === ' ') from--;
  const withoutBraces = splice(text, from, range[1], '');
  const at = lineEnd(withoutBraces, from);
  const prefix = at > 0 && withoutBraces[at - 1] !== '\n' ? '\n' : '';
  return splice(withoutBraces, at, at, prefix + blockText(value, column + step, step));
}

/** `key:` with no value gets one: a scalar after the colon, or an indented block below. */
function fillEmptyValue(text: string, pair: Pair<unknown, unknown>, value: unknown, step: number): string {
  const keyRange = rangeOf(pair.key);
  if (!keyRange) throw new Error('key without a source range');
  const valueRange = rangeOf(pair.value);
  const explicit = valueRange && valueRange[1] > valueRange[0] ? valueRange : undefined;
  const column = keyRange[0] - lineStart(text, keyRange[0]);
  if (value === null || typeof value !== 'object') {
    if (explicit) return splice(text, explicit[0], explicit[1], flowText(value));
    const colon = text.indexOf(':', keyRange[1]);
    return splice(text, colon + 1, colon + 1, ` ${flowText(value)}`);
  }
  // `key: null` or `key: ~`: drop the explicit null first.
  let base = text;
  let from = keyRange[1];
  if (explicit) {
    let start = explicit[0];
    while (start > 0 && base[start - 1] === ' ') start--;
    base = splice(base, start, explicit[1], '');
    from = start;
  }
  const at = lineEnd(base, from);
  const prefix = at > 0 && base[at - 1] !== '\n' ? '\n' : '';
  return splice(base, at, at, prefix + blockText(value, column + step, step));
}

/** Replaces the scalar value of an existing key, keeping a trailing comment on its line. */
function replaceValue(text: string, pair: Pair<unknown, unknown>, value: unknown): string {
  if (value !== null && typeof value === 'object') throw new Error('replacing a collection is not spliced');
  const node = pair.value;
  if (node === null || node === undefined || (isScalar(node) && node.value === null)) {
    const range = rangeOf(node);
    if (range && range[1] > range[0]) return splice(text, range[0], range[1], flowText(value));
    const keyRange = rangeOf(pair.key);
    if (!keyRange) throw new Error('key without a source range');
    const colon = text.indexOf(':', keyRange[1]);
    return splice(text, colon + 1, colon + 1, ` ${flowText(value)}`);
  }
  if (!isScalar(node) || node.type === 'BLOCK_FOLDED' || node.type === 'BLOCK_LITERAL') throw new Error('not a one-line scalar');
  const range = rangeOf(node);
  if (!range) throw new Error('scalar without a source range');
  return splice(text, range[0], range[1], flowText(value));
}

function appendToSequence(
  text: string,
  sequence: YAMLSeq<unknown>,
  value: unknown,
  step: number,
  document: Document,
  path: YamlPath,
): string {
  const range = rangeOf(sequence);
  if (!range) throw new Error('sequence without a source range');
  const last = sequence.items[sequence.items.length - 1];
  if (sequence.flow) {
    if (last) return splice(text, itemContentEnd(last), itemContentEnd(last), `, ${flowText(value)}`);
    const owner = path.length > 0 ? findPair(document, path) : undefined;
    if (owner && !isFlowContext(text, owner)) {
      // `key: []` under a block key: `key:` then the block sequence.
      const keyStart = rangeOf(owner.key)?.[0] ?? 0;
      const column = keyStart - lineStart(text, keyStart);
      let from = range[0];
      while (from > 0 && text[from - 1] === ' ') from--;
      const withoutBrackets = splice(text, from, range[1], '');
      const at = lineEnd(withoutBrackets, from);
      const prefix = at > 0 && withoutBrackets[at - 1] !== '\n' ? '\n' : '';
      return splice(withoutBrackets, at, at, prefix + blockText([value], column + step, step));
    }
    return splice(text, range[0], range[1], `[${flowText(value)}]`);
  }
  const first = sequence.items[0];
  if (!first || !last) throw new Error('block sequence without items');
  const dash = itemStart(text, sequence, first);
  const column = dash - lineStart(text, dash);
  const at = blockItemEnd(text, last, column);
  const prefix = at > 0 && text[at - 1] !== '\n' ? '\n' : '';
  return splice(text, at, at, prefix + blockText([value], column, step));
}

function findPair(document: Document, path: YamlPath): Pair<unknown, unknown> | undefined {
  const parent = path.length === 1 ? document.contents : document.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  return parent.items.find((item) => keyOf(item) === path[path.length - 1]);
}

function spliceDelete(text: string, document: Document, path: YamlPath): string {
  const parentPath = path.slice(0, -1);
  const parent = (parentPath.length === 0 ? document.contents : document.getIn(parentPath, true)) as Node | null;
  const key = path[path.length - 1];
  let collection: Collection;
  let index: number;
  if (isMap(parent)) {
    collection = parent;
    index = parent.items.findIndex((item) => keyOf(item) === key);
  } else if (isSeq(parent) && typeof key === 'number') {
    collection = parent;
    index = key < parent.items.length ? key : -1;
  } else throw new Error('not a collection');
  if (index === -1) return text;
  const items = collection.items as unknown[];
  const item = items[index];
  const range = rangeOf(collection);
  if (!range) throw new Error('collection without a source range');

  if (collection.flow) {
    if (items.length === 1) return splice(text, range[0], range[1], isMap(collection) ? '{}' : '[]');
    if (index > 0) return splice(text, itemContentEnd(items[index - 1]), itemContentEnd(item), '');
    return splice(text, itemStart(text, collection, item), itemStart(text, collection, items[1]), '');
  }

  const start = itemStart(text, collection, item);
  const column = start - lineStart(text, start);
  const lead = blockItemLead(text, start, column);
  let end = blockItemEnd(text, item, column);
  if (items.length === 1) {
    // The collection becomes empty: `key: {}` / `key: []` keeps the data a map or a list.
    const owner = parentPath.length > 0 ? findPair(document, parentPath) : undefined;
    const removed = splice(text, lead, end, '');
    if (!owner) return removed;
    const keyRange = rangeOf(owner.key);
    if (!keyRange) throw new Error('key without a source range');
    const colon = removed.indexOf(':', keyRange[1]);
    return splice(removed, colon + 1, colon + 1, isMap(collection) ? ' {}' : ' []');
  }
  // Keep one blank line where the item was between two blank lines (or first, before one).
  const before = lead > 0 ? lineText(text, lineStart(text, lead - 1)) : '';
  const first = index === 0;
  if (end < text.length && isBlank(lineText(text, end)) && (first || isBlank(before))) end = lineEnd(text, end);
  return splice(text, lead, end, '');
}
