import { randomUUID } from 'node:crypto';
import { type BudgetsConfig, parseSection } from '../config/config-schema.js';
import { InvalidInputError } from '../errors/invalid-input-error.js';
import type { BudgetEventDetail, PalisadeEvent } from '../events/events.js';
import type { BudgetPeriod, CounterKey, CounterState, Store, UsageSummary } from '../store/store.js';
import { counterId } from '../store/store-rules.js';
import { budgetWindow } from './budget-window.js';
import { assertTokenCount, loadPriceTable, type PriceTable } from './price-table.js';
import {
  type BudgetAction,
  type BudgetScope,
  type BudgetSettings,
  type ResolvedBudgetLimit,
  resolveBudgetLimits,
} from './resolve-budget-limits.js';

const budgetInputHint =
  'Pass what the budget API documents (docs/state.md, "Budgets"): scope { tenantId, appId?, userId? }, usage { model, inputTokens, outputTokens }, period day|week|month or { from, to }.';

/** A budget event as the manager emits it. */
export type BudgetEvent = Extract<PalisadeEvent, { type: 'budget.threshold' | 'budget.exceeded' }>;

/** Where the manager reads its limits: a `CompiledConfig` (its `raw` part) or the parts themselves. */
export type BudgetConfigSource = BudgetSettings | { raw: BudgetSettings };

export interface BudgetManagerOptions {
  store: Store;
  /** Called on every operation, so a hot reload takes effect on the next call. */
  getConfig: () => BudgetConfigSource;
  /** Default: the shipped table with `budgets.prices` and `budgets.unknown_model` of the config. */
  prices?: PriceTable | undefined;
  /** Clock (ms). Default `Date.now`. */
  now?: (() => number) | undefined;
  /** Receives `budget.threshold` and `budget.exceeded`; a throwing subscriber changes nothing. */
  emit?: ((event: BudgetEvent) => void) | undefined;
  /** How often expired reservations are released (ms). Default 60 s; 0 turns the sweep off. */
  sweepInterval?: number | undefined;
  /** Failures of the background sweep and of `emit` (nothing else reports them). */
  onError?: ((error: unknown) => void) | undefined;
}

/** The state of one limit that applies to a scope. Amounts in USD. */
export interface BudgetLimitState {
  /** Counter scope: `tenant`, `app:<id>`, `user:<id>` or `app:<id>/user:<id>`. */
  scope: string;
  period: BudgetPeriod;
  limitUsd: number;
  spentUsd: number;
  /** Held by reservations of calls in flight. */
  reservedUsd: number;
  /** limit − spent − reserved, never below 0. */
  remainingUsd: number;
  /** spent / limit. */
  ratio: number;
  action: BudgetAction;
  /** End of the window (ISO, UTC). */
  resetsAt: string;
  /**
   * hard_block: spent + reserved >= limit. soft_block and warn: spent >= limit. For a refused
   * reservation: the call would take the counter past its limit.
   */
  exceeded: boolean;
  /** Where the limit is written. */
  origin: ResolvedBudgetLimit['origin'];
}

/** Every limit of a scope and the verdict for a new call. */
export interface BudgetCheck {
  /** `block`: a hard or soft limit is exceeded; `warn`: only warn limits are. */
  action: 'allow' | 'warn' | 'block';
  reason?: 'budget_exceeded';
  /** The limit behind `block` (a hard one before a soft one) or `warn`. */
  limit?: BudgetLimitState;
  limits: BudgetLimitState[];
}

export interface CostEstimate {
  model: string;
  inputTokens: number;
  /** The call's output cap (`max_tokens`): the reservation is the most the call can cost. */
  maxOutputTokens: number;
  cachedInputTokens?: number | undefined;
}

export interface ModelUsage {
  model: string;
  /** Every input token, cached ones included. */
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number | undefined;
}

export type ReserveOutcome =
  | { ok: true; reservationId: string /** nano-dollars */; amount: number; amountUsd: number }
  | { ok: false; reason: 'budget_exceeded'; budget: BudgetLimitState };

