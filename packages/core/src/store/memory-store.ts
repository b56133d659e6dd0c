import { StoreFailedError } from '../errors/store-failed-error.js';
import { applyApprovalTransition } from './apply-approval-transition.js';
import type {
  ApprovalFilter,
  ApprovalTicket,
  AuditIndexRow,
  AuditQuery,
  CounterKey,
  CounterState,
  ReserveRequest,
  ReserveResult,
  Store,
  UsageQuery,
  UsageRecord,
  VaultEntry,
} from './store.js';
import {
  assertNanoDollars,
  compareStrings,
  counterId,
  counterKey,
  foldUsage,
  isExpired,
  resolveLimit,
  uniqueCounters,
} from './store-rules.js';

const location = ':memory:';

interface Reservation {
  amount: number;
  counters: CounterKey[];
  expiresAt: number;
}

/** Rows of one kind, per tenant: a tenant's rows are only reachable through its own map. */
class TenantMaps<Value> {
  readonly byTenant = new Map<string, Map<string, Value>>();

  of(tenantId: string): Map<string, Value> {
    let rows = this.byTenant.get(tenantId);
    if (!rows) {
      rows = new Map();
      this.byTenant.set(tenantId, rows);
    }
    return rows;
  }

  get(tenantId: string, key: string): Value | undefined {
    return this.byTenant.get(tenantId)?.get(key);
  }
}

/**
 * A complete `Store` held in memory, for tests and for trying Palisade out. It behaves exactly
 * like the SQLite store (both run `runStoreContract`), but nothing survives the process.
 *
 * INVARIANT: every method body runs synchronously after its argument checks, so each call is
 * atomic with respect to every other call (JavaScript runs one of them at a time), which is what
 * the compare-and-set of approvals and the all-or-nothing reservations rely on.
 * INVARIANT: values go in and come out as copies; a caller mutating a returned ticket never
 * changes the store.
 *
 * @example
 * const store = createMemoryStore();
 * await store.createApproval(ticket);
 * const result = await store.transitionApproval(ticket.tenantId, ticket.id, { kind: 'approve', approver: 'ann', at: Date.now() });
 */
