import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzip, gunzipSync } from 'node:zlib';
import { canonicalJson } from './canonical-json.js';
import { sha256Hex } from './seal-receipt.js';

/** The file receipts are appended to. */
export const CURRENT_FILE = 'audit.jsonl';
/** The writer lock (`{"pid":…,"hostname":…}`), created with O_EXCL. */
export const LOCK_FILE = 'audit.lock';
/** Where verification starts once retention deleted the oldest files. */
export const ANCHOR_FILE = 'audit-anchor.json';

const rotatedPattern = /^audit-(\d{12,})\.jsonl(\.gz)?$/;

/**
 * Name of a rotated file: the seq of its first receipt, zero-padded so that names sort like seqs.
 *
 * @example rotatedFileName(1, true) // 'audit-000000000001.jsonl.gz'
 */
export function rotatedFileName(firstSeq: number, compressed = false): string {
  return `audit-${String(firstSeq).padStart(12, '0')}.jsonl${compressed ? '.gz' : ''}`;
}

/** One file of the log, in chain order. */
export interface AuditFile {
  name: string;
  path: string;
  /** From the name; undefined for the current file (its first line says). */
  firstSeq: number | undefined;
  compressed: boolean;
  current: boolean;
}

/**
 * The files of a log in chain order: rotated files by first seq, then `audit.jsonl` when it exists.
 * When a rotated file exists both plain and gzipped (compression was interrupted after the rename)
 * the gzipped one is listed: it is renamed into place only once complete and synced.
 *
 * @example for (const file of listAuditFiles(directory)) names.push(file.name);
 */
export function listAuditFiles(directory: string): AuditFile[] {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const rotated = new Map<number, AuditFile>();
  let current: AuditFile | undefined;
  for (const name of names) {
    if (name === CURRENT_FILE) {
      current = { name, path: join(directory, name), firstSeq: undefined, compressed: false, current: true };
      continue;
    }
    const match = rotatedPattern.exec(name);
    if (!match) continue;
    const firstSeq = Number(match[1]);
    const compressed = match[2] !== undefined;
    const existing = rotated.get(firstSeq);
    if (existing?.compressed) continue;
    rotated.set(firstSeq, { name, path: join(directory, name), firstSeq, compressed, current: false });
  }
  const files = [...rotated.values()].sort((left, right) => left.firstSeq! - right.firstSeq!);
  if (current) files.push(current);
  return files;
}

/**
 * The text of a log file, gunzipped when compressed.
 *
 * @example const { lines } = splitLines(await readAuditFile(file));
 */
export async function readAuditFile(file: Pick<AuditFile, 'path' | 'compressed'>): Promise<string> {
  const bytes = await readFile(file.path);
  if (!file.compressed) return bytes.toString('utf8');
  const plain = await new Promise<Buffer>((resolve, reject) => gunzip(bytes, (error, result) => (error ? reject(error) : resolve(result))));
  return plain.toString('utf8');
}

/**
 * Synchronous `readAuditFile`, for `openAuditLog`.
 *
 * @example const text = readAuditFileSync({ path: '/audit/audit-000000000001.jsonl.gz', compressed: true });
 */
export function readAuditFileSync(file: Pick<AuditFile, 'path' | 'compressed'>): string {
  const bytes = readFileSync(file.path);
  return (file.compressed ? gunzipSync(bytes) : bytes).toString('utf8');
}

/**
 * Splits a file into complete lines; `torn` holds the bytes after the last newline, if any.
 *
 * @example splitLines('a\nb\nc') // { lines: ['a', 'b'], torn: 'c' }
 */
export function splitLines(text: string): { lines: string[]; torn: string | undefined } {
  const lines = text.split('\n');
  const last = lines.pop();
  return { lines, torn: last === '' ? undefined : last };
}

/**
 * The last receipt of the files retention deleted. `digest` covers the other three fields so that
 * an edit of any byte of the anchor file is caught like an edit of a receipt.
 */
export interface AuditAnchor {
  seq: number;
  hash: string;
  time: string;
  digest: string;
}

/**
 * The anchor file's exact content (canonical JSON and a newline).
 *
 * @example writeFileSync(join(directory, ANCHOR_FILE), formatAnchor({ seq: 1000, hash, time }));
 */
export function formatAnchor({ seq, hash, time }: { seq: number; hash: string; time: string }): string {
  return `${canonicalJson({ digest: sha256Hex(canonicalJson({ hash, seq, time })), hash, seq, time })}\n`;
}

/**
 * Parses an anchor file; `problem` says what is wrong with it.
 *
 * @example const parsed = parseAnchor(text); if ('problem' in parsed) report(parsed.problem);
 */
export function parseAnchor(text: string): { anchor: AuditAnchor } | { problem: string } {
  let value: AuditAnchor;
  try {
    value = JSON.parse(text) as AuditAnchor;
  } catch {
    return { problem: 'the anchor file is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || !Number.isSafeInteger(value.seq) || typeof value.hash !== 'string') {
    return { problem: 'the anchor file lacks seq or hash' };
  }
  if (typeof value.time !== 'string' || formatAnchor(value) !== text) {
    return { problem: 'the anchor file does not match its digest (edited)' };
  }
  return { anchor: value };
}

/**
 * The anchor of a directory, if retention wrote one.
 *
 * @example const { anchor } = readAnchorSync(directory); const startSeq = (anchor?.seq ?? 0) + 1;
 */
export function readAnchorSync(directory: string): { anchor?: AuditAnchor; problem?: string } {
  let text: string;
  try {
    text = readFileSync(join(directory, ANCHOR_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  return parseAnchor(text);
}