export type SettleOutcome =
  | { ok: true /** nano-dollars */; cost: number; costUsd: number; check: BudgetCheck }
  /** No reservation of that id for this tenant (settled, released, expired, or another tenant's). */
  | { ok: false; reason: 'not_found' };

export interface CostSummaryQuery {
  /** `undefined`: every tenant. Only an admin caller may ask for that; the manager cannot tell. */
  tenantId: string | undefined;
  /** The current day, ISO week or month (UTC), or a range (`to` exclusive). */
  period: BudgetPeriod | { from: number | Date | string; to: number | Date | string };
}

export interface CostSummary {
  from: string;
  to: string;
  totalUsd: number;
  inputTokens: number;
  outputTokens: number;
  calls: number;
  byModel: Record<string, { costUsd: number; inputTokens: number; outputTokens: number; calls: number }>;
  byTenant: Record<string, { costUsd: number; calls: number }>;
  /** Keyed by app id (`''` for calls without one). */
  byApp: Record<string, { costUsd: number; calls: number }>;
}

export interface BudgetManager {
  /** Every limit of the scope with its spending, and whether a new call may start. */
  checkBudget(scope: BudgetScope): Promise<BudgetCheck>;
  /**
   * Holds the most a call can cost against every counter of its scope, atomically: refused when a
   * hard limit has no room for it, or a soft limit is already spent. Settle or release it after.
   */
  reserve(scope: BudgetScope, estimate: CostEstimate): Promise<ReserveOutcome>;
  /** Records what the reserved call really cost; pass the scope the reservation was made for. */
  settle(reservationId: string, usage: ModelUsage, scope: BudgetScope): Promise<SettleOutcome>;
  /** Drops a reservation without spending (the call did not happen). False: no such reservation. */
  release(reservationId: string, scope: BudgetScope): Promise<boolean>;
  /** Records spending of a call that was not reserved (it happened, so it is never refused). */
  recordUsage(usage: ModelUsage, scope: BudgetScope): Promise<BudgetCheck>;
  /** Spending between two instants, by model, tenant and app. */
  costSummary(query: CostSummaryQuery): Promise<CostSummary>;
  /** Stops the sweep of expired reservations. The store stays open (it is the caller's). */
  close(): void;
}

const nano = 1e9;
const toUsd = (amount: number) => amount / nano;

/**
 * Budgets over a `Store`: limits per tenant, app and user over UTC days, ISO weeks and months,
 * reserve-then-settle for calls in flight, threshold alerts, and cost summaries.
 *
 * Actions of a limit:
 * - `hard_block`: a reservation is refused unless spent + reserved + its amount fits under the
 *   limit (the store checks and charges atomically). INVARIANT: as long as each call's actual
 *   cost is at most its reserved estimate, the committed total (spent + reserved) of a hard
 *   counter never exceeds its limit, however many reservations race. `recordUsage` (spending
 *   nobody reserved) and a call that costs more than its estimate can still take it past.
 * - `soft_block`: new calls are refused once spent >= limit, but reservations already made may
 *   still settle, so spending can overshoot by what was in flight when the limit was reached.
 * - `warn`: never refuses; `checkBudget` says `warn` once the limit is spent.
 *
 * Thresholds: after each settle or recordUsage, every limit whose spent / limit passed one of its
 * `alert_at` fractions with this spending (spent before < fraction × limit <= spent after) emits
 * `budget.threshold` for that fraction, and `budget.exceeded` when it passed the limit itself.
 * Derived from the amounts, not from memory, each is emitted once per window and threshold, also
 * across restarts and by a new manager over the same store. Spending of one tenant is applied one
 * call at a time in this process so that "before" is exact; several processes sharing a store can
 * interleave and report a threshold twice or miss one (the Store returns no state from a settle).
 *
 * Reservation ids carry the time they were made, so a settle charges and evaluates the windows
 * the reservation was made in (a call that straddles midnight counts in the day it started).
 *
 * @example
 * const budgets = createBudgetManager({ store, getConfig: () => guardConfig, emit: (event) => alerts.publish(event) });
 * const reservation = await budgets.reserve({ tenantId: 'acme', appId: 'chat', userId: 'u1' }, { model: 'gpt-4o', inputTokens: 1200, maxOutputTokens: 800 });
 * if (!reservation.ok) throw new Error(`budget ${reservation.budget.scope} is spent`);
 * const response = await callModel();
 * await budgets.settle(reservation.reservationId, { model: 'gpt-4o', inputTokens: 1200, outputTokens: response.outputTokens }, scope);
 */
