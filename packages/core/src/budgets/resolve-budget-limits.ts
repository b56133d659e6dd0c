import type { BudgetLimitConfig, BudgetsConfig } from '../config/config-schema.js';
import type { BudgetPeriod, CounterKey } from '../store/store.js';
import { budgetWindow } from './budget-window.js';

/** Whose spending a budget call is about. */
export interface BudgetScope {
  tenantId: string;
  appId?: string | undefined;
  userId?: string | undefined;
}

export type BudgetAction = BudgetLimitConfig['action'];

/** The budget parts of a configuration (`CompiledConfig['raw']` has this shape). */
export interface BudgetSettings {
  /** The top-level `budgets:` section, parsed (`parseSection('budgets', …)`); absent: defaults. */
  budgets?: BudgetsConfig | undefined;
  tenants?: Readonly<Record<string, BudgetTenantSettings>> | undefined;
}

export interface BudgetTenantSettings {
  budgets?: readonly BudgetLimitConfig[] | undefined;
  apps?: Readonly<Record<string, { budgets?: readonly BudgetLimitConfig[] | undefined }>> | undefined;
}

/** One limit that applies to a scope, bound to its counter and current window. */
export interface ResolvedBudgetLimit {
  /** The counter the limit reads and a reservation charges (`scope` as in the table below). */
  counter: CounterKey;
  /** Limit in nano-dollars (an integer, at least 1). */
  limit: number;
  limitUsd: number;
  action: BudgetAction;
  /** Alert thresholds as fractions of the limit, ascending. */
  alertAt: readonly number[];
  /** End of the window (ms): when the counter starts again from zero. */
  resetsAt: number;
  /** Where the limit is written: the tenant's `budgets`, its app's `budgets`, or `default_limits`. */
  origin: 'tenant' | 'app' | 'default';
}

/**
 * The limits that apply to a call of `scope` at time `at`, each with its counter.
 *
 * Which limits apply:
 * - tenant level: the tenant's own `budgets:`; a tenant with none of its own gets
 *   `budgets.default_limits` instead (also an unknown tenant). App limits do not replace them:
 *   a default cap on the tenant stays when only an app has limits.
 * - app level: the `budgets:` of the scope's app under that tenant, in addition.
 *
 * Counters (`CounterKey.scope`, one set per tenant; the store keys them by tenant id too):
 *
 * | written under | `per`              | counter scope               | counts                 |
 * | ------------- | ------------------ | --------------------------- | ---------------------- |
 * | tenant        | `tenant` (default) | `tenant`                    | the whole tenant       |
 * | tenant        | `app`              | `app:<appId>`               | each app of the tenant |
 * | tenant        | `user`             | `user:<userId>`             | each user, across apps |
 * | app           | `app` (default)    | `app:<appId>`               | that app               |
 * | app           | `user`             | `app:<appId>/user:<userId>` | each user of that app  |
 *
 * `per: tenant` written under an app counts that app. A call without an app id (or user id) is
 * counted by per-app (per-user) limits in one shared bucket, `app:` (`user:`): anonymous calls are
 * capped together, never uncapped.
 *
 * INVARIANT: limits of different tenants never share a counter (counters are per tenant). Keys
 * cannot collide as long as app ids hold no `/` (configured ids cannot; the budget manager refuses
 * such a scope).
 *
 * @example
 * resolveBudgetLimits({ budgets, tenants: { acme: { budgets: [{ period: 'day', limit_usd: 50, action: 'hard_block', alert_at: [0.8] }] } } },
 *   { tenantId: 'acme', appId: 'chat' }, Date.now())
 * // [{ counter: { scope: 'tenant', period: 'day', windowStart: … }, limit: 50_000_000_000, action: 'hard_block', … }]
 */
export function resolveBudgetLimits(settings: BudgetSettings, scope: BudgetScope, at: number): ResolvedBudgetLimit[] {
  const tenant = own(settings.tenants, scope.tenantId);
  const ownLimits = tenant?.budgets ?? [];
  const tenantLevel = ownLimits.length > 0 ? ownLimits : (settings.budgets?.default_limits ?? []);
  const origin = ownLimits.length > 0 ? 'tenant' : 'default';
  const resolved: ResolvedBudgetLimit[] = [];
  for (const limit of tenantLevel) {
    const per = limit.per ?? 'tenant';
    const counterScope = per === 'tenant' ? 'tenant' : per === 'app' ? `app:${scope.appId ?? ''}` : `user:${scope.userId ?? ''}`;
    resolved.push(bind(limit, counterScope, at, origin));
  }
  if (scope.appId !== undefined) {
    const app = own(tenant?.apps, scope.appId);
    for (const limit of app?.budgets ?? []) {
      const counterScope = limit.per === 'user' ? `app:${scope.appId}/user:${scope.userId ?? ''}` : `app:${scope.appId}`;
      resolved.push(bind(limit, counterScope, at, 'app'));
    }
  }
  return resolved;
}

function bind(limit: BudgetLimitConfig, scope: string, at: number, origin: ResolvedBudgetLimit['origin']): ResolvedBudgetLimit {
  const period: BudgetPeriod = limit.period;
  const window = budgetWindow(period, at);
  return {
    counter: { scope, period, windowStart: window.start },
    limit: Math.max(1, Math.round(limit.limit_usd * 1e9)),
    limitUsd: limit.limit_usd,
    action: limit.action ?? 'hard_block',
    alertAt: [...(limit.alert_at ?? [0.8, 0.9, 1])].sort((left, right) => left - right),
    resetsAt: window.end,
    origin,
  };
}

/** `record[key]` only when it is the record's own entry (a tenant called `constructor` is not Object's). */
function own<Value>(record: Readonly<Record<string, Value>> | undefined, key: string): Value | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}
