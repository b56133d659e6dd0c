import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { PalisadeError } from '../errors/palisade-error.js';
import { StoreFailedError } from '../errors/store-failed-error.js';
import { applyApprovalTransition } from './apply-approval-transition.js';
import { assertSchemaSupported, migrate, readSchemaVersion } from './migrations.js';
import type {
  ApprovalFilter,
  ApprovalStatus,
  ApprovalTicket,
  ApprovalTransition,
  AuditIndexRow,
  AuditQuery,
  CounterKey,
  ReserveRequest,
  ReserveResult,
  Store,
  TransitionResult,
  UsageQuery,
  VaultEntry,
} from './store.js';
import { assertNanoDollars, counterKey, foldUsage, resolveLimit, uniqueCounters } from './store-rules.js';

export interface SqliteStoreOptions {
  /** The database file; its folder is created. `:memory:` keeps everything in memory (tests). */
  path: string;
  /** How long a write waits for another process's write lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
}

type Database = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement<unknown[]>;

interface ApprovalRow {
  tenant_id: string;
  id: string;
  app_id: string | null;
  status: ApprovalStatus;
  created_at: number;
  expires_at: number;
  required_approvals: number;
  approvals: string;
  resolution: string | null;
  consumed_at: number | null;
  ticket: string;
}

interface ReservationRow {
  tenant_id: string;
  id: string;
  amount: number;
  counters: string;
}

interface AuditRow {
  seq: number;
  hash: string;
  event_id: string;
  time: number;
  tenant_id: string;
  app_id: string | null;
  user_id: string | null;
  boundary: AuditIndexRow['boundary'] | null;
  tool: string | null;
  action: AuditIndexRow['action'] | null;
  rule: string | null;
  kind: string;
  receipt: string;
}

const sqliteHeader = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Opens (creating when needed) the embedded state store: one SQLite file shared by every process
 * of an installation. better-sqlite3 is loaded here, not at import, so a process that only scans
 * never loads the native module.
 *
 * INVARIANT: acknowledged means durable: WAL with `synchronous = FULL` fsyncs every commit
 * before the promise resolves.
 * INVARIANT: every write that reads before it writes (approval transitions, reservations,
 * settling) runs in one `BEGIN IMMEDIATE` transaction, so processes sharing the file serialise on
 * the write lock and no update is lost; a process that finds the lock taken waits up to
 * `busyTimeoutMs`.
 * INVARIANT: every query on a tenant's rows has `tenant_id = ?` in its WHERE clause. Only the
 * sweeps (expired approvals, reservations, vault entries) and admin queries without a tenant span
 * tenants.
 *
 * Throws StoreFailedError when the file is not a SQLite database or was written by a newer
 * Palisade; such a file is never modified.
 *
 * @example
 * const store = openSqliteStore({ path: '.palisade/state.db' });
 * await store.recordUsage({ tenantId: 'acme', model: 'gpt-4o', inputTokens: 10, outputTokens: 5, cost: 1_250, at: Date.now() });
 * await store.close();
 */
export function openSqliteStore({ path, busyTimeoutMs = 5000 }: SqliteStoreOptions): Store {
  const timeoutMs = Number.isFinite(busyTimeoutMs) ? Math.max(0, Math.floor(busyTimeoutMs)) : 5000;
  const inMemory = path === ':memory:';
  const location = inMemory ? path : resolve(path);
  if (!inMemory) prepareFile(location);
  const DatabaseConstructor = loadDriver(location);

  let db: Database;
  try {
    db = new DatabaseConstructor(location, { timeout: timeoutMs });
  } catch (error) {
    throw failure(location, 'open', error, timeoutMs);
  }
  try {
    // Checked before any pragma that writes (journal_mode): a newer file stays byte for byte.
    assertSchemaSupported(readSchemaVersion(db), location);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${timeoutMs}`);
    migrate(db, location);
    return createSqliteStore(db, location, timeoutMs);
  } catch (error) {
    db.close();
    if (PalisadeError.isInstance(error)) throw error;
    throw failure(location, 'open', error, timeoutMs);
  }
}

function prepareFile(location: string): void {
  try {
    mkdirSync(dirname(location), { recursive: true });
  } catch (error) {
    throw new StoreFailedError({
      location,
      message: `Cannot create the folder of the state store ${location}: ${(error as Error).message}.`,
      hint: 'Create the folder, make it writable for this process, or set store.path to a writable place.',
      cause: error,
    });
  }
  let size: number;
  try {
    size = statSync(location).size;
  } catch {
    return; // A new file: SQLite creates it.
  }
  // An empty file is a new database to SQLite; anything else must start with the SQLite header.
  if (size === 0) return;
  const head = Buffer.alloc(sqliteHeader.length);
  try {
    const fd = openSync(location, 'r');
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw new StoreFailedError({
      location,
      message: `Cannot read the state store ${location}: ${(error as Error).message}.`,
      hint: 'store.path must name a file this process can read and write.',
      cause: error,
    });
  }
  if (!head.equals(sqliteHeader)) {
    throw new StoreFailedError({
      location,
      message: `The state store ${location} is not a SQLite database (it was left unchanged).`,
      hint: 'Point store.path at a new file or at a Palisade state database, or move this file away if it was put there by mistake.',
    });
  }
}

function loadDriver(location: string): typeof BetterSqlite3 {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  } catch (error) {
    throw new StoreFailedError({
      location,
      message: `Cannot load better-sqlite3 to open the state store ${location}: ${(error as Error).message}.`,
      hint: 'Reinstall with build scripts allowed for better-sqlite3 (pnpm approve-builds / npm rebuild better-sqlite3).',
      cause: error,
    });
  }
}

/** Turns a driver error into a StoreFailedError that says what to do about it. */
function failure(location: string, operation: string, error: unknown, busyTimeoutMs?: number): StoreFailedError {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const reason = error instanceof Error ? error.message.replace(/\.$/, '') : String(error);
  const hints: Record<string, string> = {
    SQLITE_BUSY: `Another process held the write lock for longer than ${busyTimeoutMs === undefined ? 'the busy timeout' : `${busyTimeoutMs} ms`}: find the process that keeps it, or raise busyTimeoutMs (openSqliteStore).`,
    SQLITE_FULL: 'The disk is full: free space where the state store lives.',
    SQLITE_READONLY: 'The file or its folder is read-only for this process: fix the permissions or set store.path.',
    SQLITE_CANTOPEN: 'Check that the folder exists and is writable, or set store.path.',
    SQLITE_CORRUPT: 'The file is damaged: restore it from a backup, or move it away to start a new one.',
    SQLITE_NOTADB: 'Point store.path at a Palisade state database or a new file.',
  };
  // Extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_IOERR_FSYNC…) share the hint of their primary code.
  const primary = typeof code === 'string' ? code.split('_').slice(0, 2).join('_') : '';
  return new StoreFailedError({
    location,
    message: `State store ${location}: ${operation} failed: ${reason}${typeof code === 'string' ? ` (${code})` : ''}.`,
    hint: hints[primary] ?? 'See the cause (error.cause) for the driver error.',
    cause: error,
  });
}

function createSqliteStore(db: Database, location: string, busyTimeoutMs: number): Store {
  let closed = false;

  // Prepared once per store. Statements whose SQL depends on which filters are given are cached
  // by their SQL text (a bounded set of shapes).
  const statements = {
    insertApproval: db.prepare(
      `INSERT INTO approvals (tenant_id, id, app_id, status, created_at, expires_at, required_approvals, approvals, resolution, consumed_at, ticket)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    selectApproval: db.prepare('SELECT * FROM approvals WHERE tenant_id = ? AND id = ?'),
    updateApproval: db.prepare(
      `UPDATE approvals SET status = ?, approvals = ?, resolution = ? WHERE tenant_id = ? AND id = ? AND status = 'pending'`,
    ),
    listExpiredApprovals: db.prepare(
      `SELECT tenant_id, id FROM approvals WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at, tenant_id, id LIMIT ?`,
    ),
    consumeApproval: db.prepare(
      `UPDATE approvals SET consumed_at = ? WHERE tenant_id = ? AND id = ? AND status = 'approved' AND consumed_at IS NULL`,
    ),
    selectCounter: db.prepare(
      'SELECT spent, reserved FROM budget_counters WHERE tenant_id = ? AND scope = ? AND period = ? AND window_start = ?',
    ),
    chargeCounter: db.prepare(
      `INSERT INTO budget_counters (tenant_id, scope, period, window_start, spent, reserved) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, scope, period, window_start) DO UPDATE SET spent = spent + excluded.spent, reserved = reserved + excluded.reserved`,
    ),
    insertReservation: db.prepare('INSERT INTO budget_reservations (tenant_id, id, amount, counters, expires_at) VALUES (?, ?, ?, ?, ?)'),
    selectReservation: db.prepare('SELECT tenant_id, id, amount, counters FROM budget_reservations WHERE tenant_id = ? AND id = ?'),
    deleteReservation: db.prepare('DELETE FROM budget_reservations WHERE tenant_id = ? AND id = ?'),
    selectExpiredReservations: db.prepare('SELECT tenant_id, id, amount, counters FROM budget_reservations WHERE expires_at <= ?'),
    insertUsage: db.prepare(
      'INSERT INTO usage (tenant_id, app_id, user_id, model, input_tokens, output_tokens, cost, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    summarizeTenantUsage: db.prepare(
      `SELECT tenant_id, app_id, model, SUM(cost) AS cost, SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, COUNT(*) AS calls
       FROM usage WHERE tenant_id = ? AND at >= ? AND at < ? GROUP BY tenant_id, app_id, model`,
    ),
    summarizeAllUsage: db.prepare(
      `SELECT tenant_id, app_id, model, SUM(cost) AS cost, SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, COUNT(*) AS calls
       FROM usage WHERE at >= ? AND at < ? GROUP BY tenant_id, app_id, model`,
    ),
    upsertVaultEntry: db.prepare(
      `INSERT INTO vault (tenant_id, token, sealed, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (tenant_id, token) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at`,
    ),
    selectVaultEntries: db.prepare(
      `SELECT token, sealed, expires_at FROM vault
       WHERE tenant_id = ? AND token IN (SELECT value FROM json_each(?)) AND (expires_at IS NULL OR expires_at > ?)`,
    ),
    deleteExpiredVaultEntries: db.prepare('DELETE FROM vault WHERE expires_at IS NOT NULL AND expires_at <= ?'),
    insertReceipt: db.prepare(
      `INSERT INTO audit_index (seq, hash, event_id, time, tenant_id, app_id, user_id, boundary, tool, action, rule, kind, receipt)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING`,
    ),
    auditHead: db.prepare('SELECT seq, hash FROM audit_index ORDER BY seq DESC LIMIT 1'),
    enqueueAuditRecord: db.prepare('INSERT INTO audit_outbox (record, created_at) VALUES (?, ?)'),
    peekAuditRecords: db.prepare('SELECT id, record FROM audit_outbox ORDER BY id LIMIT ?'),
    deleteAuditRecord: db.prepare('DELETE FROM audit_outbox WHERE id = ?'),
  };
  const shaped = new Map<string, Statement>();
  const prepared = (sql: string): Statement => {
    let statement = shaped.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      shaped.set(sql, statement);
    }
    return statement;
  };