export function createBudgetManager(options: BudgetManagerOptions): BudgetManager {
  const { store } = options;
  const now = options.now ?? Date.now;
  const pricesByConfig = new WeakMap<BudgetsConfig, PriceTable>();
  let defaultBudgets: BudgetsConfig | undefined;

  const settings = (): { settings: BudgetSettings; budgets: BudgetsConfig } => {
    const source = options.getConfig();
    const resolved: BudgetSettings = 'raw' in source ? source.raw : source;
    defaultBudgets ??= parseSection('budgets', {});
    return { settings: resolved, budgets: resolved.budgets ?? defaultBudgets };
  };

  const pricesFor = (budgets: BudgetsConfig): PriceTable => {
    if (options.prices) return options.prices;
    let table = pricesByConfig.get(budgets);
    if (!table) {
      table = loadPriceTable({ overrides: budgets.prices, unknownModel: budgets.unknown_model });
      pricesByConfig.set(budgets, table);
    }
    return table;
  };

  const report = (error: unknown) => {
    try {
      options.onError?.(error);
    } catch {
      // INVARIANT: reporting a failure can never fail a budget operation.
    }
  };

  const emit = (event: BudgetEvent) => {
    if (!options.emit) return;
    try {
      options.emit(event);
    } catch (error) {
      report(error);
    }
  };

  // Spending of one tenant is applied one call at a time (see "Thresholds" above).
  const queues = new Map<string, Promise<unknown>>();
  const serialize = <T>(tenantId: string, task: () => Promise<T>): Promise<T> => {
    const previous = queues.get(tenantId) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    queues.set(tenantId, tail);
    void tail.then(() => {
      if (queues.get(tenantId) === tail) queues.delete(tenantId);
    });
    return run;
  };

  const readStates = async (tenantId: string, limits: readonly ResolvedBudgetLimit[]): Promise<Map<string, CounterState>> => {
    const keys = uniqueKeys(limits.map((limit) => limit.counter));
    const states = keys.length === 0 ? [] : await store.readCounters(tenantId, keys);
    return new Map(states.map((state) => [counterId(state), state]));
  };

  /** Reads the counters after spending `cost` and emits every threshold this spending passed. */
  const afterSpending = async (scope: BudgetScope, windowAt: number, cost: number, at: number): Promise<BudgetCheck> => {
    const limits = resolveBudgetLimits(settings().settings, scope, windowAt);
    const states = await readStates(scope.tenantId, limits);
    const described = limits.map((limit) => {
      const state = states.get(counterId(limit.counter));
      const after = state?.spent ?? 0;
      const before = after - cost;
      const detail = describeLimit(limit, state);
      for (const threshold of limit.alertAt) {
        if (before < threshold * limit.limit && threshold * limit.limit <= after) {
          emit(event('budget.threshold', scope, at, limit, after, threshold));
        }
      }
      if (before < limit.limit && limit.limit <= after) emit(event('budget.exceeded', scope, at, limit, after, undefined));
      return detail;
    });
    return verdict(described);
  };

  let sweeping = false;
  const sweepInterval = options.sweepInterval ?? 60_000;
  const timer =
    sweepInterval > 0
      ? setInterval(() => {
          if (sweeping) return;
          sweeping = true;
          store
            .releaseExpiredReservations(now())
            .catch(report)
            .finally(() => {
              sweeping = false;
            });
        }, sweepInterval)
      : undefined;
  timer?.unref();

  return {
    async checkBudget(scope) {
      assertScope(scope);
      const at = now();
      const limits = resolveBudgetLimits(settings().settings, scope, at);
      if (limits.length === 0) return { action: 'allow', limits: [] };
      const states = await readStates(scope.tenantId, limits);
      return verdict(limits.map((limit) => describeLimit(limit, states.get(counterId(limit.counter)))));
    },

    async reserve(scope, estimate) {
      assertScope(scope);
      assertRecord(estimate, 'estimate');
      assertTokenCount(estimate.inputTokens, 'estimate.inputTokens');
      assertTokenCount(estimate.maxOutputTokens, 'estimate.maxOutputTokens');
      const at = now();
      const { settings: config, budgets } = settings();
      const amount = pricesFor(budgets).cost({
        model: estimate.model,
        inputTokens: estimate.inputTokens,
        outputTokens: estimate.maxOutputTokens,
        cachedInputTokens: estimate.cachedInputTokens,
      });
      const limits = resolveBudgetLimits(config, scope, at);

      const soft = limits.filter((limit) => limit.action === 'soft_block');
      if (soft.length > 0) {
        const states = await readStates(scope.tenantId, soft);
        for (const limit of soft) {
          const state = states.get(counterId(limit.counter));
          if ((state?.spent ?? 0) >= limit.limit) return { ok: false, reason: 'budget_exceeded', budget: describeLimit(limit, state) };
        }
      }

      const reservationId = newReservationId(at);
      const result = await store.reserveBudget({
        tenantId: scope.tenantId,
        reservationId,
        amount,
        counters: counterRequests(limits, true),
        expiresAt: at + budgets.reservation_ttl,
      });
      if (!result.ok) {
        const refused = result.counter;
        // INVARIANT: the store refuses only counters sent with a hard limit, so one of ours matches.
        const limit = limits.find(
          (candidate) =>
            candidate.action === 'hard_block' &&
            candidate.limit === refused.hardLimit &&
            counterId(candidate.counter) === counterId(refused),
        )!;
        return { ok: false, reason: 'budget_exceeded', budget: { ...describeLimit(limit, refused), exceeded: true } };
      }
      return { ok: true, reservationId, amount, amountUsd: toUsd(amount) };
    },

    async settle(reservationId, usage, scope) {
      assertScope(scope);
      assertReservationId(reservationId);
      assertRecord(usage, 'usage');
      const { budgets } = settings();
      // Priced before anything changes: an unknown model leaves the reservation held, to be released.
      const cost = pricesFor(budgets).cost(usage);
      const reservedAt = reservationTime(reservationId) ?? now();
      return serialize(scope.tenantId, async (): Promise<SettleOutcome> => {
        const at = now();
        if (!(await store.settleReservation(scope.tenantId, reservationId, cost, at))) return { ok: false, reason: 'not_found' };
        await store.recordUsage(usageRecord(scope, usage, cost, at));
        const after = await afterSpending(scope, reservedAt, cost, at);
        return { ok: true, cost, costUsd: toUsd(cost), check: after };
      });
    },

    async release(reservationId, scope) {
      assertScope(scope);
      assertReservationId(reservationId);
      return store.releaseReservation(scope.tenantId, reservationId);
    },

    async recordUsage(usage, scope) {
      assertScope(scope);
      assertRecord(usage, 'usage');
      const { settings: config, budgets } = settings();
      const cost = pricesFor(budgets).cost(usage);
      return serialize(scope.tenantId, async () => {
        const at = now();
        // The Store spends only through reservations: reserve without limits (never refused), then settle.
        const reservationId = newReservationId(at);
        const limits = resolveBudgetLimits(config, scope, at);
        await store.reserveBudget({
          tenantId: scope.tenantId,
          reservationId,
          amount: cost,
          counters: counterRequests(limits, false),
          expiresAt: at + budgets.reservation_ttl,
        });
        await store.settleReservation(scope.tenantId, reservationId, cost, at);
        await store.recordUsage(usageRecord(scope, usage, cost, at));
        return afterSpending(scope, at, cost, at);
      });
    },

    async costSummary(query) {
      assertRecord(query, 'query');
      if (query.tenantId !== undefined && typeof query.tenantId !== 'string') {
        throw new InvalidInputError({
          hint: budgetInputHint,
          path: 'query.tenantId',
          message: 'expected a tenant id (a string) or undefined for every tenant',
        });
      }
      const { from, to } = summaryRange(query.period, now());
      return toCostSummary(await store.summarizeUsage({ tenantId: query.tenantId, from, to }), from, to);
    },

    close() {
      if (timer) clearInterval(timer);
    },
  };
}

