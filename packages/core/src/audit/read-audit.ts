import { AuditFailedError } from '../errors/audit-failed-error.js';
import { listAuditFiles, readAuditFile, splitLines } from './list-audit-files.js';
import type { AuditReceipt } from './seal-receipt.js';

export interface ReadAuditOptions {
  directory: string;
  /** First seq to yield (default 1, or the oldest kept). */
  fromSeq?: number;
  /** Last seq to yield (default: the end of the log). */
  toSeq?: number;
  /** Yields only the receipts it returns true for. */
  filter?: (receipt: AuditReceipt) => boolean;
}

/** A receipt with the exact line it was read from and where. */
export interface AuditLine {
  receipt: AuditReceipt;
  /** The line as written, without its newline. */
  line: string;
  file: string;
  /** 1-based line number in `file`. */
  lineNumber: number;
}

/**
 * Reads receipts in seq order across the rotated files (plain or gzipped) and `audit.jsonl`,
 * without an index: for re-indexing, tailing and queries. It does not verify the chain (see
 * `verifyAudit`); a partial last line (a write in progress) is skipped, an unparseable complete
 * line throws `AuditFailedError`.
 *
 * @example
 * for await (const receipt of readAudit({ directory, fromSeq: 1000, filter: (r) => r.action === 'block' })) show(receipt);
 */
export async function* readAudit(options: ReadAuditOptions): AsyncGenerator<AuditReceipt> {
  for await (const { receipt } of readAuditLines(options)) {
    if (!options.filter || options.filter(receipt)) yield receipt;
  }
}

/** How often a reader re-lists the directory when a writer rotated or compressed a file under it. */
const maxRelists = 10;

/**
 * `readAudit` with each receipt's raw line and position. Tolerates a writer rotating, compressing
 * or deleting files while it reads: a vanished file, or a file that starts after the next expected
 * seq, makes it list the directory again and continue from the next seq.
 *
 * @example
 * for await (const { receipt, line } of readAuditLines({ directory, fromSeq: head + 1 })) rows.push(toIndexRow(receipt, receipt.seq, receipt.hash, line));
 */
export async function* readAuditLines(options: Omit<ReadAuditOptions, 'filter'>): AsyncGenerator<AuditLine> {
  const { directory, fromSeq = 1, toSeq = Number.POSITIVE_INFINITY } = options;
  let next = fromSeq;
  let relists = 0;
  listing: while (next <= toSeq) {
    const files = listAuditFiles(directory);
    for (let index = 0; index < files.length; index++) {
      const file = files[index]!;
      const following = files[index + 1];
      if (following?.firstSeq !== undefined && following.firstSeq <= next) continue;
      let text: string;
      try {
        text = await readAuditFile(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' && relists++ < maxRelists) continue listing;
        throw new AuditFailedError({ directory, message: `Cannot read the audit file ${file.path}.`, cause: error });
      }
      const { lines } = splitLines(text);
      for (let number = 0; number < lines.length; number++) {
        const line = lines[number]!;
        let receipt: AuditReceipt;
        try {
          receipt = JSON.parse(line) as AuditReceipt;
        } catch (error) {
          throw new AuditFailedError({
            directory,
            message: `${file.path}:${number + 1} is not valid JSON.`,
            hint: 'Run verifyAudit on the directory to find every damaged receipt.',
            cause: error,
          });
        }
        if (typeof receipt.seq !== 'number' || receipt.seq < next) continue;
        // A gap after the first file: the writer renamed the file we were about to read.
        if (receipt.seq > next && index > 0 && next > fromSeq && relists++ < maxRelists) continue listing;
        if (receipt.seq > toSeq) return;
        next = receipt.seq + 1;
        yield { receipt, line, file: file.name, lineNumber: number + 1 };
      }
    }
    return;
  }
}
