import { randomUUID } from 'node:crypto';
import type { Store } from '../store/store.js';
import type { AuditAppendResult, AuditLog, AuditStats } from './audit-log.js';
import { GENESIS_HASH } from './seal-receipt.js';

/**
 * The audit log of a process that does not hold the log's writer lock (the CLI approving a ticket
 * while a server runs): records go durably into the store's outbox, and the process that holds
 * the lock moves them into the hash chain (`drainAuditOutbox`). A record is acknowledged once the
 * store committed it; it gets its `seq` when the writer appends it.
 *
 * @example
 * const audit = openAuditOutbox({ directory: '.palisade/audit', store }); // when openAuditLog threw AuditLockedError
 */
export function openAuditOutbox({ directory, store }: { directory: string; store: Store }): AuditLog {
  let appended = 0;
  let durable = 0;
  let lastError: string | undefined;
  let closed = false;
  const inFlight = new Set<Promise<void>>();
  const stats = (): AuditStats => ({
    appended,
    written: durable,
    durable,
    pending: appended - durable,
    dropped: 0,
    bytes: 0,
    files: 0,
    lastSeq: 0,
    healthy: lastError === undefined,
    lastError,
    indexedSeq: undefined,
  });
  return {
    directory,
    get healthy() {
      return lastError === undefined;
    },
    recovery: {
      lastSeq: 0,
      lastHash: GENESIS_HASH,
      trimmedBytes: 0,
      trimmedLines: 0,
      trimmedTo: undefined,
      tookOverLockFrom: undefined,
      removedLeftovers: [],
    },
    append(record): AuditAppendResult {
      appended++;
      // `outboxId` lets a reader tell a record the writer appended twice (a crash between its
      // append and the outbox delete) from two distinct events.
      const promise = store.enqueueAuditRecords([JSON.stringify({ ...record, outboxId: randomUUID() })]).then(
        () => {
          durable++;
          lastError = undefined;
        },
        (error: unknown) => {
          lastError = (error as Error).message;
          throw error;
        },
      );
      const tracked = promise.catch(() => undefined);
      inFlight.add(tracked);
      void tracked.finally(() => inFlight.delete(tracked));
      return { seq: 0, hash: '', dropped: false, durable: promise };
    },
    async flush() {
      await Promise.all([...inFlight]);
    },
    async waitForCapacity() {
      await Promise.all([...inFlight]);
    },
    stats,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...inFlight]);
    },
  };
}

/**
 * Moves records other processes left in the store's outbox into the chain, oldest first, and
 * deletes them once the chain holds them durably. Returns how many moved.
 *
 * INVARIANT: a record is deleted from the outbox only after its receipt is durable, so a crash
 * between the two appends it again (at least once, never lost).
 */
export async function drainAuditOutbox(audit: AuditLog, store: Store, limit = 500): Promise<number> {
  const entries = await store.peekAuditRecords(limit);
  if (entries.length === 0) return 0;
  for (const entry of entries) audit.append({ ...JSON.parse(entry.record), relayed: true });
  await audit.flush();
  await store.deleteAuditRecords(entries.map((entry) => entry.id));
  return entries.length;
}