/** Counters of a reservation, each once; with `hard`, a counter carries its smallest hard limit. */
function counterRequests(limits: readonly ResolvedBudgetLimit[], hard: boolean): (CounterKey & { hardLimit?: number })[] {
  const byId = new Map<string, CounterKey & { hardLimit?: number }>();
  for (const limit of limits) {
    const id = counterId(limit.counter);
    const request = byId.get(id) ?? { ...limit.counter };
    if (hard && limit.action === 'hard_block') request.hardLimit = Math.min(request.hardLimit ?? limit.limit, limit.limit);
    byId.set(id, request);
  }
  return [...byId.values()];
}

function uniqueKeys(keys: readonly CounterKey[]): CounterKey[] {
  const byId = new Map<string, CounterKey>();
  for (const key of keys) byId.set(counterId(key), key);
  return [...byId.values()];
}

function describeLimit(limit: ResolvedBudgetLimit, state: Pick<CounterState, 'spent' | 'reserved'> | undefined): BudgetLimitState {
  const spent = state?.spent ?? 0;
  const reserved = state?.reserved ?? 0;
  return {
    scope: limit.counter.scope,
    period: limit.counter.period,
    limitUsd: limit.limitUsd,
    spentUsd: toUsd(spent),
    reservedUsd: toUsd(reserved),
    remainingUsd: toUsd(Math.max(0, limit.limit - spent - reserved)),
    ratio: spent / limit.limit,
    action: limit.action,
    resetsAt: new Date(limit.resetsAt).toISOString(),
    exceeded: limit.action === 'hard_block' ? spent + reserved >= limit.limit : spent >= limit.limit,
    origin: limit.origin,
  };
}