  /** Runs one store operation: refuses after close, and turns driver errors into StoreFailedError. */
  function run<T>(operation: string, body: () => T): T {
    if (closed) {
      throw new StoreFailedError({
        location,
        message: `State store ${location}: ${operation} was called after the store was closed.`,
        hint: 'Open a new store; a closed store cannot be reused.',
      });
    }
    try {
      return body();
    } catch (error) {
      if (PalisadeError.isInstance(error)) throw error;
      throw failure(location, operation, error, busyTimeoutMs);
    }
  }

  const transition = db.transaction((tenantId: string, id: string, change: ApprovalTransition): TransitionResult => {
    const row = statements.selectApproval.get(tenantId, id) as ApprovalRow | undefined;
    if (!row) return { outcome: 'not_found' };
    const { changed, ticket } = applyApprovalTransition(toTicket(row), change);
    if (!changed) return { outcome: 'unchanged', ticket };
    // INVARIANT: the write lock is held since the read, so the compare-and-set on 'pending'
    // cannot miss; checking `changes` keeps it honest if the transaction mode ever changes.
    const { changes } = statements.updateApproval.run(
      ticket.status,
      JSON.stringify(ticket.approvals),
      json(ticket.resolution),
      tenantId,
      id,
    );
    if (changes !== 1) throw new Error(`approval ${id} changed under a held write lock`);
    return { outcome: 'changed', ticket };
  });

