import type BetterSqlite3 from 'better-sqlite3';
import { StoreFailedError } from '../errors/store-failed-error.js';

/** One schema step: the SQL that takes a database from `version - 1` to `version`. */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/**
 * The schema of the SQLite store, oldest first. Append a step to change it; never edit a step
 * that has shipped (databases in the field have already run it).
 *
 * INVARIANT: `migrations[i].version === i + 1`; the database's `PRAGMA user_version` is the
 * version of the last step applied.
 * INVARIANT: every table that holds a tenant's rows has `tenant_id` first in its primary key, so
 * an id is only ever unique within one tenant.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'approvals, budget counters and reservations, usage, token vault, audit index',
    sql: `
      CREATE TABLE approvals (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        app_id TEXT,
        status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        required_approvals INTEGER NOT NULL,
        -- JSON array of votes, JSON resolution: they only change together with status.
        approvals TEXT NOT NULL,
        resolution TEXT,
        consumed_at INTEGER,
        -- JSON of every other ticket field; written once at creation.
        ticket TEXT NOT NULL,
        PRIMARY KEY (tenant_id, id)
      );
      CREATE INDEX approvals_by_status ON approvals (tenant_id, status, created_at);
      CREATE INDEX approvals_by_app ON approvals (tenant_id, app_id, created_at);
      CREATE INDEX approvals_pending_by_expiry ON approvals (expires_at) WHERE status = 'pending';

      CREATE TABLE budget_counters (
        tenant_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        period TEXT NOT NULL,
        window_start INTEGER NOT NULL,
        spent INTEGER NOT NULL DEFAULT 0,
        reserved INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, scope, period, window_start)
      ) WITHOUT ROWID;

      CREATE TABLE budget_reservations (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        amount INTEGER NOT NULL,
        -- JSON array of the counter keys charged, each once.
        counters TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, id)
      );
      CREATE INDEX budget_reservations_by_expiry ON budget_reservations (expires_at);

      CREATE TABLE usage (
        id INTEGER PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        app_id TEXT,
        user_id TEXT,
        model TEXT NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cost INTEGER NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE INDEX usage_by_tenant ON usage (tenant_id, at);
      CREATE INDEX usage_by_time ON usage (at);

      CREATE TABLE vault (
        tenant_id TEXT NOT NULL,
        token TEXT NOT NULL,
        sealed TEXT NOT NULL,
        expires_at INTEGER,
        PRIMARY KEY (tenant_id, token)
      );
      CREATE INDEX vault_by_expiry ON vault (expires_at) WHERE expires_at IS NOT NULL;

      CREATE TABLE audit_index (
        seq INTEGER PRIMARY KEY,
        hash TEXT NOT NULL,
        event_id TEXT NOT NULL,
        time INTEGER NOT NULL,
        tenant_id TEXT NOT NULL,
        app_id TEXT,
        user_id TEXT,
        boundary TEXT,
        tool TEXT,
        action TEXT,
        rule TEXT,
        kind TEXT NOT NULL,
        receipt TEXT NOT NULL
      );
      CREATE INDEX audit_by_tenant ON audit_index (tenant_id, seq);
      CREATE INDEX audit_by_tenant_time ON audit_index (tenant_id, time);
      CREATE INDEX audit_by_time ON audit_index (time);
    `,
  },
  {
    version: 2,
    description: 'audit outbox: receipts of processes that do not hold the audit writer lock',
    sql: `
      CREATE TABLE audit_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        record TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
    `,
  },
];

/** The schema version this code writes. */
export const latestSchemaVersion: number = migrations.length;

/**
 * Brings the database at `location` up to `latestSchemaVersion`, one transaction per step, and
 * returns the version it started from. A database that is already current is left alone.
 *
 * INVARIANT: each step re-reads `user_version` inside its own `BEGIN IMMEDIATE` transaction, so
 * two processes opening a new file at once apply every step exactly once.
 * INVARIANT: a database written by a newer Palisade is refused before anything is written.
 *
 * @example
 * const from = migrate(db, '/var/lib/palisade/state.db'); // 0 for a new file
 */
export function migrate(db: BetterSqlite3.Database, location: string): number {
  const initial = readSchemaVersion(db);
  assertSchemaSupported(initial, location);
  for (const step of migrations) {
    if (step.version <= initial) continue;
    db.transaction(() => {
      const current = readSchemaVersion(db);
      assertSchemaSupported(current, location);
      if (current >= step.version) return;
      db.exec(step.sql);
      db.pragma(`user_version = ${step.version}`);
    }).immediate();
  }
  return initial;
}

/** The schema version recorded in the database (`PRAGMA user_version`; 0 for a new file). */
export function readSchemaVersion(db: BetterSqlite3.Database): number {
  return Number(db.pragma('user_version', { simple: true }));
}

/**
 * Refuses a database whose schema is newer than this code knows.
 *
 * @example
 * assertSchemaSupported(readSchemaVersion(db), path) // throws StoreFailedError for a newer file
 */
export function assertSchemaSupported(version: number, location: string): void {
  if (version <= latestSchemaVersion) return;
  throw new StoreFailedError({
    location,
    message: `The state store ${location} has schema version ${version}, but this Palisade only knows versions up to ${latestSchemaVersion}: it was written by a newer Palisade.`,
    hint: 'Upgrade Palisade to the version that wrote the file (the file was not changed), or point store.path at another file.',
  });
}