function verdict(limits: BudgetLimitState[]): BudgetCheck {
  const blocking =
    limits.find((limit) => limit.exceeded && limit.action === 'hard_block') ??
    limits.find((limit) => limit.exceeded && limit.action === 'soft_block');
  if (blocking) return { action: 'block', reason: 'budget_exceeded', limit: blocking, limits };
  const warning = limits.find((limit) => limit.exceeded);
  if (warning) return { action: 'warn', reason: 'budget_exceeded', limit: warning, limits };
  return { action: 'allow', limits };
}

function event(
  type: BudgetEvent['type'],
  scope: BudgetScope,
  at: number,
  limit: ResolvedBudgetLimit,
  spent: number,
  threshold: number | undefined,
): BudgetEvent {
  const budget: BudgetEventDetail = {
    scope: limit.counter.scope,
    period: limit.counter.period,
    limitUsd: limit.limitUsd,
    spentUsd: toUsd(spent),
    ratio: spent / limit.limit,
    action: limit.action,
    resetsAt: new Date(limit.resetsAt).toISOString(),
  };
  if (threshold !== undefined) budget.threshold = threshold;
  // Fixed per kind: reaching a limit that refuses calls is HIGH, everything else MEDIUM.
  const reachesBlockingLimit = limit.action !== 'warn' && (type === 'budget.exceeded' || (threshold ?? 0) >= 1);
  return {
    type,
    time: new Date(at).toISOString(),
    tenantId: scope.tenantId,
    ...(scope.appId === undefined ? {} : { appId: scope.appId }),
    severity: reachesBlockingLimit ? 'HIGH' : 'MEDIUM',
    budget,
  };
}

function usageRecord(scope: BudgetScope, usage: ModelUsage, cost: number, at: number) {
  return {
    tenantId: scope.tenantId,
    ...(scope.appId === undefined ? {} : { appId: scope.appId }),
    ...(scope.userId === undefined ? {} : { userId: scope.userId }),
    model: usage.model,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cost,
    at,
  };
}

