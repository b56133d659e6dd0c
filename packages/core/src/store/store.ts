import type { Action, Boundary } from '../policy/types.js';

/**
 * Runtime state behind one interface: approval tickets, budget counters and reservations, usage
 * records, the PII token vault and the audit index. The embedded default is SQLite
 * (`openSqliteStore`); `createMemoryStore` is for tests; a shared database implements the same
 * interface (and runs `runStoreContract` from `@palisade/core/test/store-contract`).
 *
 * INVARIANT: every method that reads or writes a tenant's rows takes the tenant id and matches it
 * in the same query. A row of another tenant is "not found" (`undefined`, `false`, an empty list),
 * never an error that would tell the caller it exists.
 *
 * Tenant ids are strings; events without a tenant are stored under `''`.
 */
export interface Store {
  /** `sqlite`, `memory`, … */
  readonly kind: string;
  /** Where the state lives (a file path for SQLite). */
  readonly location: string;

  // Approvals.
  createApproval(ticket: ApprovalTicket): Promise<void>;
  getApproval(tenantId: string, id: string): Promise<ApprovalTicket | undefined>;
  listApprovals(tenantId: string, filter?: ApprovalFilter): Promise<ApprovalTicket[]>;
  /**
   * Applies one transition atomically (a compare-and-set on `status = 'pending'`): of two racing
   * transitions exactly one changes the ticket; the other sees the outcome.
   */
  transitionApproval(tenantId: string, id: string, transition: ApprovalTransition): Promise<TransitionResult>;
  /**
   * Pending tickets of every tenant whose expiry is at or before `now` (for the expiry sweep),
   * soonest expiry first; `limit` defaults to 100, at most 10,000.
   */
  listExpiredApprovals(now: number, limit?: number): Promise<{ tenantId: string; id: string }[]>;
  /** Marks an approved ticket as used by the call it approved; true once, false after. */
  consumeApproval(tenantId: string, id: string, at: number): Promise<boolean>;

  // Budgets.
  /**
   * Reserves `amount` against every counter atomically: either every counter with a hard limit
   * has room (spent + reserved + amount <= limit) and all are charged, or none is.
   */
  reserveBudget(request: ReserveRequest): Promise<ReserveResult>;
  /** Turns a reservation into spending of `actual`; releases what it held. Unknown id: false. */
  settleReservation(tenantId: string, reservationId: string, actual: number, at: number): Promise<boolean>;
  /** Drops a reservation without spending. Unknown id: false. */
  releaseReservation(tenantId: string, reservationId: string): Promise<boolean>;
  /** Releases every reservation that has expired at `now` (`expiresAt <= now`); returns how many. */
  releaseExpiredReservations(now: number): Promise<number>;
  /** Spent and reserved amounts of counters (zeros for counters never charged). */
  readCounters(tenantId: string, counters: readonly CounterKey[]): Promise<CounterState[]>;
  /** One usage line (model, tokens, cost) for cost summaries. */
  recordUsage(record: UsageRecord): Promise<void>;
  /** Sums of usage between `from` (inclusive) and `to` (exclusive); `tenantId: undefined` only for admins. */
  summarizeUsage(query: UsageQuery): Promise<UsageSummary>;

  // Token vault (values are sealed by the caller; the store never sees plaintext).
  putVaultEntries(tenantId: string, entries: readonly VaultEntry[]): Promise<void>;
  /** The entries found among `tokens`, in the order asked; an entry with `expiresAt <= now` is not found. */
  getVaultEntries(tenantId: string, tokens: readonly string[], now: number): Promise<VaultEntry[]>;
  /** Deletes the entries of every tenant with `expiresAt <= now`; returns how many. */
  deleteExpiredVaultEntries(now: number): Promise<number>;

  // Audit index.
  /** Indexes receipts already durable in the audit log, with the new head of the chain. */
  indexReceipts(rows: readonly AuditIndexRow[]): Promise<void>;
  /** `tenantId: undefined` (every tenant) only for admin callers. */
  queryReceipts(query: AuditQuery): Promise<AuditIndexRow[]>;
  /** The newest indexed receipt's sequence number and hash: a truncated log ends before it. */
  auditHead(): Promise<{ seq: number; hash: string } | undefined>;

  // Audit outbox: receipts of a process that does not hold the audit log's writer lock (the CLI
  // approving while a server runs). The writer moves them into the chain, oldest first. Not
  // tenant-scoped: only the audit writer reads it.
  /** Keeps records (JSON text of audit records) durably until the writer takes them. */
  enqueueAuditRecords(records: readonly string[]): Promise<void>;
  /** The oldest queued records, at most `limit`. */
  peekAuditRecords(limit: number): Promise<{ id: number; record: string }[]>;
  /** Removes records the writer has made durable in the chain. */
  deleteAuditRecords(ids: readonly number[]): Promise<void>;

  /** Closes the store; later calls reject with StoreFailedError (closing again is a no-op). */
  close(): Promise<void>;
}