  const reserve = db.transaction((request: ReserveRequest): ReserveResult => {
    const { tenantId, reservationId, amount } = request;
    if (statements.selectReservation.get(tenantId, reservationId)) {
      throw new StoreFailedError({
        location,
        message: `Reservation ${JSON.stringify(reservationId)} already exists for tenant ${JSON.stringify(tenantId)}.`,
        hint: 'Give every reservation a new id.',
      });
    }
    // INVARIANT: every limit is checked before any counter is charged (all or nothing).
    for (const key of request.counters) {
      if (key.hardLimit === undefined) continue;
      const state = statements.selectCounter.get(tenantId, key.scope, key.period, key.windowStart) as
        | { spent: number; reserved: number }
        | undefined;
      const spent = state?.spent ?? 0;
      const reserved = state?.reserved ?? 0;
      if (spent + reserved + amount > key.hardLimit) {
        return { ok: false, counter: { ...counterKey(key), spent, reserved, hardLimit: key.hardLimit } };
      }
    }
    const counters = uniqueCounters(request.counters);
    for (const key of counters) statements.chargeCounter.run(tenantId, key.scope, key.period, key.windowStart, 0, amount);
    statements.insertReservation.run(tenantId, reservationId, amount, JSON.stringify(counters), request.expiresAt);
    return { ok: true };
  });

