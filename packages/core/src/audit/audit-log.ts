import {
  closeSync,
  constants,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { AuditConfig } from '../config/config-schema.js';
import { AuditFailedError } from '../errors/audit-failed-error.js';
import { PalisadeError } from '../errors/palisade-error.js';
import type { PalisadeEvent } from '../events/events.js';
import type { AuditIndexRow, Store } from '../store/store.js';
import type { Severity } from '../types.js';
import { type AuditLock, acquireAuditLock } from './acquire-audit-lock.js';
import { applyAuditRetention } from './apply-audit-retention.js';
import { type AuditFileSystem, nodeAuditFileSystem } from './audit-file-system.js';
import { compressAuditFile } from './compress-audit-file.js';
import {
  ANCHOR_FILE,
  CURRENT_FILE,
  listAuditFiles,
  readAnchorSync,
  readAuditFileSync,
  rotatedFileName,
  splitLines,
} from './list-audit-files.js';
import { readAuditLines } from './read-audit.js';
import { type AuditRecord, GENESIS_HASH, parseReceiptLine, sealReceipt, toIndexRow } from './seal-receipt.js';

export type AuditFsyncPolicy = 'per_receipt' | 'batch' | 'none';
export type AuditFailureMode = 'fail_closed' | 'backpressure' | 'drop';
/** The events the log emits through `onEvent`. */
export type AuditEvent = Extract<PalisadeEvent, { type: 'audit.failed' | 'audit.recovered' | 'audit.dropped' }>;

/**
 * Options of `openAuditLog`; the camelCase twin of the `audit` section of palisade.yaml (see
 * `auditLogOptionsFromConfig`). Durations are milliseconds, sizes bytes.
 */
export interface AuditLogOptions {
  directory: string;
  /**
   * When a receipt counts as durable: `batch` (default) is group commit, one fdatasync per batch;
   * `per_receipt` one fdatasync per receipt; `none` as soon as write() returned (page cache only).
   */
  fsync?: AuditFsyncPolicy;
  /**
   * While the disk refuses writes, receipts wait in memory and writes are retried with backoff.
   * `fail_closed` (default) and `backpressure` never drop: past `maxPending` `append` still
   * accepts and `waitForCapacity()` lets the caller wait; `drop` drops new receipts past
   * `maxPending`, counts them and emits `audit.dropped`.
   */
  onFailure?: AuditFailureMode;
  /** Receipts appended but not yet durable before the queue counts as full. Default 10,000. */
  maxPending?: number;
  /**
   * A batch is written once it holds `maxReceipts` receipts (default 512) or its first receipt
   * waited `maxDelay` ms (default 0: written on the next turn of the event loop, so acknowledgement waits only for the disk). Receipts
   * appended while a batch is being written form the next one.
   */
  batch?: { maxReceipts?: number; maxDelay?: number };
  /** Rotate `audit.jsonl` before it would exceed `maxBytes`, or once its first receipt is `maxAge` ms old. */
  rotate?: { maxBytes?: number; maxAge?: number };
  /** Gzip rotated files in the background. Default true. */
  compress?: boolean;
  /** Delete the oldest rotated files beyond `maxFiles` or older than `maxAge` ms (an anchor keeps the chain verifiable). */
  retention?: { maxAge?: number; maxFiles?: number };
  /** Receives every durable receipt; re-filled from the files when it is behind at open. */
  index?: Pick<Store, 'indexReceipts' | 'auditHead'>;
  /** `audit.failed`, `audit.recovered`, `audit.dropped`. Called after the fact; a throwing callback is ignored. */
  onEvent?: (event: AuditEvent) => void;
  /** Problems that do not stop the log: index updates, rotation, compression, retention, trimmed tails. */
  onError?: (error: AuditFailedError) => void;
  /** Backoff between write retries while the disk fails: from `initialDelay` (default 10 ms) doubling to `maxDelay` (default 1 s). */
  retry?: { initialDelay?: number; maxDelay?: number };
  /** File operations of the writer (tests inject failures). Default: node:fs. */
  fileSystem?: AuditFileSystem;
  /** Clock for rotation by age, retention and event times. Default `Date.now`. */
  now?: () => number;
}

export interface AuditAppendResult {
  /** Position in the log; 0 when the receipt was dropped. */
  seq: number;
  /** The receipt's hash; `''` when it was dropped. */
  hash: string;
  /** True when `onFailure: 'drop'` dropped it because the queue was full. */
  dropped: boolean;
  /**
   * Resolves once the receipt is on disk per the fsync policy. Rejects only when it was dropped,
   * or when `close({ timeout })` gave up on a failing disk. Ignoring it is safe (no unhandled rejection).
   */
  durable: Promise<void>;
}

export interface AuditStats {
  /** Receipts accepted by `append` (dropped ones excluded). */
  appended: number;
  /** Receipts handed to write(). */
  written: number;
  /** Receipts durable per the fsync policy. */
  durable: number;
  /** Appended but not yet durable. */
  pending: number;
  /** Dropped by `onFailure: 'drop'`, or abandoned by `close({ timeout })`. */
  dropped: number;
  /** Bytes written by this process. */
  bytes: number;
  /** Log files: rotated files plus `audit.jsonl`. */
  files: number;
  /** Seq of the last appended receipt. */
  lastSeq: number;
  healthy: boolean;
  /** The last write error, kept after recovery. */
  lastError: string | undefined;
  /** Seq up to which the index holds receipts (undefined without an index). */
  indexedSeq: number | undefined;
}

/** What `openAuditLog` found and repaired. */
export interface AuditRecovery {
  /** Seq and hash the chain continues from. */
  lastSeq: number;
  lastHash: string;
  /** Bytes cut from the end of `audit.jsonl`: a torn last line, or last lines that did not verify. */
  trimmedBytes: number;
  /** Complete lines among them that did not verify (0 for a plain torn write). */
  trimmedLines: number;
  /** Where cut complete lines were saved for inspection (they are never just discarded). */
  trimmedTo: string | undefined;
  /** Pid of the dead process whose lock was taken over. */
  tookOverLockFrom: number | undefined;
  /** Stray files of interrupted compression or retention that were deleted. */
  removedLeftovers: string[];
}

export interface AuditLog {
  readonly directory: string;
  /**
   * False while writes fail (between `audit.failed` and `audit.recovered`). A guard in
   * `fail_closed` mode blocks while this is false.
   */
  readonly healthy: boolean;
  readonly recovery: AuditRecovery;
  /**
   * Seals the record into the chain and queues it; synchronous, no I/O. Throws `AuditFailedError`
   * when the log is closed or the record cannot be serialised.
   */
  append(record: AuditRecord): AuditAppendResult;
  /** Resolves when every receipt appended so far is durable and handed to the index. */
  flush(): Promise<void>;
  /** Resolves when fewer than `maxPending` receipts are pending (at once if so). */
  waitForCapacity(): Promise<void>;
  stats(): AuditStats;
  /**
   * Flushes, waits for background compression and indexing, closes the file and releases the
   * lock. With `timeout`, gives up on a failing disk after that many ms: pending receipts are
   * rejected, counted as dropped, and `close` rejects with `AuditFailedError`.
   */
  close(options?: { timeout?: number }): Promise<void>;
}

/**
 * Maps the validated `audit` section of palisade.yaml onto `AuditLogOptions`.
 *
 * @example
 * const log = openAuditLog({ ...auditLogOptionsFromConfig(config.audit), index: store, onEvent: bus.emit });
 */
export function auditLogOptionsFromConfig(config: AuditConfig): AuditLogOptions {
  return {
    directory: config.directory,
    fsync: config.fsync,
    onFailure: config.on_failure,
    maxPending: config.max_pending,
    batch: { maxReceipts: config.batch.max_receipts, maxDelay: config.batch.max_delay },
    rotate: { maxBytes: config.rotate.max_bytes, maxAge: config.rotate.max_age },
    compress: config.compress,
    retention: { maxAge: config.retention.max_age, maxFiles: config.retention.max_files },
  };
}

/**
 * Opens (or creates) the audit receipt log in `options.directory`: an append-only, hash-chained
 * JSONL file with group commit, rotation, compression and retention.
 *
 * Opening is synchronous: it takes the writer lock (a dead holder's lock is taken over), deletes
 * leftovers of interrupted compression or retention, trims a torn last line of `audit.jsonl`
 * (ftruncate and fsync) and recovers the last seq and hash, from the newest rotated file or the
 * anchor when `audit.jsonl` is empty. Re-indexing and compression of leftovers run in the background.
 *
 * @example
 * const log = openAuditLog({ directory: '.palisade/audit', index: store, onEvent: (event) => alerts.send(event) });
 * const { seq, durable } = log.append({ kind: 'decision', time: new Date().toISOString(), eventId, tenantId: 'acme', action: 'block' });
 * await durable; // on disk (fdatasync'd)
 * await log.close();
 */
export function openAuditLog(options: AuditLogOptions): AuditLog {
  return AuditLogWriter.open(options);
}

/**
 * Receipts that become durable together. Lines are encoded into `chunks` as they are appended, so
 * a pending receipt is a few hundred bytes in a buffer, not a string the garbage collector keeps
 * moving around.
 */
interface Batch {
  firstSeq: number;
  count: number;
  /** The encoded lines, newline included; chunk i is filled up to `sizes[i]`. */
  chunks: Buffer[];
  sizes: number[];
  bytes: number;
  /** Offset in the batch where each line ends (for splitting at rotation). */
  ends: number[];
  rows: AuditIndexRow[] | undefined;
  createdAt: number;
  settled: boolean;
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
}

const noop = (): void => {};
const isPromiseLike = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
/** At open, at most this many bytes of complete lines that do not verify are trimmed; more means damage, not a torn write. */
const maxTrimBytes = 1024 * 1024;
const readChunk = 64 * 1024;
const batchChunk = 64 * 1024;
/** Written batch buffers kept for reuse (4 MiB). */
const maxSpareChunks = 64;

class AuditLogWriter implements AuditLog {
  readonly directory: string;
  readonly recovery: AuditRecovery;

  private readonly currentPath: string;
  private readonly lock: AuditLock;
  private readonly fs: AuditFileSystem;
  private readonly fsyncPolicy: AuditFsyncPolicy;
  private readonly mode: AuditFailureMode;
  private readonly maxPending: number;
  private readonly maxReceipts: number;
  private readonly maxDelay: number;
  private readonly maxBytes: number | undefined;
  private readonly maxAge: number | undefined;
  private readonly compress: boolean;
  private readonly retention: { maxAge?: number; maxFiles?: number };
  private readonly index: Pick<Store, 'indexReceipts' | 'auditHead'> | undefined;
  private readonly onEvent: ((event: AuditEvent) => void) | undefined;
  private readonly onError: ((error: AuditFailedError) => void) | undefined;
  private readonly retryInitial: number;
  private readonly retryMax: number;
  private readonly now: () => number;

  // Chain state. INVARIANT: `seq` and `lastHash` are those of the last appended receipt; appends
  // are synchronous, so seq is contiguous and every receipt links to the one appended before it.
  private seq: number;
  private lastHash: string;

  // Queue. INVARIANT: batches hold contiguous seqs, in order; at most one flush loop runs.
  private readonly queue: Batch[] = [];
  private openBatch: Batch | undefined;
  private lastBatch: Batch | undefined;
  private queuedReceipts = 0;
  private flushing = false;
  private flushRequested = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  // Current file. INVARIANT: bytes [0, filePosition) of audit.jsonl are whole, written lines.
  private fd: number | undefined;
  private openingFd: number | undefined;
  private filePosition: number;
  private fileFirstSeq: number | undefined;
  private fileStartedAt: number;
  private rotatedFiles: number;
  private rotationRetryAt = 0;

  private isHealthy = true;
  private lastError: string | undefined;
  private abortError: AuditFailedError | undefined;
  private wakeRetry: (() => void) | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  private appended = 0;
  private written = 0;
  private durableCount = 0;
  private pending = 0;
  private dropped = 0;
  private bytes = 0;
  private droppedRejection: Promise<void> | undefined;
  private droppedSinceEvent = 0;
  private dropTimer: NodeJS.Timeout | undefined;
  private capacityWaiters: (() => void)[] = [];
  private readonly spareChunks: Buffer[] = [];

  private indexChain: Promise<void> = Promise.resolve();
  private indexNeedsCatchUp = true;
  private indexAhead = false;
  private indexedSeq: number | undefined;
  private maintenance: Promise<void> = Promise.resolve();

  static open(options: AuditLogOptions): AuditLogWriter {
    const settings = validate(options);
    const directory = options.directory;
    try {
      mkdirSync(directory, { recursive: true });
    } catch (error) {
      throw new AuditFailedError({
        directory,
        message: `Cannot create the audit directory ${directory}.`,
        hint: 'Check the path and its permissions, or set `audit.directory` to a writable folder.',
        cause: error,
      });
    }
    const lock = acquireAuditLock(directory);
    try {
      return new AuditLogWriter(options, settings, lock);
    } catch (error) {
      lock.release();
      if (PalisadeError.isInstance(error)) throw error;
      throw new AuditFailedError({
        directory,
        message: `Cannot open the audit log in ${directory}: ${(error as Error).message}.`,
        hint: 'Check that the directory and audit.jsonl are readable and writable by this process.',
        cause: error,
      });
    }
  }

  private constructor(options: AuditLogOptions, settings: ReturnType<typeof validate>, lock: AuditLock) {
    this.directory = options.directory;
    this.currentPath = join(this.directory, CURRENT_FILE);
    this.lock = lock;
    this.fs = options.fileSystem ?? nodeAuditFileSystem;
    this.fsyncPolicy = options.fsync ?? 'batch';
    this.mode = options.onFailure ?? 'fail_closed';
    this.maxPending = settings.maxPending;
    this.maxReceipts = this.fsyncPolicy === 'per_receipt' ? 1 : settings.maxReceipts;
    this.maxDelay = settings.maxDelay;
    this.maxBytes = options.rotate?.maxBytes;
    this.maxAge = options.rotate?.maxAge;
    this.compress = options.compress ?? true;
    this.retention = options.retention ?? {};
    this.index = options.index;
    this.onEvent = options.onEvent;
    this.onError = options.onError;
    this.retryInitial = options.retry?.initialDelay ?? 10;
    this.retryMax = options.retry?.maxDelay ?? 1000;
    this.now = options.now ?? Date.now;

    const removedLeftovers = removeLeftovers(this.directory);
    const current = recoverCurrentFile(this.currentPath);
    try {
      this.recovery = this.recover(current, removedLeftovers);
    } catch (error) {
      closeSync(current.fd);
      throw error;
    }
    this.seq = this.recovery.lastSeq;
    this.lastHash = this.recovery.lastHash;
    this.filePosition = current.size;
    this.fileStartedAt = current.startedAt ?? this.now();
    this.fd = current.fd;
    this.fileFirstSeq = current.firstSeq;
    this.rotatedFiles = listAuditFiles(this.directory).filter((file) => !file.current).length;

    if (this.index) this.enqueueIndex(undefined, this.seq);
    if (this.compress) {
      for (const file of listAuditFiles(this.directory)) {
        if (!file.current && !file.compressed)
          this.enqueueMaintenance(() => compressAuditFile(this.directory, file.firstSeq!), 'Compression');
      }
    }
    this.enqueueRetention();
  }

  /** Where the chain continues: the last receipt of audit.jsonl, else of the newest rotated file, else the anchor. */
  private recover(current: CurrentFile, removedLeftovers: string[]): AuditRecovery {
    let trimmedTo: string | undefined;
    if (current.trimmed && current.trimmedLines > 0) {
      trimmedTo = join(this.directory, `audit-trimmed-${this.now()}.bin`);
      writeFileSync(trimmedTo, current.trimmed);
      this.reportError(
        `Opening the audit log trimmed ${current.trimmedLines} complete line(s) at the end of ${CURRENT_FILE} that did not verify; they were saved to ${trimmedTo}.`,
        undefined,
        'A crash cannot produce such lines; run verifyAudit and inspect the saved bytes.',
      );
    }

    const rotated = listAuditFiles(this.directory).filter((file) => !file.current);
    let last = current.last;
    const newest = rotated.at(-1);
    if (!last && newest) {
      const { lines } = splitLines(readAuditFileSync(newest));
      for (let index = lines.length - 1; index >= 0 && !last; index--) {
        const parsed = parseReceiptLine(lines[index]!);
        if (parsed.ok) last = { seq: parsed.receipt.seq, hash: parsed.receipt.hash };
        else this.reportError(`Line ${index + 1} of ${newest.name} does not verify (${parsed.problem}).`, undefined, 'Run verifyAudit.');
      }
    }
    const { anchor } = readAnchorSync(this.directory);
    if (!last && anchor) last = { seq: anchor.seq, hash: anchor.hash };
    if (!last && newest) {
      throw new AuditFailedError({
        directory: this.directory,
        message: `No receipt of ${newest.name} verifies, so the chain cannot be continued.`,
        hint: 'Run verifyAudit; move the damaged files out of the directory to start a new chain.',
      });
    }
    return {
      lastSeq: last?.seq ?? 0,
      lastHash: last?.hash ?? GENESIS_HASH,
      trimmedBytes: current.trimmedBytes,
      trimmedLines: current.trimmedLines,
      trimmedTo,
      tookOverLockFrom: this.lock.tookOverFrom,
      removedLeftovers,
    };
  }

  get healthy(): boolean {
    return this.isHealthy;
  }

  append(record: AuditRecord): AuditAppendResult {
    if (this.closed) {
      throw new AuditFailedError({
        directory: this.directory,
        message: 'The audit log is closed; the receipt was not written.',
        hint: 'Open the log again with openAuditLog before appending.',
      });
    }
    if (this.mode === 'drop' && this.pending >= this.maxPending) return this.drop();
    if (
      typeof record?.kind !== 'string' ||
      typeof record.time !== 'string' ||
      typeof record.tenantId !== 'string' ||
      record.eventId == null
    ) {
      throw new AuditFailedError({
        directory: this.directory,
        message: 'A receipt needs `kind` (string), `time` (ISO string), `eventId` and `tenantId` (string).',
        hint: "Pass at least { kind: 'decision', time: new Date().toISOString(), eventId, tenantId }.",
      });
    }
    const seq = this.seq + 1;
    let sealed: ReturnType<typeof sealReceipt>;
    try {
      sealed = sealReceipt(record, seq, this.lastHash);
    } catch (error) {
      throw new AuditFailedError({
        directory: this.directory,
        message: `Cannot write the receipt of event ${String(record.eventId)}: ${(error as Error).message}.`,
        hint: 'Receipts must be plain JSON data: no bigints, functions, cycles or non-finite numbers.',
        cause: error,
      });
    }
    this.seq = seq;
    this.lastHash = sealed.hash;
    let batch = this.openBatch;
    if (!batch || batch.count >= this.maxReceipts) batch = this.newBatch(seq);
    this.encode(batch, sealed.line);
    batch.rows?.push(toIndexRow(record, seq, sealed.hash, sealed.line));
    this.queuedReceipts++;
    this.appended++;
    this.pending++;
    this.schedule();
    return { seq, hash: sealed.hash, dropped: false, durable: batch.promise };
  }

  async flush(): Promise<void> {
    const batch = this.lastBatch;
    if (batch && !batch.settled) {
      this.flushRequested = true;
      this.schedule();
      await batch.promise;
    }
    await this.indexChain;
  }

  waitForCapacity(): Promise<void> {
    if (this.pending < this.maxPending || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.capacityWaiters.push(resolve));
  }

  stats(): AuditStats {
    return {
      appended: this.appended,
      written: this.written,
      durable: this.durableCount,
      pending: this.pending,
      dropped: this.dropped,
      bytes: this.bytes,
      files: this.rotatedFiles + 1,
      lastSeq: this.seq,
      healthy: this.isHealthy,
      lastError: this.lastError,
      indexedSeq: this.indexedSeq,
    };
  }

  close(options: { timeout?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(options.timeout);
    return this.closing;
  }

  private async shutdown(timeout: number | undefined): Promise<void> {
    this.closed = true;
    this.releaseCapacityWaiters();
    const giveUp =
      timeout === undefined
        ? undefined
        : setTimeout(() => {
            this.abortError = new AuditFailedError({
              directory: this.directory,
              message: `The audit log was closed after ${timeout} ms with ${this.pending} receipt(s) not written: ${this.lastError ?? 'the disk did not accept them'}.`,
              hint: 'Free disk space or fix permissions on the audit directory; the receipts listed as dropped are lost.',
            });
            this.wakeRetry?.();
          }, timeout);
    try {
      await this.flush().catch(noop);
    } finally {
      if (giveUp) clearTimeout(giveUp);
    }
    await this.indexChain;
    await this.maintenance;
    if (this.timer) clearTimeout(this.timer);
    if (this.dropTimer) clearTimeout(this.dropTimer);
    this.emitDropped();
    const fds = [this.fd, this.openingFd];
    this.fd = undefined;
    this.openingFd = undefined;
    for (const fd of fds) if (fd !== undefined) await this.fs.close(fd).catch(noop);
    this.lock.release();
    if (this.abortError) throw this.abortError;
  }

  private newBatch(firstSeq: number): Batch {
    let resolve = noop;
    let reject: (error: Error) => void = noop;
    const promise = new Promise<void>((onResolve, onReject) => {
      resolve = onResolve;
      reject = onReject;
    });
    // Marks the rejection handled: callers may ignore `durable`.
    promise.catch(noop);
    const batch: Batch = {
      firstSeq,
      count: 0,
      chunks: [],
      sizes: [],
      bytes: 0,
      ends: [],
      rows: this.index ? [] : undefined,
      createdAt: performance.now(),
      settled: false,
      promise,
      resolve,
      reject,
    };
    this.queue.push(batch);
    this.openBatch = batch;
    this.lastBatch = batch;
    return batch;
  }

  private drop(): AuditAppendResult {
    this.dropped++;
    this.droppedSinceEvent++;
    if (!this.dropTimer) {
      this.emitDropped();
      // At most one audit.dropped event per second; the count of the rest follows when it fires.
      const tick = (): void => {
        this.dropTimer = undefined;
        if (this.droppedSinceEvent > 0) {
          this.emitDropped();
          this.dropTimer = setTimeout(tick, 1000);
          this.dropTimer.unref();
        }
      };
      this.dropTimer = setTimeout(tick, 1000);
      this.dropTimer.unref();
    }
    if (!this.droppedRejection) {
      this.droppedRejection = Promise.reject(
        new AuditFailedError({
          directory: this.directory,
          message: `The receipt was dropped: ${this.pending} receipts are waiting for the disk (max_pending ${this.maxPending}, on_failure: drop).`,
          hint: "Fix the disk problem, raise `audit.max_pending`, or use on_failure: 'fail_closed' to never drop receipts.",
        }),
      );
      this.droppedRejection.catch(noop);
    }
    return { seq: 0, hash: '', dropped: true, durable: this.droppedRejection };
  }

  private emitDropped(): void {
    if (this.droppedSinceEvent === 0) return;
    const count = this.droppedSinceEvent;
    this.droppedSinceEvent = 0;
    this.emit(
      'audit.dropped',
      'CRITICAL',
      `${count} audit receipt(s) dropped (${this.dropped} in total): ${this.lastError ?? 'the queue is full'}.`,
      this.dropped,
    );
  }

  /** Starts the flush loop now, or after the batch's remaining delay. */
  private schedule(): void {
    if (this.flushing || this.immediate) return;
    const oldest = this.queue[0];
    if (!oldest) return;
    const wait = this.due() ? 0 : this.maxDelay - (performance.now() - oldest.createdAt);
    if (wait <= 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.immediate = setImmediate(this.startFlush);
    } else if (!this.timer) {
      this.timer = setTimeout(this.startFlush, wait);
    }
  }

  private due(): boolean {
    const oldest = this.queue[0];
    return (
      oldest !== undefined &&
      (this.maxDelay === 0 ||
        this.flushRequested ||
        this.closed ||
        this.queuedReceipts >= this.maxReceipts ||
        performance.now() - oldest.createdAt >= this.maxDelay)
    );
  }

  private readonly startFlush = (): void => {
    this.immediate = undefined;
    this.timer = undefined;
    void this.flushLoop();
  };

  private async flushLoop(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.due()) {
        // Group commit: everything queued goes in one write and one fdatasync (one receipt per_receipt).
        const batches = this.fsyncPolicy === 'per_receipt' ? [this.queue.shift()!] : this.queue.splice(0);
        if (this.queue.length === 0) this.openBatch = undefined;
        let count = 0;
        for (const batch of batches) count += batch.count;
        this.queuedReceipts -= count;
        try {
          await this.writeBatches(batches, count);
        } catch (error) {
          this.abandon([...batches, ...this.queue.splice(0)], error as Error);
          this.openBatch = undefined;
          this.queuedReceipts = 0;
          break;
        }
        this.settle(batches, count);
      }
      if (this.queue.length === 0) this.flushRequested = false;
    } finally {
      this.flushing = false;
    }
    this.schedule();
  }

  /**
   * Appends `line` and a newline to the batch's buffers. Chunks of written batches are reused, so
   * that in steady state appending allocates no buffer.
   */
  private encode(batch: Batch, line: string): void {
    const worst = line.length * 3 + 1;
    let last = batch.chunks.length - 1;
    let chunk = batch.chunks[last];
    if (!chunk || chunk.length - batch.sizes[last]! < worst) {
      chunk =
        worst <= batchChunk && this.maxReceipts > 1
          ? (this.spareChunks.pop() ?? Buffer.allocUnsafe(batchChunk))
          : Buffer.allocUnsafe(worst);
      batch.chunks.push(chunk);
      batch.sizes.push(0);
      last++;
    }
    const used = batch.sizes[last]!;
    const written = chunk.write(line, used);
    chunk[used + written] = 10;
    batch.sizes[last] = used + written + 1;
    batch.bytes += written + 1;
    batch.ends.push(batch.bytes);
    batch.count++;
  }

  private settle(batches: Batch[], count: number): void {
    this.durableCount += count;
    this.pending -= count;
    for (const batch of batches) {
      for (const chunk of batch.chunks)
        if (chunk.length === batchChunk && this.spareChunks.length < maxSpareChunks) this.spareChunks.push(chunk);
      batch.chunks = [];
      batch.settled = true;
      batch.resolve();
      if (batch.rows) this.enqueueIndex(batch.rows, batch.firstSeq + batch.count - 1);
    }
    if (this.pending < this.maxPending) this.releaseCapacityWaiters();
  }

  private abandon(batches: Batch[], error: Error): void {
    let count = 0;
    for (const batch of batches) {
      count += batch.count;
      batch.settled = true;
      batch.reject(error);
    }
    this.pending -= count;
    this.dropped += count;
    this.droppedSinceEvent += count;
    this.releaseCapacityWaiters();
  }

  private releaseCapacityWaiters(): void {
    const waiters = this.capacityWaiters;
    this.capacityWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async writeBatches(batches: Batch[], count: number): Promise<void> {
    const firstSeq = batches[0]!.firstSeq;
    if (this.maxAge !== undefined && this.filePosition > 0 && this.now() - this.fileStartedAt >= this.maxAge) await this.rotate();
    const parts: Buffer[] = [];
    for (const batch of batches) {
      for (let index = 0; index < batch.chunks.length; index++) parts.push(batch.chunks[index]!.subarray(0, batch.sizes[index]));
    }
    const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const maxBytes = this.maxBytes;
    if (maxBytes === undefined) {
      await this.writeSegment(data, firstSeq, count);
      return;
    }
    // Split where the file would pass maxBytes: each file holds whole receipts and stays under the
    // limit unless one receipt alone is larger.
    let segmentStart = 0;
    let segmentSeq = firstSeq;
    let lineStart = 0;
    let seq = firstSeq;
    let base = 0;
    for (const batch of batches) {
      for (const end of batch.ends) {
        const lineEnd = base + end;
        if (
          this.filePosition + (lineEnd - segmentStart) > maxBytes &&
          this.filePosition + (lineStart - segmentStart) > 0 &&
          this.now() >= this.rotationRetryAt
        ) {
          if (lineStart > segmentStart) await this.writeSegment(data.subarray(segmentStart, lineStart), segmentSeq, seq - segmentSeq);
          await this.rotate();
          segmentStart = lineStart;
          segmentSeq = seq;
        }
        lineStart = lineEnd;
        seq++;
      }
      base += batch.bytes;
    }
    if (data.length > segmentStart) await this.writeSegment(data.subarray(segmentStart), segmentSeq, firstSeq + count - segmentSeq);
  }

  /**
   * Writes whole lines at the end of the current file and syncs them, retrying with backoff until
   * it works (or `close` gives up).
   *
   * INVARIANT: a retry rewrites the same bytes at the same offset (pwrite) and syncs again, so a
   * half-written batch is overwritten, never duplicated, and data an fsync error may have lost
   * from the page cache is written again rather than trusted.
   */
  private async writeSegment(buffer: Buffer, firstSeq: number, count: number): Promise<void> {
    let delay = this.retryInitial;
    let counted = false;
    for (;;) {
      if (this.abortError) throw this.abortError;
      try {
        if (this.fd === undefined) await this.openCurrent();
        const fd = this.fd!;
        if (this.filePosition === 0) {
          this.fileFirstSeq = firstSeq;
          this.fileStartedAt = this.now();
        }
        let offset = 0;
        while (offset < buffer.length) {
          const wrote = await this.fs.write(fd, buffer, offset, buffer.length - offset, this.filePosition + offset);
          if (wrote <= 0) throw new Error('write() wrote no bytes');
          offset += wrote;
        }
        if (!counted) this.written += count;
        counted = true;
        if (this.fsyncPolicy !== 'none') await this.fs.fdatasync(fd);
        this.filePosition += buffer.length;
        this.bytes += buffer.length;
        if (!this.isHealthy) this.markRecovered();
        return;
      } catch (error) {
        this.markFailed(error);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wakeRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeRetry = undefined;
        delay = Math.min(delay * 2, this.retryMax);
      }
    }
  }

  /** Creates a fresh audit.jsonl (after a rotation) and makes its directory entry durable. */
  private async openCurrent(): Promise<void> {
    this.openingFd ??= await this.fs.open(this.currentPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    // Also makes the preceding rename durable.
    await this.fs.syncDirectory(this.directory);
    this.fd = this.openingFd;
    this.openingFd = undefined;
    this.filePosition = 0;
    this.fileFirstSeq = undefined;
  }

  /**
   * Rotation by rename, never copy-and-truncate: audit.jsonl becomes audit-<first seq>.jsonl and a
   * new audit.jsonl is created; the next receipt links to the last hash of the renamed file.
   * Runs inside the flush loop, so no write is in flight. A failed rename leaves everything as it
   * was (writes continue in the current file; rotation is retried a second later).
   */
  private async rotate(): Promise<void> {
    const fd = this.fd;
    if (fd === undefined || this.filePosition === 0 || this.fileFirstSeq === undefined) return;
    const firstSeq = this.fileFirstSeq;
    try {
      await this.fs.rename(this.currentPath, join(this.directory, rotatedFileName(firstSeq)));
    } catch (error) {
      this.rotationRetryAt = this.now() + 1000;
      this.reportError(`Rotating ${CURRENT_FILE} failed; receipts keep going to it.`, error);
      return;
    }
    this.fd = undefined;
    this.filePosition = 0;
    this.fileFirstSeq = undefined;
    this.rotatedFiles++;
    await this.fs.close(fd).catch(noop);
    try {
      await this.openCurrent();
    } catch (error) {
      // writeSegment retries the open with backoff (the log is unhealthy meanwhile).
      this.markFailed(error);
    }
    if (this.compress) this.enqueueMaintenance(() => compressAuditFile(this.directory, firstSeq), 'Compression');
    this.enqueueRetention();
  }

  private enqueueRetention(): void {
    if (this.retention.maxFiles === undefined && this.retention.maxAge === undefined) return;
    this.enqueueMaintenance(async () => {
      const deleted = await applyAuditRetention({ directory: this.directory, ...this.retention, now: this.now() });
      this.rotatedFiles -= deleted.length;
    }, 'Retention');
  }

  /** Background work (compression, retention), one task at a time, never failing the log. */
  private enqueueMaintenance(task: () => Promise<void>, what: string): void {
    this.maintenance = this.maintenance.then(task).catch((error) => this.reportError(`${what} of the audit log failed.`, error));
  }

  /**
   * Index updates, in seq order, after the receipts are durable. `rows` undefined: catch up from
   * the files up to `upTo` (at open, and after an index failure).
   *
   * INVARIANT: the log is the source of truth. An index failure is reported and repaired later
   * from the files; it never fails or delays the log. An index ahead of the log (the log was
   * truncated or replaced) is left untouched as evidence and not written to again.
   */
  private enqueueIndex(rows: AuditIndexRow[] | undefined, upTo: number): void {
    const index = this.index;
    if (!index) return;
    this.indexChain = this.indexChain.then(async () => {
      if (this.indexAhead) return;
      try {
        if (rows && !this.indexNeedsCatchUp) {
          await index.indexReceipts(rows);
        } else {
          await this.catchUpIndex(index, upTo);
        }
        if (!this.indexAhead) this.indexedSeq = upTo;
      } catch (error) {
        this.indexNeedsCatchUp = true;
        this.reportError(
          `Indexing audit receipts up to seq ${upTo} failed; the log is intact and the index will be refilled from it.`,
          error,
        );
      }
    });
  }

  private async catchUpIndex(index: Pick<Store, 'indexReceipts' | 'auditHead'>, upTo: number): Promise<void> {
    const head = await index.auditHead();
    const headSeq = head?.seq ?? 0;
    if (headSeq > upTo) {
      this.indexAhead = true;
      this.reportError(
        `The audit index is ahead of the log: it knows seq ${headSeq}, the log ends at seq ${upTo}. The log was truncated or replaced; the index is left untouched.`,
        undefined,
        'Run verifyAudit with the index to see where the log ends.',
      );
      return;
    }
    let rows: AuditIndexRow[] = [];
    for await (const { receipt, line } of readAuditLines({ directory: this.directory, fromSeq: Math.max(1, headSeq), toSeq: upTo })) {
      if (receipt.seq === headSeq) {
        if (head && receipt.hash !== head.hash) {
          this.reportError(
            `The audit index says seq ${headSeq} has hash ${head.hash}, the log has ${receipt.hash}.`,
            undefined,
            'Run verifyAudit with the index.',
          );
        }
        continue;
      }
      rows.push(toIndexRow(receipt, receipt.seq, receipt.hash, line));
      if (rows.length >= 1000) {
        await index.indexReceipts(rows);
        rows = [];
      }
    }
    if (rows.length > 0) await index.indexReceipts(rows);
    this.indexNeedsCatchUp = false;
  }

  private markFailed(error: unknown): void {
    this.lastError = describe(error);
    if (!this.isHealthy) return;
    this.isHealthy = false;
    this.emit('audit.failed', 'CRITICAL', `Audit log writes are failing (${this.lastError}); receipts are held in memory and retried.`);
    this.reportError('Audit log writes are failing; receipts are held in memory and retried.', error);
  }

  private markRecovered(): void {
    this.isHealthy = true;
    this.emitDropped();
    this.emit('audit.recovered', 'MEDIUM', `Audit log writes succeed again (last error: ${this.lastError}).`, this.dropped);
  }

  /** Calls `onEvent` after the current synchronous work; its failures never reach the log. */
  private emit(type: AuditEvent['type'], severity: Severity, message: string, dropped?: number): void {
    const onEvent = this.onEvent;
    if (!onEvent) return;
    const event: AuditEvent = { type, time: new Date(this.now()).toISOString(), tenantId: '', severity, message, dropped };
    queueMicrotask(() => {
      try {
        const result: unknown = onEvent(event);
        if (isPromiseLike(result)) result.then(undefined, noop);
      } catch {
        // A subscriber's failure is its own; the log carries on.
      }
    });
  }

  private reportError(message: string, cause?: unknown, hint?: string): void {
    const onError = this.onError;
    if (!onError) return;
    const error = new AuditFailedError({
      directory: this.directory,
      message: cause ? `${message} ${describe(cause)}` : message,
      hint,
      cause,
    });
    queueMicrotask(() => {
      try {
        const result: unknown = onError(error);
        if (isPromiseLike(result)) result.then(undefined, noop);
      } catch {
        // As for onEvent.
      }
    });
  }
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

function validate(options: AuditLogOptions): { maxPending: number; maxReceipts: number; maxDelay: number } {
  const settings = {
    maxPending: options.maxPending ?? 10_000,
    maxReceipts: options.batch?.maxReceipts ?? 512,
    maxDelay: options.batch?.maxDelay ?? 0,
  };
  const check = (name: string, value: unknown, minimum: number): void => {
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < minimum)) {
      throw new PalisadeError({
        code: 'INVALID_OPTIONS',
        message: `Audit log option ${name} must be a number >= ${minimum}, got ${String(value)}.`,
      });
    }
  };
  if (typeof options.directory !== 'string' || options.directory === '') {
    throw new PalisadeError({ code: 'INVALID_OPTIONS', message: 'Audit log option directory must be a non-empty path.' });
  }
  check('maxPending', settings.maxPending, 1);
  check('batch.maxReceipts', settings.maxReceipts, 1);
  check('batch.maxDelay', settings.maxDelay, 0);
  check('rotate.maxBytes', options.rotate?.maxBytes, 1);
  check('rotate.maxAge', options.rotate?.maxAge, 1);
  check('retention.maxFiles', options.retention?.maxFiles, 1);
  check('retention.maxAge', options.retention?.maxAge, 0);
  return settings;
}

/** Deletes what interrupted compression or retention left behind; returns the names. */
function removeLeftovers(directory: string): string[] {
  const names = readdirSync(directory);
  const present = new Set(names);
  const removed: string[] = [];
  for (const name of names) {
    const stray =
      name === `${ANCHOR_FILE}.tmp` ||
      /^audit-\d{12,}\.jsonl\.gz\.tmp$/.test(name) ||
      (/^audit-\d{12,}\.jsonl$/.test(name) && present.has(`${name}.gz`));
    if (!stray) continue;
    unlinkSync(join(directory, name));
    removed.push(name);
  }
  if (removed.length > 0) syncDirectorySync(directory);
  return removed;
}

function syncDirectorySync(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

interface CurrentFile {
  fd: number;
  size: number;
  firstSeq: number | undefined;
  startedAt: number | undefined;
  last: { seq: number; hash: string } | undefined;
  trimmedBytes: number;
  trimmedLines: number;
  /** The trimmed bytes, when complete lines were among them. */
  trimmed: Buffer | undefined;
}

/**
 * Opens audit.jsonl for writing and repairs its end: bytes after the last newline (a torn write)
 * and complete last lines that do not verify are cut with ftruncate + fdatasync.
 *
 * INVARIANT: only the end is cut, and at most `maxTrimBytes` of complete lines: more than that is
 * damage for verifyAudit to report, not a torn write, and opening fails instead of erasing it.
 */
function recoverCurrentFile(path: string): CurrentFile {
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
  try {
    const size = fstatSync(fd).size;
    if (size === 0) {
      syncDirectorySync(join(path, '..'));
      return { fd, size, firstSeq: undefined, startedAt: undefined, last: undefined, trimmedBytes: 0, trimmedLines: 0, trimmed: undefined };
    }
    let end = lastNewlineBefore(fd, size) + 1;
    const tornEnd = end;
    let trimmedLines = 0;
    let last: CurrentFile['last'];
    while (end > 0) {
      const start = lastNewlineBefore(fd, end - 1) + 1;
      const parsed = parseReceiptLine(readRange(fd, start, end - 1));
      if (parsed.ok) {
        last = { seq: parsed.receipt.seq, hash: parsed.receipt.hash };
        break;
      }
      if (tornEnd - start > maxTrimBytes) {
        throw new AuditFailedError({
          directory: join(path, '..'),
          message: `The end of ${path} does not verify over more than ${maxTrimBytes} bytes (${parsed.problem}); that is damage, not a torn write.`,
          hint: 'Run verifyAudit on the directory; move audit.jsonl aside to start a new file once it is understood.',
        });
      }
      trimmedLines++;
      end = start;
    }
    let trimmed: Buffer | undefined;
    if (end < size) {
      if (trimmedLines > 0) trimmed = readBytes(fd, end, size);
      ftruncateSync(fd, end);
      fdatasyncSync(fd);
    }
    let firstSeq: number | undefined;
    let startedAt: number | undefined;
    if (end > 0) {
      const firstEnd = firstNewline(fd, end);
      try {
        const first = JSON.parse(readRange(fd, 0, firstEnd)) as { seq?: unknown; time?: unknown };
        if (typeof first.seq === 'number') firstSeq = first.seq;
        if (typeof first.time === 'string' && Number.isFinite(Date.parse(first.time))) startedAt = Date.parse(first.time);
      } catch {
        // A damaged first line: verifyAudit reports it; rotation then names the file by `last`.
      }
      firstSeq ??= last?.seq;
    }
    return { fd, size: end, firstSeq, startedAt, last, trimmedBytes: size - end, trimmedLines, trimmed };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** Offset of the last `\n` in [0, end), or -1. */
function lastNewlineBefore(fd: number, end: number): number {
  const chunk = Buffer.allocUnsafe(readChunk);
  let position = end;
  while (position > 0) {
    const length = Math.min(readChunk, position);
    position -= length;
    readSync(fd, chunk, 0, length, position);
    const at = chunk.subarray(0, length).lastIndexOf(10);
    if (at >= 0) return position + at;
  }
  return -1;
}

/** Offset of the first `\n` in [0, end), or `end`. */
function firstNewline(fd: number, end: number): number {
  const chunk = Buffer.allocUnsafe(readChunk);
  for (let position = 0; position < end; position += readChunk) {
    const length = Math.min(readChunk, end - position);
    readSync(fd, chunk, 0, length, position);
    const at = chunk.subarray(0, length).indexOf(10);
    if (at >= 0) return position + at;
  }
  return end;
}

function readBytes(fd: number, start: number, end: number): Buffer {
  const buffer = Buffer.alloc(end - start);
  let offset = 0;
  while (offset < buffer.length) {
    const read = readSync(fd, buffer, offset, buffer.length - offset, start + offset);
    if (read === 0) break;
    offset += read;
  }
  return buffer;
}

function readRange(fd: number, start: number, end: number): string {
  return readBytes(fd, start, end).toString('utf8');
}
