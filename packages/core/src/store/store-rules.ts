import { StoreFailedError } from '../errors/store-failed-error.js';
import type { CounterKey, UsageRecord, UsageSummary } from './store.js';

/** Default and largest number of rows a list or query returns. */
export const defaultListLimit = 100;
export const maxListLimit = 10_000;

/**
 * The number of rows to return for a caller's `limit`: the default when absent, clamped to
 * 0 … 10,000 otherwise (a caller can never ask for an unbounded read).
 *
 * @example
 * resolveLimit(undefined) // 100
 * resolveLimit(50_000) // 10_000
 */
export function resolveLimit(limit: number | undefined): number {
  if (limit === undefined || Number.isNaN(limit)) return defaultListLimit;
  return Math.max(0, Math.min(maxListLimit, Math.floor(limit)));
}

/**
 * Refuses an amount that is not a non-negative safe integer. Money is counted in integer
 * nano-dollars so that sums are exact; a fraction or a float would make counters drift.
 *
 * @example
 * assertNanoDollars(store.location, 'amount', 1_500_000) // ok
 */
export function assertNanoDollars(location: string, name: string, value: number): void {
  if (Number.isSafeInteger(value) && value >= 0) return;
  throw new StoreFailedError({
    location,
    message: `State store ${location}: ${name} must be a non-negative integer (nano-dollars, or a count), got ${String(value)}.`,
    hint: 'Convert dollars with Math.round(dollars * 1e9) before calling the store.',
  });
}

/**
 * A string that identifies a counter within one tenant.
 *
 * @example
 * counterId({ scope: 'tenant', period: 'day', windowStart: 0 }) // 'tenant\u0000day\u00000'
 */
export function counterId(counter: CounterKey): string {
  return `${counter.scope}\u0000${counter.period}\u0000${counter.windowStart}`;
}

/**
 * Whether something that expires at `expiresAt` has expired at `now`.
 *
 * INVARIANT: one rule for every store and every kind of row: valid before `expiresAt`, expired
 * at and after it.
 */
export function isExpired(expiresAt: number, now: number): boolean {
  return expiresAt <= now;
}

/**
 * The key fields of a counter, without anything else the caller's object carries (`hardLimit`).
 *
 * @example
 * counterKey({ scope: 'tenant', period: 'day', windowStart: 0, hardLimit: 5 }) // { scope: 'tenant', period: 'day', windowStart: 0 }
 */
export function counterKey(key: CounterKey): CounterKey {
  return { scope: key.scope, period: key.period, windowStart: key.windowStart };
}

/**
 * The counters of a request, each once: a counter listed twice is checked against each of its
 * limits but charged once.
 *
 * @example
 * uniqueCounters([day, day, month]) // [day, month]
 */
export function uniqueCounters(keys: readonly CounterKey[]): CounterKey[] {
  const byId = new Map<string, CounterKey>();
  for (const key of keys) if (!byId.has(counterId(key))) byId.set(counterId(key), counterKey(key));
  return [...byId.values()];
}

/** Code-unit order, the same as SQLite's default BINARY collation. */
export function compareStrings(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Usage to fold: one record (`calls` absent) or a pre-summed group of `calls` records. */
export type UsageGroup = Pick<UsageRecord, 'tenantId' | 'appId' | 'model' | 'inputTokens' | 'outputTokens' | 'cost'> & { calls?: number };

/**
 * Folds usage into a summary. Apps are keyed by app id (`''` for usage without one); the maps have
 * no prototype, so a model or tenant called `__proto__` is just a key.
 *
 * @example
 * foldUsage([{ tenantId: 'a', model: 'gpt', inputTokens: 1, outputTokens: 2, cost: 3 }]).total // 3
 */
export function foldUsage(groups: Iterable<UsageGroup>): UsageSummary {
  const summary: UsageSummary = {
    total: 0,
    inputTokens: 0,
    outputTokens: 0,
    calls: 0,
    byModel: Object.create(null),
    byTenant: Object.create(null),
    byApp: Object.create(null),
  };
  for (const group of groups) {
    const calls = group.calls ?? 1;
    summary.total += group.cost;
    summary.inputTokens += group.inputTokens;
    summary.outputTokens += group.outputTokens;
    summary.calls += calls;
    const model = summary.byModel[group.model] ?? { cost: 0, inputTokens: 0, outputTokens: 0, calls: 0 };
    model.cost += group.cost;
    model.inputTokens += group.inputTokens;
    model.outputTokens += group.outputTokens;
    model.calls += calls;
    summary.byModel[group.model] = model;
    const tenant = summary.byTenant[group.tenantId] ?? { cost: 0, calls: 0 };
    tenant.cost += group.cost;
    tenant.calls += calls;
    summary.byTenant[group.tenantId] = tenant;
    const appId = group.appId ?? '';
    const app = summary.byApp[appId] ?? { cost: 0, calls: 0 };
    app.cost += group.cost;
    app.calls += calls;
    summary.byApp[appId] = app;
  }
  return summary;
}
