import { open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditFailedError } from '../errors/audit-failed-error.js';
import { nodeAuditFileSystem } from './audit-file-system.js';
import {
  ANCHOR_FILE,
  formatAnchor,
  listAuditFiles,
  readAnchorSync,
  readAuditFile,
  rotatedFileName,
  splitLines,
} from './list-audit-files.js';
import { parseReceiptLine } from './seal-receipt.js';

export interface AuditRetentionOptions {
  directory: string;
  /** Keep at most this many rotated files (the current file is not counted). */
  maxFiles?: number;
  /** Delete rotated files last written more than this many milliseconds before `now`. */
  maxAge?: number;
  now?: number;
}

/**
 * Deletes the oldest rotated files beyond `maxFiles` or older than `maxAge`, after atomically
 * writing `audit-anchor.json` with the seq, hash and time of the last receipt of the newest file
 * it deletes (tmp file, fsync, rename, fsync directory), so that verification starts there.
 * Returns the names deleted.
 *
 * INVARIANT: only a prefix of the rotated files is deleted (never a file in the middle of the
 * chain, never `audit.jsonl`), and the anchor is durable before the first unlink. A crash between
 * the two leaves files the anchor already covers; the next run deletes them.
 *
 * @example await applyAuditRetention({ directory, maxFiles: 30 });
 */
export async function applyAuditRetention(options: AuditRetentionOptions): Promise<string[]> {
  const { directory, maxFiles, maxAge, now = Date.now() } = options;
  if (maxFiles === undefined && maxAge === undefined) return [];
  const rotated = listAuditFiles(directory).filter((file) => !file.current);
  const { anchor } = readAnchorSync(directory);
  let count = maxFiles === undefined ? 0 : Math.max(0, rotated.length - maxFiles);
  if (maxAge !== undefined) {
    while (count < rotated.length && (await stat(rotated[count]!.path)).mtimeMs < now - maxAge) count++;
  }
  // Files an earlier, interrupted run already covered with the anchor.
  while (anchor && count < rotated.length - 1 && rotated[count + 1]!.firstSeq! - 1 <= anchor.seq) count++;
  if (count === 0) return [];

  const newest = rotated[count - 1]!;
  const { lines } = splitLines(await readAuditFile(newest));
  const last = lines.length > 0 ? parseReceiptLine(lines[lines.length - 1]!) : undefined;
  if (!last?.ok) {
    throw new AuditFailedError({
      directory,
      message: `Retention stopped: the last receipt of ${newest.name} does not verify (${last ? last.problem : 'the file is empty'}), so no anchor can be written.`,
      hint: 'Run verifyAudit on the directory and keep the files until the problem is understood.',
    });
  }
  if (!anchor || anchor.seq < last.receipt.seq) {
    const temporary = join(directory, `${ANCHOR_FILE}.tmp`);
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(formatAnchor({ seq: last.receipt.seq, hash: last.receipt.hash, time: last.receipt.time }));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, join(directory, ANCHOR_FILE));
    await nodeAuditFileSystem.syncDirectory(directory);
  }
  const deleted: string[] = [];
  for (const file of rotated.slice(0, count)) {
    await rm(join(directory, rotatedFileName(file.firstSeq!, true)), { force: true });
    await rm(join(directory, rotatedFileName(file.firstSeq!)), { force: true });
    deleted.push(file.name);
  }
  await nodeAuditFileSystem.syncDirectory(directory);
  return deleted;
}
