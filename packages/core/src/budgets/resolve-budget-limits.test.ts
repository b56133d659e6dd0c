import { describe, expect, it } from 'vitest';
import { type BudgetLimitConfig, parseSection } from '../config/config-schema.js';
import { type BudgetSettings, resolveBudgetLimits } from './resolve-budget-limits.js';

const at = Date.parse('2026-11-18T10:00:00Z');

function limit(overrides: Partial<BudgetLimitConfig> & Pick<BudgetLimitConfig, 'limit_usd'>): BudgetLimitConfig {
  return { period: 'day', action: 'hard_block', alert_at: [0.8, 0.9, 1], ...overrides };
}

const settings: BudgetSettings = {
  budgets: parseSection('budgets', { default_limits: [{ period: 'month', limit_usd: 100 }] }),
  tenants: {
    acme: {
      budgets: [limit({ limit_usd: 50 }), limit({ per: 'user', limit_usd: 5 }), limit({ per: 'app', period: 'week', limit_usd: 20 })],
      apps: {
        chat: { budgets: [limit({ limit_usd: 10, action: 'soft_block' }), limit({ per: 'user', limit_usd: 1, action: 'warn' })] },
        batch: { budgets: [] },
      },
    },
    globex: { apps: { bot: { budgets: [limit({ limit_usd: 3 })] } } },
  },
};

const summary = (limits: ReturnType<typeof resolveBudgetLimits>) =>
  limits.map(
    (resolved) => `${resolved.origin} ${resolved.counter.scope} ${resolved.counter.period} $${resolved.limitUsd} ${resolved.action}`,
  );

describe('resolveBudgetLimits', () => {
  it("applies the tenant's own limits: per tenant, per user and per app", () => {
    expect(summary(resolveBudgetLimits(settings, { tenantId: 'acme', appId: 'batch', userId: 'ann' }, at))).toEqual([
      'tenant tenant day $50 hard_block',
      'tenant user:ann day $5 hard_block',
      'tenant app:batch week $20 hard_block',
    ]);
  });

  it("adds the app's limits: per app by default, per user of that app", () => {
    expect(summary(resolveBudgetLimits(settings, { tenantId: 'acme', appId: 'chat', userId: 'ann' }, at))).toEqual([
      'tenant tenant day $50 hard_block',
      'tenant user:ann day $5 hard_block',
      'tenant app:chat week $20 hard_block',
      'app app:chat day $10 soft_block',
      'app app:chat/user:ann day $1 warn',
    ]);
  });

  it('gives default_limits to a tenant without limits of its own, also when only its app has some', () => {
    expect(summary(resolveBudgetLimits(settings, { tenantId: 'globex', appId: 'bot' }, at))).toEqual([
      'default tenant month $100 hard_block',
      'app app:bot day $3 hard_block',
    ]);
    expect(summary(resolveBudgetLimits(settings, { tenantId: 'unknown-tenant' }, at))).toEqual(['default tenant month $100 hard_block']);
  });

  it('applies no limits when neither the tenant nor the defaults have any', () => {
    expect(resolveBudgetLimits({ tenants: {} }, { tenantId: 'acme' }, at)).toEqual([]);
  });

  it('counts calls without a user or app id in one shared bucket, never uncapped', () => {
    expect(resolveBudgetLimits(settings, { tenantId: 'acme' }, at).map((resolved) => resolved.counter.scope)).toEqual([
      'tenant',
      'user:',
      'app:',
    ]);
  });

  it('binds each limit to the window of its period, in nano-dollars, thresholds ascending', () => {
    const [daily] = resolveBudgetLimits(
      { tenants: { acme: { budgets: [limit({ limit_usd: 0.25, alert_at: [1, 0.5] })] } } },
      { tenantId: 'acme' },
      at,
    );
    expect(daily).toEqual({
      counter: { scope: 'tenant', period: 'day', windowStart: Date.parse('2026-11-18T00:00:00Z') },
      limit: 250_000_000,
      limitUsd: 0.25,
      action: 'hard_block',
      alertAt: [0.5, 1],
      resetsAt: Date.parse('2026-11-19T00:00:00Z'),
      origin: 'tenant',
    });
  });

  it('never reads inherited properties as tenants or apps', () => {
    expect(resolveBudgetLimits(settings, { tenantId: 'constructor', appId: 'toString' }, at).map((resolved) => resolved.origin)).toEqual([
      'default',
    ]);
    expect(resolveBudgetLimits(settings, { tenantId: 'acme', appId: '__proto__' }, at)).toHaveLength(3);
  });
});
