import type { Store } from '../store/store.js';
import { ANCHOR_FILE, type AuditAnchor, listAuditFiles, readAnchorSync, readAuditFile, splitLines } from './list-audit-files.js';
import { GENESIS_HASH, parseReceiptLine } from './seal-receipt.js';

export interface VerifyAuditOptions {
  directory: string;
  /**
   * The audit index, as a witness of how far the log went: a log that ends before the index's head
   * was truncated (cut at a line boundary, which the files alone cannot show).
   */
  index?: Pick<Store, 'auditHead'>;
}

/** The first thing wrong with a log. */
export interface AuditProblem {
  /** File name inside the directory. */
  file: string;
  /** 1-based line number (one past the last line for a missing tail). */
  line: number;
  /** Seq of the receipt concerned, when known. */
  seq: number | undefined;
  /** What is wrong, e.g. `hash mismatch: …`, `broken link: …`, `seq gap: …`, `truncated: …`. */
  problem: string;
}

export interface AuditVerification {
  ok: boolean;
  /** Files walked (rotated files and `audit.jsonl`). */
  files: number;
  /** Receipts that verified before the first problem (all of them when `ok`). */
  receipts: number;
  /** Seq of the first receipt kept (after the anchor), if any. */
  firstSeq: number | undefined;
  /** Seq and hash of the last receipt that verified (the anchor's, or 0 and 64 zeros, when none did). */
  lastSeq: number;
  lastHash: string;
  /** Where verification started when retention deleted older files. */
  anchor: Omit<AuditAnchor, 'digest'> | undefined;
  firstProblem: AuditProblem | undefined;
}

/**
 * Verifies an audit directory end to end: every rotated file (gzipped or plain) in seq order, then
 * `audit.jsonl`. Each line must be exactly the canonical JSON of its value (so any edited byte is
 * caught, even one that keeps the JSON valid), its hash must recompute, its `prev` must be the
 * previous receipt's hash and its seq the next one, across files and from the anchor retention
 * left. With `index`, a log ending before the index's head is reported as truncated. Stops at the
 * first problem.
 *
 * @example
 * const result = await verifyAudit({ directory: '.palisade/audit', index: store });
 * if (!result.ok) report(`${result.firstProblem.file}:${result.firstProblem.line} ${result.firstProblem.problem}`);
 */
export async function verifyAudit(options: VerifyAuditOptions): Promise<AuditVerification> {
  const { directory, index } = options;
  const files = listAuditFiles(directory);
  const { anchor, problem: anchorProblem } = readAnchorSync(directory);
  const result: AuditVerification = {
    ok: true,
    files: files.length,
    receipts: 0,
    firstSeq: undefined,
    lastSeq: anchor?.seq ?? 0,
    lastHash: anchor?.hash ?? GENESIS_HASH,
    anchor: anchor ? { seq: anchor.seq, hash: anchor.hash, time: anchor.time } : undefined,
    firstProblem: undefined,
  };
  const fail = (file: string, line: number, seq: number | undefined, problem: string): AuditVerification => {
    result.ok = false;
    result.firstProblem = { file, line, seq, problem };
    return result;
  };
  if (anchorProblem) return fail(ANCHOR_FILE, 1, undefined, anchorProblem);

  let headSeen: { hash: string; file: string; line: number } | undefined;
  const head = index ? await index.auditHead() : undefined;
  let lastFile = files.at(-1)?.name ?? 'audit.jsonl';
  let lastLine = 0;
  for (const file of files) {
    let text: string;
    try {
      text = await readAuditFile(file);
    } catch (error) {
      return fail(file.name, 1, file.firstSeq, `unreadable: ${(error as Error).message}`);
    }
    const { lines, torn } = splitLines(text);
    if (lines.length === 0 && torn === undefined && !file.current) {
      return fail(file.name, 1, file.firstSeq, 'empty rotated file: rotation never leaves one (its receipts were deleted)');
    }
    for (let number = 0; number < lines.length; number++) {
      const lineNumber = number + 1;
      const line = lines[number]!;
      if (line === '') return fail(file.name, lineNumber, result.lastSeq + 1, 'empty line: a receipt was deleted or a newline inserted');
      const parsed = parseReceiptLine(line);
      if (!parsed.ok) return fail(file.name, lineNumber, result.lastSeq + 1, parsed.problem);
      const { seq, prev, hash } = parsed.receipt;
      // Files an interrupted retention run left before the anchor: start at them, unlinked.
      const leftover = result.firstSeq === undefined && anchor !== undefined && seq <= anchor.seq;
      const expected = leftover ? seq : result.lastSeq + 1;
      if (seq !== expected) {
        const problem =
          seq > expected
            ? result.firstSeq === undefined
              ? `seq gap: the log starts at seq ${seq} but ${anchor ? `the anchor ends at seq ${anchor.seq}` : 'there is no anchor'} (receipts or files were deleted)`
              : `seq gap: expected seq ${expected}, found ${seq} (receipts were deleted)`
            : `seq out of order: expected seq ${expected}, found ${seq} (receipts were reordered or duplicated)`;
        return fail(file.name, lineNumber, seq, problem);
      }
      if (!leftover && prev !== result.lastHash) {
        const previous = result.firstSeq === undefined && anchor ? `the anchor (seq ${anchor.seq})` : `receipt ${seq - 1}`;
        return fail(file.name, lineNumber, seq, `broken link: prev is ${prev} but ${previous} has hash ${result.lastHash}`);
      }
      if (number === 0 && file.firstSeq !== undefined && seq !== file.firstSeq) {
        return fail(file.name, lineNumber, seq, `file name says the first seq is ${file.firstSeq} but its first receipt is seq ${seq}`);
      }
      if (anchor && seq === anchor.seq && hash !== anchor.hash) {
        return fail(file.name, lineNumber, seq, `anchor mismatch: the anchor says seq ${seq} has hash ${anchor.hash}, the log has ${hash}`);
      }
      if (head && seq === head.seq) headSeen = { hash, file: file.name, line: lineNumber };
      result.firstSeq ??= seq;
      result.lastSeq = seq;
      result.lastHash = hash;
      result.receipts++;
    }
    if (torn !== undefined) {
      return fail(
        file.name,
        lines.length + 1,
        result.lastSeq + 1,
        `truncated line: ${Buffer.byteLength(torn)} bytes without a newline at the end of the file (a torn write; openAuditLog trims it)`,
      );
    }
    lastFile = file.name;
    lastLine = lines.length;
  }
  if (head) {
    if (head.seq > result.lastSeq) {
      return fail(lastFile, lastLine + 1, head.seq, `truncated: the index knows seq ${head.seq} but the log ends at seq ${result.lastSeq}`);
    }
    if (headSeen && headSeen.hash !== head.hash) {
      const problem = `index mismatch: the index says seq ${head.seq} has hash ${head.hash}, the log has ${headSeen.hash} (the log was rewritten)`;
      return fail(headSeen.file, headSeen.line, head.seq, problem);
    }
  }
  return result;
}
