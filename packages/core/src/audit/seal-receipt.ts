import { hash as digest } from 'node:crypto';
import type { Action, Boundary } from '../policy/types.js';
import type { AuditIndexRow } from '../store/store.js';
import { canonicalJson } from './canonical-json.js';

/** `prev` of the very first receipt of a log: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * What a caller hands to `AuditLog.append`: plain JSON data with at least these four fields.
 * Every other field (detections, contentHash, content, data, …) passes through unchanged.
 * `seq`, `prev` and `hash` are assigned by the log; values given for them are ignored.
 */
export interface AuditRecord {
  /** `decision`, `approval.approved`, `budget.exceeded`, … */
  kind: string;
  /** ISO time of the event. */
  time: string;
  eventId: string;
  /** `''` for events without a tenant. */
  tenantId: string;
  appId?: string;
  userId?: string;
  boundary?: Boundary;
  tool?: string;
  action?: Action;
  /** Deciding rule, `policyId/ruleName`. */
  rule?: string;
  policyId?: string;
  policyVersion?: string;
  [field: string]: unknown;
}

/** A receipt as written: the record plus its place in the chain. */
export interface AuditReceipt extends AuditRecord {
  /** Position in the log, contiguous from 1 across every file. */
  seq: number;
  /** `hash` of the receipt before this one (`GENESIS_HASH` for seq 1). */
  prev: string;
  /** SHA-256 (hex) of the canonical JSON of this receipt without `hash`. */
  hash: string;
}

/** A receipt ready to be written: `line` is its canonical JSON, without the trailing newline. */
export interface SealedReceipt {
  hash: string;
  line: string;
}

/**
 * SHA-256 of a string (UTF-8), as 64 lowercase hex digits.
 *
 * @example sha256Hex('') // 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
 */
export function sha256Hex(text: string): string {
  return digest('sha256', text, 'hex');
}

/** Characters JSON.stringify escapes (quote, backslash, controls) or checks (surrogates); other strings are quoted as they are. */
const needsEscape = /["\\\u0000-\u001f\ud800-\udfff]/;
/** Deeper than this, sealing defers to `canonicalJson` for the whole record (it also reports cycles). */
const maxFastDepth = 64;
const tooDeep = Symbol('too deep');

/**
 * `canonicalJson` without its cycle bookkeeping, for the append hot path (about 4x faster on a
 * typical receipt): the same output for every value, and the same TypeError for values JSON cannot
 * carry. Nesting deeper than `maxFastDepth` (or a cycle) throws `tooDeep` and `sealReceipt`
 * serialises the whole record with `canonicalJson` instead, so that its depth limit applies as is. A property test holds the two to the same bytes; verification uses
 * `canonicalJson` itself, so a fault here shows up as a failed verification, never as a silent one.
 */
function fastCanonical(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return needsEscape.test(value) ? JSON.stringify(value) : `"${value}"`;
    case 'number':
      // Non-finite numbers: canonicalJson throws its TypeError.
      return Number.isFinite(value) ? (value === 0 ? '0' : String(value)) : canonicalJson(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (depth > maxFastDepth) throw tooDeep;
      if (Array.isArray(value)) {
        let out = '[';
        for (let index = 0; index < value.length; index++) {
          const item: unknown = value[index];
          if (index > 0) out += ',';
          out += item === undefined ? 'null' : fastCanonical(item, depth + 1);
        }
        return `${out}]`;
      }
      if (value instanceof Date) return canonicalJson(value);
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      sortKeys(keys);
      let out = '{';
      for (const key of keys) {
        const member = record[key];
        if (member === undefined) continue;
        if (out.length > 1) out += ',';
        out += `${quoteKey(key)}:${fastCanonical(member, depth + 1)}`;
      }
      return `${out}}`;
    }
    default:
      return canonicalJson(value);
  }
}

/**
 * Seals a record into the chain: `hash = sha256(canonicalJson({...record, seq, prev}))` and
 * `line = canonicalJson({...record, seq, prev, hash})`.
 *
 * INVARIANT: the result is byte-identical to calling `canonicalJson` on those objects (a property
 * test holds it to that); the top-level members are serialised once and the `hash` member is
 * spliced in at its sorted place, so one record costs one serialisation and one hash.
 *
 * @example
 * const { hash, line } = sealReceipt({ kind: 'decision', time, eventId: 'e1', tenantId: 'acme' }, 1, GENESIS_HASH);
 */
export function sealReceipt(record: AuditRecord, seq: number, prev: string): SealedReceipt {
  try {
    return sealFast(record, seq, prev);
  } catch (error) {
    if (error !== tooDeep) throw error;
  }
  // Deep nesting or a cycle: the reference serialiser decides, exactly as verification will.
  const base = { ...record, seq, prev, hash: undefined };
  const hash = sha256Hex(canonicalJson(base));
  return { hash, line: canonicalJson({ ...base, hash }) };
}