  /** Takes a reservation off its counters, spending `actual`, and deletes it. */
  const unreserve = (row: ReservationRow, actual: number): void => {
    for (const key of JSON.parse(row.counters) as CounterKey[]) {
      statements.chargeCounter.run(row.tenant_id, key.scope, key.period, key.windowStart, actual, -row.amount);
    }
    statements.deleteReservation.run(row.tenant_id, row.id);
  };

  const finishReservation = db.transaction((tenantId: string, reservationId: string, actual: number): boolean => {
    const row = statements.selectReservation.get(tenantId, reservationId) as ReservationRow | undefined;
    if (!row) return false;
    unreserve(row, actual);
    return true;
  });

  const releaseExpired = db.transaction((now: number): number => {
    const rows = statements.selectExpiredReservations.all(now) as ReservationRow[];
    for (const row of rows) unreserve(row, 0);
    return rows.length;
  });

  // One read transaction: the counters come from one snapshot.
  const readCounters = db.transaction((tenantId: string, keys: readonly CounterKey[]) =>
    keys.map((key) => {
      const state = statements.selectCounter.get(tenantId, key.scope, key.period, key.windowStart) as
        | { spent: number; reserved: number }
        | undefined;
      return { ...counterKey(key), spent: state?.spent ?? 0, reserved: state?.reserved ?? 0 };
    }),
  );

  const putVault = db.transaction((tenantId: string, entries: readonly VaultEntry[]) => {
    for (const entry of entries) statements.upsertVaultEntry.run(tenantId, entry.token, entry.sealed, entry.expiresAt ?? null);
  });

  const indexReceipts = db.transaction((rows: readonly AuditIndexRow[]) => {
    for (const row of rows) {
      statements.insertReceipt.run(
        row.seq,
        row.hash,
        row.eventId,
        row.time,
        row.tenantId,
        row.appId ?? null,
        row.userId ?? null,
        row.boundary ?? null,
        row.tool ?? null,
        row.action ?? null,
        row.rule ?? null,
        row.kind,
        row.receipt,
      );
    }
  });