export function createMemoryStore(): Store {
  let outbox: { id: number; record: string }[] = [];
  let outboxSequence = 0;
  const approvals = new TenantMaps<ApprovalTicket>();
  const counters = new TenantMaps<CounterState>();
  const reservations = new TenantMaps<Reservation>();
  const vault = new TenantMaps<VaultEntry>();
  const usage: UsageRecord[] = [];
  const receipts = new Map<number, AuditIndexRow>();
  let closed = false;

  function assertOpen(): void {
    if (closed) {
      throw new StoreFailedError({
        location,
        message: 'The in-memory state store is closed.',
        hint: 'Open a new store; a closed store cannot be reused.',
      });
    }
  }

  function counter(tenantId: string, key: CounterKey): CounterState {
    const rows = counters.of(tenantId);
    const id = counterId(key);
    let state = rows.get(id);
    if (!state) {
      state = { scope: key.scope, period: key.period, windowStart: key.windowStart, spent: 0, reserved: 0 };
      rows.set(id, state);
    }
    return state;
  }

  function unreserve(tenantId: string, reservation: Reservation, actual: number): void {
    for (const key of reservation.counters) {
      const state = counter(tenantId, key);
      state.reserved -= reservation.amount;
      state.spent += actual;
    }
  }

  return {
    kind: 'memory',
    location,

    async createApproval(ticket) {
      assertOpen();
      const rows = approvals.of(ticket.tenantId);
      if (rows.has(ticket.id)) {
        throw new StoreFailedError({
          location,
          message: `Approval ${JSON.stringify(ticket.id)} already exists for tenant ${JSON.stringify(ticket.tenantId)}.`,
          hint: 'Give every approval ticket a new id.',
        });
      }
      rows.set(ticket.id, structuredClone(ticket));
    },

    async getApproval(tenantId, id) {
      assertOpen();
      const ticket = approvals.get(tenantId, id);
      return ticket && structuredClone(ticket);
    },

    async listApprovals(tenantId, filter: ApprovalFilter = {}) {
      assertOpen();
      const statuses =
        filter.status === undefined ? undefined : new Set(typeof filter.status === 'string' ? [filter.status] : filter.status);
      const rows = [...(approvals.byTenant.get(tenantId)?.values() ?? [])]
        .filter(
          (ticket) =>
            (statuses === undefined || statuses.has(ticket.status)) && (filter.appId === undefined || ticket.appId === filter.appId),
        )
        .sort((left, right) => left.createdAt - right.createdAt || compareStrings(left.id, right.id));
      return rows.slice(0, resolveLimit(filter.limit)).map((ticket) => structuredClone(ticket));
    },

    async transitionApproval(tenantId, id, transition) {
      assertOpen();
      const current = approvals.get(tenantId, id);
      if (!current) return { outcome: 'not_found' };
      const { changed, ticket } = applyApprovalTransition(current, transition);
      if (changed) approvals.of(tenantId).set(id, ticket);
      return { outcome: changed ? 'changed' : 'unchanged', ticket: structuredClone(ticket) };
    },

    async listExpiredApprovals(now, limit) {
      assertOpen();
      const expired: { tenantId: string; id: string; expiresAt: number }[] = [];
      for (const [tenantId, rows] of approvals.byTenant) {
        for (const ticket of rows.values()) {
          if (ticket.status === 'pending' && isExpired(ticket.expiresAt, now))
            expired.push({ tenantId, id: ticket.id, expiresAt: ticket.expiresAt });
        }
      }
      expired.sort(
        (left, right) =>
          left.expiresAt - right.expiresAt || compareStrings(left.tenantId, right.tenantId) || compareStrings(left.id, right.id),
      );
      return expired.slice(0, resolveLimit(limit)).map(({ tenantId, id }) => ({ tenantId, id }));
    },

    async consumeApproval(tenantId, id, at) {
      assertOpen();
      const ticket = approvals.get(tenantId, id);
      if (ticket?.status !== 'approved' || ticket.consumedAt !== undefined) return false;
      approvals.of(tenantId).set(id, { ...ticket, consumedAt: at });
      return true;
    },

    async reserveBudget(request: ReserveRequest): Promise<ReserveResult> {
      assertOpen();
      assertNanoDollars(location, 'amount', request.amount);
      for (const key of request.counters) if (key.hardLimit !== undefined) assertNanoDollars(location, 'hardLimit', key.hardLimit);
      const rows = reservations.of(request.tenantId);
      if (rows.has(request.reservationId)) {
        throw new StoreFailedError({
          location,
          message: `Reservation ${JSON.stringify(request.reservationId)} already exists for tenant ${JSON.stringify(request.tenantId)}.`,
          hint: 'Give every reservation a new id.',
        });
      }
      // INVARIANT: all checks happen before any counter is charged (all or nothing).
      for (const key of request.counters) {
        if (key.hardLimit === undefined) continue;
        const state = counters.get(request.tenantId, counterId(key)) ?? { ...counterKey(key), spent: 0, reserved: 0 };
        if (state.spent + state.reserved + request.amount > key.hardLimit) {
          return { ok: false, counter: { ...counterKey(key), spent: state.spent, reserved: state.reserved, hardLimit: key.hardLimit } };
        }
      }
      const unique = uniqueCounters(request.counters);
      for (const key of unique) counter(request.tenantId, key).reserved += request.amount;
      rows.set(request.reservationId, { amount: request.amount, counters: unique, expiresAt: request.expiresAt });
      return { ok: true };
    },

    async settleReservation(tenantId, reservationId, actual) {
      assertOpen();
      assertNanoDollars(location, 'actual', actual);
      const reservation = reservations.get(tenantId, reservationId);
      if (!reservation) return false;
      unreserve(tenantId, reservation, actual);
      reservations.of(tenantId).delete(reservationId);
      return true;
    },

    async releaseReservation(tenantId, reservationId) {
      assertOpen();
      const reservation = reservations.get(tenantId, reservationId);
      if (!reservation) return false;
      unreserve(tenantId, reservation, 0);
      reservations.of(tenantId).delete(reservationId);
      return true;
    },

    async releaseExpiredReservations(now) {
      assertOpen();
      let released = 0;
      for (const [tenantId, rows] of reservations.byTenant) {
        for (const [id, reservation] of rows) {
          if (!isExpired(reservation.expiresAt, now)) continue;
          unreserve(tenantId, reservation, 0);
          rows.delete(id);
          released += 1;
        }
      }
      return released;
    },

    async readCounters(tenantId, keys) {
      assertOpen();
      return keys.map((key) => {
        const state = counters.get(tenantId, counterId(key));
        return { ...counterKey(key), spent: state?.spent ?? 0, reserved: state?.reserved ?? 0 };
      });
    },

    async recordUsage(record) {
      assertOpen();
      assertNanoDollars(location, 'cost', record.cost);
      assertNanoDollars(location, 'inputTokens', record.inputTokens);
      assertNanoDollars(location, 'outputTokens', record.outputTokens);
      usage.push({ ...record });
    },

    async summarizeUsage(query: UsageQuery) {
      assertOpen();
      return foldUsage(
        usage.filter(
          (record) =>
            (query.tenantId === undefined || record.tenantId === query.tenantId) && record.at >= query.from && record.at < query.to,
        ),
      );
    },

    async putVaultEntries(tenantId, entries) {
      assertOpen();
      const rows = vault.of(tenantId);
      for (const entry of entries) rows.set(entry.token, { ...entry });
    },

    async getVaultEntries(tenantId, tokens, now) {
      assertOpen();
      const found: VaultEntry[] = [];
      const seen = new Set<string>();
      for (const token of tokens) {
        if (seen.has(token)) continue;
        seen.add(token);
        const entry = vault.get(tenantId, token);
        if (entry && (entry.expiresAt === undefined || !isExpired(entry.expiresAt, now))) found.push({ ...entry });
      }
      return found;
    },

    async deleteExpiredVaultEntries(now) {
      assertOpen();
      let deleted = 0;
      for (const rows of vault.byTenant.values()) {
        for (const [token, entry] of rows) {
          if (entry.expiresAt !== undefined && isExpired(entry.expiresAt, now)) {
            rows.delete(token);
            deleted += 1;
          }
        }
      }
      return deleted;
    },

    async indexReceipts(rows) {
      assertOpen();
      // INVARIANT: idempotent on seq; the first row indexed for a sequence number stays.
      for (const row of rows) if (!receipts.has(row.seq)) receipts.set(row.seq, { ...row });
    },

    async queryReceipts(query: AuditQuery) {
      assertOpen();
      const actions =
        query.action === undefined ? undefined : new Set<string>(typeof query.action === 'string' ? [query.action] : query.action);
      const matching = [...receipts.values()].filter(
        (row) =>
          (query.tenantId === undefined || row.tenantId === query.tenantId) &&
          (query.appId === undefined || row.appId === query.appId) &&
          (query.from === undefined || row.time >= query.from) &&
          (query.to === undefined || row.time < query.to) &&
          (actions === undefined || (row.action !== undefined && actions.has(row.action))) &&
          (query.rule === undefined || row.rule === query.rule) &&
          (query.kind === undefined || row.kind === query.kind) &&
          (query.afterSeq === undefined || row.seq > query.afterSeq),
      );
      matching.sort((left, right) => (query.descending ? right.seq - left.seq : left.seq - right.seq));
      return matching.slice(0, resolveLimit(query.limit)).map((row) => ({ ...row }));
    },

    async auditHead() {
      assertOpen();
      let head: AuditIndexRow | undefined;
      for (const row of receipts.values()) if (!head || row.seq > head.seq) head = row;
      return head && { seq: head.seq, hash: head.hash };
    },

    async enqueueAuditRecords(records: readonly string[]) {
      assertOpen();
      for (const record of records) outbox.push({ id: ++outboxSequence, record });
    },

    async peekAuditRecords(limit: number) {
      assertOpen();
      return outbox.slice(0, limit).map((entry) => ({ ...entry }));
    },

    async deleteAuditRecords(ids: readonly number[]) {
      assertOpen();
      const gone = new Set(ids);
      outbox = outbox.filter((entry) => !gone.has(entry.id));
    },

    async close() {
      closed = true;
    },
  };
}