function summaryRange(period: CostSummaryQuery['period'], at: number): { from: number; to: number } {
  if (typeof period === 'string') {
    if (period !== 'day' && period !== 'week' && period !== 'month') {
      throw new InvalidInputError({
        hint: budgetInputHint,
        path: 'query.period',
        message: `expected day, week, month or { from, to }, got ${JSON.stringify(period)}`,
      });
    }
    const window = budgetWindow(period, at);
    return { from: window.start, to: window.end };
  }
  assertRecord(period, 'query.period');
  const from = instant(period.from, 'query.period.from');
  const to = instant(period.to, 'query.period.to');
  if (from >= to) throw new InvalidInputError({ hint: budgetInputHint, path: 'query.period', message: '`from` must be before `to`' });
  return { from, to };
}

function instant(value: unknown, path: string): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : value;
  if (typeof ms === 'number' && Number.isFinite(ms)) return ms;
  throw new InvalidInputError({
    hint: budgetInputHint,
    path,
    message: `expected a time (ms since the epoch, a Date or an ISO string), got ${String(value)}`,
  });
}

function toCostSummary(summary: UsageSummary, from: number, to: number): CostSummary {
  const byModel: CostSummary['byModel'] = Object.create(null);
  for (const [model, entry] of Object.entries(summary.byModel)) {
    byModel[model] = { costUsd: toUsd(entry.cost), inputTokens: entry.inputTokens, outputTokens: entry.outputTokens, calls: entry.calls };
  }
  const group = (groups: Record<string, { cost: number; calls: number }>) => {
    const result: Record<string, { costUsd: number; calls: number }> = Object.create(null);
    for (const [key, entry] of Object.entries(groups)) result[key] = { costUsd: toUsd(entry.cost), calls: entry.calls };
    return result;
  };
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    totalUsd: toUsd(summary.total),
    inputTokens: summary.inputTokens,
    outputTokens: summary.outputTokens,
    calls: summary.calls,
    byModel,
    byTenant: group(summary.byTenant),
    byApp: group(summary.byApp),
  };
}

/** `r_<ms in base 36>_<random>`: unguessable, and it says which windows the reservation charged. */
function newReservationId(at: number): string {
  return `r_${at.toString(36)}_${randomUUID()}`;
}

function reservationTime(reservationId: string): number | undefined {
  const match = /^r_([0-9a-z]{1,11})_/.exec(reservationId);
  if (!match) return undefined;
  const at = Number.parseInt(match[1] as string, 36);
  return Number.isSafeInteger(at) ? at : undefined;
}

function assertScope(scope: BudgetScope): void {
  assertRecord(scope, 'scope');
  if (typeof scope.tenantId !== 'string') {
    throw new InvalidInputError({
      hint: budgetInputHint,
      path: 'scope.tenantId',
      message: `expected a tenant id (a string; '' for none), got ${String(scope.tenantId)}`,
    });
  }
  if (scope.appId !== undefined && (typeof scope.appId !== 'string' || scope.appId.length === 0 || scope.appId.includes('/'))) {
    throw new InvalidInputError({
      hint: budgetInputHint,
      path: 'scope.appId',
      message: `expected an app id (a non-empty string without "/"), got ${String(scope.appId)}`,
    });
  }
  if (scope.userId !== undefined && typeof scope.userId !== 'string') {
    throw new InvalidInputError({
      hint: budgetInputHint,
      path: 'scope.userId',
      message: `expected a user id (a string), got ${String(scope.userId)}`,
    });
  }
}

function assertReservationId(reservationId: unknown): void {
  if (typeof reservationId === 'string' && reservationId.length > 0) return;
  throw new InvalidInputError({
    hint: budgetInputHint,
    path: 'reservationId',
    message: `expected the id returned by reserve(), got ${String(reservationId)}`,
  });
}

function assertRecord(value: unknown, path: string): void {
  if (typeof value === 'object' && value !== null) return;
  throw new InvalidInputError({ hint: budgetInputHint, path, message: `expected an object, got ${String(value)}` });
}