  return {
    kind: 'sqlite',
    location,

    async createApproval(ticket) {
      run('createApproval', () => {
        const { id, tenantId, appId, status, createdAt, expiresAt, requiredApprovals, approvals, resolution, consumedAt, ...rest } = ticket;
        try {
          statements.insertApproval.run(
            tenantId,
            id,
            appId ?? null,
            status,
            createdAt,
            expiresAt,
            requiredApprovals,
            JSON.stringify(approvals),
            json(resolution),
            consumedAt ?? null,
            JSON.stringify(rest),
          );
        } catch (error) {
          if ((error as { code?: string }).code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') throw error;
          throw new StoreFailedError({
            location,
            message: `Approval ${JSON.stringify(id)} already exists for tenant ${JSON.stringify(tenantId)}.`,
            hint: 'Give every approval ticket a new id.',
            cause: error,
          });
        }
      });
    },

    async getApproval(tenantId, id) {
      return run('getApproval', () => {
        const row = statements.selectApproval.get(tenantId, id) as ApprovalRow | undefined;
        return row && toTicket(row);
      });
    },

    async listApprovals(tenantId, filter: ApprovalFilter = {}) {
      return run('listApprovals', () => {
        const where = ['tenant_id = ?'];
        const parameters: unknown[] = [tenantId];
        if (filter.status !== undefined) {
          where.push('status IN (SELECT value FROM json_each(?))');
          parameters.push(JSON.stringify(typeof filter.status === 'string' ? [filter.status] : filter.status));
        }
        if (filter.appId !== undefined) {
          where.push('app_id = ?');
          parameters.push(filter.appId);
        }
        const sql = `SELECT * FROM approvals WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT ?`;
        return (prepared(sql).all(...parameters, resolveLimit(filter.limit)) as ApprovalRow[]).map(toTicket);
      });
    },

    async transitionApproval(tenantId, id, change) {
      return run('transitionApproval', () => transition.immediate(tenantId, id, change));
    },

    async listExpiredApprovals(now, limit) {
      return run('listExpiredApprovals', () =>
        (statements.listExpiredApprovals.all(now, resolveLimit(limit)) as { tenant_id: string; id: string }[]).map((row) => ({
          tenantId: row.tenant_id,
          id: row.id,
        })),
      );
    },

    async consumeApproval(tenantId, id, at) {
      return run('consumeApproval', () => statements.consumeApproval.run(at, tenantId, id).changes === 1);
    },

    async reserveBudget(request) {
      return run('reserveBudget', () => {
        assertNanoDollars(location, 'amount', request.amount);
        for (const key of request.counters) if (key.hardLimit !== undefined) assertNanoDollars(location, 'hardLimit', key.hardLimit);
        return reserve.immediate(request);
      });
    },

    async settleReservation(tenantId, reservationId, actual) {
      return run('settleReservation', () => {
        assertNanoDollars(location, 'actual', actual);
        return finishReservation.immediate(tenantId, reservationId, actual);
      });
    },

    async releaseReservation(tenantId, reservationId) {
      return run('releaseReservation', () => finishReservation.immediate(tenantId, reservationId, 0));
    },

    async releaseExpiredReservations(now) {
      return run('releaseExpiredReservations', () => releaseExpired.immediate(now));
    },

    async readCounters(tenantId, keys) {
      return run('readCounters', () => readCounters(tenantId, keys));
    },

    async recordUsage(record) {
      run('recordUsage', () => {
        assertNanoDollars(location, 'cost', record.cost);
        assertNanoDollars(location, 'inputTokens', record.inputTokens);
        assertNanoDollars(location, 'outputTokens', record.outputTokens);
        statements.insertUsage.run(
          record.tenantId,
          record.appId ?? null,
          record.userId ?? null,
          record.model,
          record.inputTokens,
          record.outputTokens,
          record.cost,
          record.at,
        );
      });
    },

    async summarizeUsage(query: UsageQuery) {
      return run('summarizeUsage', () => {
        const rows = (
          query.tenantId === undefined
            ? statements.summarizeAllUsage.all(query.from, query.to)
            : statements.summarizeTenantUsage.all(query.tenantId, query.from, query.to)
        ) as {
          tenant_id: string;
          app_id: string | null;
          model: string;
          cost: number;
          input_tokens: number;
          output_tokens: number;
          calls: number;
        }[];
        return foldUsage(
          rows.map((row) => ({
            tenantId: row.tenant_id,
            appId: row.app_id ?? undefined,
            model: row.model,
            cost: row.cost,
            inputTokens: row.input_tokens,
            outputTokens: row.output_tokens,
            calls: row.calls,
          })),
        );
      });
    },

    async putVaultEntries(tenantId, entries) {
      run('putVaultEntries', () => putVault.immediate(tenantId, entries));
    },

    async getVaultEntries(tenantId, tokens, now) {
      return run('getVaultEntries', () => {
        const rows = statements.selectVaultEntries.all(tenantId, JSON.stringify([...new Set(tokens)]), now) as {
          token: string;
          sealed: string;
          expires_at: number | null;
        }[];
        const byToken = new Map(rows.map((row) => [row.token, row]));
        const found: VaultEntry[] = [];
        for (const token of new Set(tokens)) {
          const row = byToken.get(token);
          if (row)
            found.push(row.expires_at === null ? { token, sealed: row.sealed } : { token, sealed: row.sealed, expiresAt: row.expires_at });
        }
        return found;
      });
    },

    async deleteExpiredVaultEntries(now) {
      return run('deleteExpiredVaultEntries', () => statements.deleteExpiredVaultEntries.run(now).changes);
    },

    async indexReceipts(rows) {
      run('indexReceipts', () => indexReceipts.immediate(rows));
    },

    async queryReceipts(query: AuditQuery) {
      return run('queryReceipts', () => {
        const where: string[] = [];
        const parameters: unknown[] = [];
        const filter = (clause: string, value: unknown) => {
          where.push(clause);
          parameters.push(value);
        };
        if (query.tenantId !== undefined) filter('tenant_id = ?', query.tenantId);
        if (query.appId !== undefined) filter('app_id = ?', query.appId);
        if (query.from !== undefined) filter('time >= ?', query.from);
        if (query.to !== undefined) filter('time < ?', query.to);
        if (query.action !== undefined) {
          filter(
            'action IN (SELECT value FROM json_each(?))',
            JSON.stringify(typeof query.action === 'string' ? [query.action] : query.action),
          );
        }
        if (query.rule !== undefined) filter('rule = ?', query.rule);
        if (query.kind !== undefined) filter('kind = ?', query.kind);
        if (query.afterSeq !== undefined) filter('seq > ?', query.afterSeq);
        const sql = `SELECT * FROM audit_index${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${query.descending ? 'DESC' : 'ASC'} LIMIT ?`;
        return (prepared(sql).all(...parameters, resolveLimit(query.limit)) as AuditRow[]).map(toAuditRow);
      });
    },

    async auditHead() {
      return run('auditHead', () => (statements.auditHead.get() as { seq: number; hash: string } | undefined) ?? undefined);
    },

    async enqueueAuditRecords(records: readonly string[]) {
      return run('enqueueAuditRecords', () => {
        const at = Date.now();
        db.transaction(() => {
          for (const record of records) statements.enqueueAuditRecord.run(record, at);
        }).immediate();
      });
    },

    async peekAuditRecords(limit: number) {
      return run('peekAuditRecords', () => statements.peekAuditRecords.all(limit) as { id: number; record: string }[]);
    },

    async deleteAuditRecords(ids: readonly number[]) {
      return run('deleteAuditRecords', () => {
        db.transaction(() => {
          for (const id of ids) statements.deleteAuditRecord.run(id);
        }).immediate();
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

function toTicket(row: ApprovalRow): ApprovalTicket {
  const ticket: ApprovalTicket = {
    ...(JSON.parse(row.ticket) as Omit<
      ApprovalTicket,
      'id' | 'tenantId' | 'status' | 'createdAt' | 'expiresAt' | 'requiredApprovals' | 'approvals'
    >),
    id: row.id,
    tenantId: row.tenant_id,
    status: row.status,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    requiredApprovals: row.required_approvals,
    approvals: JSON.parse(row.approvals),
  };
  if (row.app_id !== null) ticket.appId = row.app_id;
  if (row.resolution !== null) ticket.resolution = JSON.parse(row.resolution);
  if (row.consumed_at !== null) ticket.consumedAt = row.consumed_at;
  return ticket;
}

function toAuditRow(row: AuditRow): AuditIndexRow {
  const result: AuditIndexRow = {
    seq: row.seq,
    hash: row.hash,
    eventId: row.event_id,
    time: row.time,
    tenantId: row.tenant_id,
    kind: row.kind,
    receipt: row.receipt,
  };
  if (row.app_id !== null) result.appId = row.app_id;
  if (row.user_id !== null) result.userId = row.user_id;
  if (row.boundary !== null) result.boundary = row.boundary;
  if (row.tool !== null) result.tool = row.tool;
  if (row.action !== null) result.action = row.action;
  if (row.rule !== null) result.rule = row.rule;
  return result;
}