function sealFast(record: AuditRecord, seq: number, prev: string): SealedReceipt {
  const keys: string[] = [];
  for (const key of Object.keys(record)) {
    if (record[key] !== undefined && key !== 'seq' && key !== 'prev' && key !== 'hash') keys.push(key);
  }
  keys.push('prev', 'seq');
  sortKeys(keys);
  // Members sorting before and after `hash`: the line is the hashed body with `hash` spliced in.
  let before = '';
  let after = '';
  for (const key of keys) {
    const text =
      key === 'prev'
        ? `"prev":${JSON.stringify(prev)}`
        : key === 'seq'
          ? `"seq":${seq}`
          : `${quoteKey(key)}:${fastCanonical(record[key], 1)}`;
    if (key < 'hash') before = before === '' ? text : `${before},${text}`;
    else after = after === '' ? text : `${after},${text}`;
  }
  const hash = sha256Hex(before === '' ? `{${after}}` : `{${before},${after}}`);
  const line = `{${before === '' ? '' : `${before},`}"hash":"${hash}",${after}}`;
  return { hash, line };
}

/**
 * Sorts like canonicalJson's `keys.sort()` (by UTF-16 code units, which is what `<` compares):
 * an insertion sort, faster than the generic sort for the couple of dozen names of a receipt
 * (larger objects use the generic sort).
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 32) {
    keys.sort();
    return;
  }
  for (let index = 1; index < keys.length; index++) {
    const key = keys[index]!;
    let at = index - 1;
    while (at >= 0 && keys[at]! > key) {
      keys[at + 1] = keys[at]!;
      at--;
    }
    keys[at + 1] = key;
  }
}

const quotedKeys = new Map<string, string>();

/** JSON.stringify of a member name, remembered: receipts repeat the same few dozen names. */
function quoteKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < 4096) quotedKeys.set(key, quoted);
  }
  return quoted;
}

export type ParsedReceiptLine = { ok: true; receipt: AuditReceipt } | { ok: false; problem: string };

const hexHash = /^[0-9a-f]{64}$/;

/**
 * Checks one line of a log on its own: it parses, is exactly the canonical JSON of what it parses
 * to (so a single edited byte cannot hide behind a different spelling of the same value), carries
 * `seq`, `prev` and `hash` of the right shapes, and `hash` is the hash of the rest. Links between
 * lines are checked by the caller.
 *
 * @example
 * const parsed = parseReceiptLine(line); if (!parsed.ok) report(parsed.problem);
 */
export function parseReceiptLine(line: string): ParsedReceiptLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, problem: 'unparseable: the line is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problem: 'not a receipt: the line is not a JSON object' };
  }
  const receipt = value as AuditReceipt;
  let canonical: string;
  try {
    canonical = canonicalJson(receipt);
  } catch {
    canonical = '';
  }
  if (canonical !== line) {
    return { ok: false, problem: 'not canonical JSON: the line differs from the canonical form of its value (edited or reformatted)' };
  }
  if (!Number.isSafeInteger(receipt.seq) || receipt.seq < 1) return { ok: false, problem: 'not a receipt: seq is missing or invalid' };
  if (typeof receipt.prev !== 'string' || !hexHash.test(receipt.prev)) {
    return { ok: false, problem: 'not a receipt: prev is missing or not a SHA-256 hex digest' };
  }
  if (typeof receipt.hash !== 'string' || !hexHash.test(receipt.hash)) {
    return { ok: false, problem: 'not a receipt: hash is missing or not a SHA-256 hex digest' };
  }
  const expected = sha256Hex(canonicalJson({ ...receipt, hash: undefined }));
  if (expected !== receipt.hash) {
    return { ok: false, problem: `hash mismatch: the receipt's content hashes to ${expected}, not to its recorded hash ${receipt.hash}` };
  }
  return { ok: true, receipt };
}

/**
 * The index row of a receipt: `line` is the receipt as written, without its newline.
 *
 * @example
 * await store.indexReceipts([toIndexRow(record, seq, hash, line)]);
 */
export function toIndexRow(record: AuditRecord, seq: number, hash: string, line: string): AuditIndexRow {
  return {
    seq,
    hash,
    eventId: String(record.eventId),
    time: Date.parse(record.time),
    tenantId: record.tenantId,
    appId: record.appId,
    userId: record.userId,
    boundary: record.boundary,
    tool: record.tool,
    action: record.action,
    rule: record.rule,
    kind: record.kind,
    receipt: line,
  };
}