export const approvalStatuses = ['pending', 'approved', 'denied', 'expired'] as const;
export type ApprovalStatus = (typeof approvalStatuses)[number];

/** An escalated event waiting for (or past) a human decision. */
export interface ApprovalTicket {
  id: string;
  tenantId: string;
  appId?: string;
  userId?: string;
  sessionId?: string;
  /** Event id of the decision that escalated. */
  eventId: string;
  boundary: Boundary;
  tool?: string;
  /** Arguments as the policy allows them to be shown (redacted). */
  args?: unknown;
  /** Sealed original event (for re-evaluation at approval time); opaque to the store. */
  sealedEvent?: string;
  /** SHA-256 of the canonical original arguments: an approval covers exactly this call. */
  argsHash?: string;
  reason: string;
  /** The rule that escalated (`policyId/ruleName`). */
  rule: string;
  policyVersion: string;
  createdAt: number;
  expiresAt: number;
  requiredApprovals: number;
  /** What an expired ticket means: `deny` (the default) or `allow`. */
  onTimeout: 'deny' | 'allow';
  status: ApprovalStatus;
  approvals: ApprovalVote[];
  /** Who denied, why, and when (status `denied`), or the expiry (status `expired`). */
  resolution?: { by: string; reason: string; at: number };
  /** When the approved call was used (an approval lets one call through). */
  consumedAt?: number;
}

export interface ApprovalVote {
  approver: string;
  note?: string;
  at: number;
}

/** Tickets are listed oldest first (`createdAt`, then `id`). */
export interface ApprovalFilter {
  status?: ApprovalStatus | readonly ApprovalStatus[];
  appId?: string;
  /** Default 100, at most 10,000. */
  limit?: number;
}

export type ApprovalTransition =
  | { kind: 'approve'; approver: string; note?: string; at: number }
  | { kind: 'deny'; approver: string; reason: string; at: number }
  | { kind: 'expire'; at: number };

export type TransitionResult =
  | { outcome: 'changed'; ticket: ApprovalTicket }
  /** Nothing changed: the same approver voted again, or the ticket already ended (see `ticket.status`). */
  | { outcome: 'unchanged'; ticket: ApprovalTicket }
  | { outcome: 'not_found' };

export const budgetPeriods = ['day', 'week', 'month'] as const;
export type BudgetPeriod = (typeof budgetPeriods)[number];

/** One budget counter: a scope (tenant, app or user) over one period window. */
export interface CounterKey {
  /** `tenant`, `app:<appId>` or `user:<userId>`. */
  scope: string;
  period: BudgetPeriod;
  /** Start of the window (ms since epoch, UTC). */
  windowStart: number;
}

export interface CounterState extends CounterKey {
  spent: number;
  reserved: number;
}

/** Amounts are integers in nano-dollars (1e-9 USD) so that sums are exact. */
export interface ReserveRequest {
  tenantId: string;
  reservationId: string;
  amount: number;
  counters: readonly (CounterKey & { hardLimit?: number })[];
  /** When an unsettled reservation is released by itself. */
  expiresAt: number;
}

export type ReserveResult = { ok: true } | { ok: false; counter: CounterState & { hardLimit: number } };

export interface UsageRecord {
  tenantId: string;
  appId?: string;
  userId?: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** Nano-dollars. */
  cost: number;
  at: number;
}

export interface UsageQuery {
  tenantId: string | undefined;
  from: number;
  to: number;
}

export interface UsageSummary {
  total: number;
  inputTokens: number;
  outputTokens: number;
  calls: number;
  byModel: Record<string, { cost: number; inputTokens: number; outputTokens: number; calls: number }>;
  byTenant: Record<string, { cost: number; calls: number }>;
  /** Keyed by app id; `''` for usage without an app. */
  byApp: Record<string, { cost: number; calls: number }>;
}

export interface VaultEntry {
  token: string;
  /** Sealed original value (see `createVault`). */
  sealed: string;
  expiresAt?: number;
}

/** What the audit index keeps of a receipt. */
export interface AuditIndexRow {
  seq: number;
  hash: string;
  eventId: string;
  time: number;
  tenantId: string;
  appId?: string;
  userId?: string;
  boundary?: Boundary;
  tool?: string;
  action?: Action;
  /** Deciding rule, `policyId/ruleName`. */
  rule?: string;
  /** Receipt kind: `decision`, `approval.approved`, … */
  kind: string;
  /** The receipt as written (canonical JSON). */
  receipt: string;
}

export interface AuditQuery {
  tenantId: string | undefined;
  appId?: string;
  from?: number;
  to?: number;
  action?: Action | readonly Action[];
  rule?: string;
  kind?: string;
  /** Receipts after this sequence number (for paging and tailing); also with `descending`. */
  afterSeq?: number;
  /** Default 100, at most 10,000. */
  limit?: number;
  /** Newest first. Default false (oldest first). */
  descending?: boolean;
}
