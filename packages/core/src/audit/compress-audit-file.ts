import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { nodeAuditFileSystem } from './audit-file-system.js';
import { rotatedFileName } from './list-audit-files.js';

/**
 * Gzips a rotated file in place of the plain one: write `<name>.gz.tmp`, fsync it, rename it to
 * `<name>.gz`, fsync the directory, unlink the plain file, fsync the directory.
 *
 * INVARIANT: a crash at any step leaves the plain file, or the complete gz file (possibly beside
 * the plain one, or a stray `.gz.tmp`); `openAuditLog` deletes the leftovers and `listAuditFiles`
 * prefers the gz file. The plain file is never removed before its gz copy is durable.
 *
 * @example await compressAuditFile('/var/lib/palisade/audit', 1);
 */
export async function compressAuditFile(directory: string, firstSeq: number): Promise<void> {
  const plain = join(directory, rotatedFileName(firstSeq));
  const compressed = join(directory, rotatedFileName(firstSeq, true));
  const temporary = `${compressed}.tmp`;
  try {
    await pipeline(createReadStream(plain), createGzip(), createWriteStream(temporary));
    const handle = await open(temporary, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, compressed);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await nodeAuditFileSystem.syncDirectory(directory);
  await unlink(plain);
  await nodeAuditFileSystem.syncDirectory(directory);
}
