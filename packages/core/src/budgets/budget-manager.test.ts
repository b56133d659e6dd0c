import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { compileConfig } from '../config/compile-config.js';
import { type BudgetLimitConfig, parseSection } from '../config/config-schema.js';
import { loadConfig } from '../config/load-config.js';
import { InvalidInputError } from '../errors/invalid-input-error.js';
import { UnknownModelError } from '../errors/unknown-model-error.js';
import { createMemoryStore } from '../store/memory-store.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { type BudgetEvent, type BudgetManagerOptions, createBudgetManager } from './budget-manager.js';
import type { BudgetScope, BudgetSettings } from './resolve-budget-limits.js';

// `unit` costs $0.001 a token, in and out: $1 is 1,000 tokens.
const prices = { unit: { input: 1000, output: 1000 } };
const monday = Date.parse('2026-11-16T09:00:00Z');
const acme: BudgetScope = { tenantId: 'acme', appId: 'chat', userId: 'ann' };
const tokens = (count: number) => ({ model: 'unit', inputTokens: count, outputTokens: 0 });
const estimate = (count: number) => ({ model: 'unit', inputTokens: count, maxOutputTokens: 0 });

function limit(overrides: Partial<BudgetLimitConfig> & Pick<BudgetLimitConfig, 'limit_usd'>): BudgetLimitConfig {
  return { period: 'day', action: 'hard_block', alert_at: [0.8, 0.9, 1], ...overrides };
}

/** A settings object with the `unit` price and the given tenant-level limits for acme. */
function settingsWith(limits: BudgetLimitConfig[], extra: Partial<BudgetSettings> = {}, budgets: object = {}): BudgetSettings {
  return { budgets: parseSection('budgets', { prices, ...budgets }), tenants: { acme: { budgets: limits } }, ...extra };
}

function setup(settings: BudgetSettings, options: Partial<BudgetManagerOptions> = {}) {
  const clock = { now: monday };
  const events: BudgetEvent[] = [];
  const store = options.store ?? createMemoryStore();
  const make = () =>
    createBudgetManager({
      store,
      getConfig: () => settings,
      now: () => clock.now,
      emit: (event) => events.push(event),
      sweepInterval: 0,
      ...options,
    });
  const manager = make();
  const eventLog = () => events.map((event) => `${event.type} ${event.budget.scope} ${event.budget.threshold ?? ''}`.trim());
  return { clock, events, eventLog, store, manager, make };
}

async function spend(manager: ReturnType<typeof createBudgetManager>, scope: BudgetScope, count: number) {
  const reservation = await manager.reserve(scope, estimate(count));
  if (!reservation.ok) throw new Error(`refused: ${JSON.stringify(reservation.budget)}`);
  return manager.settle(reservation.reservationId, tokens(count), scope);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('createBudgetManager > checkBudget', () => {
  it('allows everything when no limit applies, without reading the store', async () => {
    const store = createMemoryStore();
    const readCounters = vi.spyOn(store, 'readCounters');
    const { manager } = setup({ tenants: {} }, { store });
    expect(await manager.checkBudget({ tenantId: 'acme' })).toEqual({ action: 'allow', limits: [] });
    expect(readCounters).not.toHaveBeenCalled();
  });

  it('reports spent, reserved, remaining, ratio and the reset time of every limit', async () => {
    const { manager } = setup(settingsWith([limit({ limit_usd: 1 }), limit({ per: 'user', period: 'month', limit_usd: 10 })]));
    await spend(manager, acme, 250);
    await manager.reserve(acme, estimate(100));
    expect(await manager.checkBudget(acme)).toEqual({
      action: 'allow',
      limits: [
        {
          scope: 'tenant',
          period: 'day',
          limitUsd: 1,
          spentUsd: 0.25,
          reservedUsd: 0.1,
          remainingUsd: 0.65,
          ratio: 0.25,
          action: 'hard_block',
          resetsAt: '2026-11-17T00:00:00.000Z',
          exceeded: false,
          origin: 'tenant',
        },
        expect.objectContaining({ scope: 'user:ann', period: 'month', spentUsd: 0.25, ratio: 0.025, resetsAt: '2026-12-01T00:00:00.000Z' }),
      ],
    });
  });
});

describe('createBudgetManager > actions', () => {
  it('hard_block: refuses a reservation that does not fit, and blocks once spent + reserved reach the limit', async () => {
    const { manager } = setup(settingsWith([limit({ limit_usd: 1 })]));
    const first = await manager.reserve(acme, estimate(600));
    expect(first).toMatchObject({ ok: true, amount: 600_000_000, amountUsd: 0.6 });
    expect(await manager.reserve(acme, estimate(401))).toMatchObject({
      ok: false,
      reason: 'budget_exceeded',
      budget: { scope: 'tenant', spentUsd: 0, reservedUsd: 0.6, exceeded: true, action: 'hard_block' },
    });
    const second = await manager.reserve(acme, estimate(400));
    expect(second.ok).toBe(true);
    expect(await manager.checkBudget(acme)).toMatchObject({
      action: 'block',
      reason: 'budget_exceeded',
      limit: { scope: 'tenant', remainingUsd: 0 },
    });
    // Releasing a reservation gives its room back.
    if (!first.ok) throw new Error('unreachable');
    expect(await manager.release(first.reservationId, acme)).toBe(true);
    expect(await manager.release(first.reservationId, acme)).toBe(false);
    expect(await manager.checkBudget(acme)).toMatchObject({ action: 'allow' });
  });

  it('soft_block: refuses new calls once spent, but lets calls in flight settle past the limit', async () => {
    const { manager } = setup(settingsWith([limit({ limit_usd: 1, action: 'soft_block' })]));
    const inFlight = await Promise.all([manager.reserve(acme, estimate(700)), manager.reserve(acme, estimate(700))]);
    for (const reservation of inFlight) {
      if (!reservation.ok) throw new Error('a soft limit does not refuse before it is spent');
      await manager.settle(reservation.reservationId, tokens(700), acme);
    }
    const check = await manager.checkBudget(acme);
    expect(check).toMatchObject({ action: 'block', limit: { action: 'soft_block', spentUsd: 1.4, exceeded: true } });
    expect(await manager.reserve(acme, estimate(1))).toMatchObject({ ok: false, budget: { action: 'soft_block', spentUsd: 1.4 } });
  });

  it('warn: never refuses, and says warn once the limit is spent', async () => {
    const { manager } = setup(settingsWith([limit({ limit_usd: 1, action: 'warn' })]));
    await spend(manager, acme, 1500);
    expect(await manager.checkBudget(acme)).toMatchObject({
      action: 'warn',
      reason: 'budget_exceeded',
      limit: { action: 'warn', ratio: 1.5 },
    });
    expect((await manager.reserve(acme, estimate(5000))).ok).toBe(true);
  });

  it('blocks on the tightest of tenant, app and user limits, and names it', async () => {
    const settings: BudgetSettings = {
      budgets: parseSection('budgets', { prices }),
      tenants: {
        acme: {
          budgets: [limit({ limit_usd: 100 })],
          apps: { chat: { budgets: [limit({ limit_usd: 10 }), limit({ per: 'user', limit_usd: 0.5 })] } },
        },
      },
    };
    const { manager } = setup(settings);
    await spend(manager, acme, 500);
    expect(await manager.reserve(acme, estimate(1))).toMatchObject({
      ok: false,
      budget: { scope: 'app:chat/user:ann', limitUsd: 0.5, origin: 'app' },
    });
    // Another user of the same app still has room; so has the same user in another app.
    expect((await manager.reserve({ ...acme, userId: 'bob' }, estimate(1))).ok).toBe(true);
    expect((await manager.reserve({ ...acme, appId: 'batch' }, estimate(1))).ok).toBe(true);
  });

  it('records usage nobody reserved even past a hard limit (it happened) and returns the new check', async () => {
    const { manager } = setup(settingsWith([limit({ limit_usd: 1 })]));
    const check = await manager.recordUsage(tokens(1200), acme);
    expect(check).toMatchObject({ action: 'block', limit: { spentUsd: 1.2, reservedUsd: 0 } });
    expect(await manager.reserve(acme, estimate(1))).toMatchObject({ ok: false });
  });

  it('counts a call in the window it was reserved in, even when it settles after midnight', async () => {
    const { manager, clock } = setup(settingsWith([limit({ limit_usd: 1 })]));
    clock.now = Date.parse('2026-11-16T23:59:59Z');
    const reservation = await manager.reserve(acme, estimate(300));
    clock.now = Date.parse('2026-11-17T00:00:05Z');
    if (!reservation.ok) throw new Error('unreachable');
    const settled = await manager.settle(reservation.reservationId, tokens(300), acme);
    expect(settled).toMatchObject({
      ok: true,
      cost: 300_000_000,
      check: { limits: [{ spentUsd: 0.3, resetsAt: '2026-11-17T00:00:00.000Z' }] },
    });
    expect(await manager.checkBudget(acme)).toMatchObject({ limits: [{ spentUsd: 0, resetsAt: '2026-11-18T00:00:00.000Z' }] });
  });

  it('takes a reloaded configuration on the next call', async () => {
    let settings = settingsWith([limit({ limit_usd: 1 })]);
    const { manager } = setup(settings, { getConfig: () => settings });
    await spend(manager, acme, 900);
    settings = settingsWith([limit({ limit_usd: 0.5 })]);
    expect(await manager.checkBudget(acme)).toMatchObject({ action: 'block', limit: { limitUsd: 0.5 } });
  });

  it('reads limits and prices from a compiled configuration', async () => {
    const compiled = compileConfig(
      loadConfig({
        object: {
          budgets: { prices, default_limits: [{ period: 'day', limit_usd: 2 }] },
          tenants: { acme: { apps: { chat: { budgets: [{ period: 'week', limit_usd: 1, action: 'soft_block' }] } } } },
        },
      }),
    );
    const { manager } = setup({}, { getConfig: () => compiled });
    await spend(manager, acme, 1000);
    expect(await manager.checkBudget(acme)).toMatchObject({
      action: 'block',
      limit: { scope: 'app:chat', period: 'week', action: 'soft_block', resetsAt: '2026-11-23T00:00:00.000Z' },
      limits: [{ scope: 'tenant', origin: 'default', spentUsd: 1 }, { origin: 'app' }],
    });
  });
});

describe('createBudgetManager > hard limits under concurrency', () => {
  it('never lets committed spending exceed a hard limit, whatever the interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 2000 }),
        fc.array(
          fc.record({ tokens: fc.integer({ min: 0, max: 400 }), used: fc.double({ min: 0, max: 1, noNaN: true }), settles: fc.boolean() }),
          {
            minLength: 1,
            maxLength: 25,
          },
        ),
        async (scheduler, limitTokens, calls) => {
          const memory = createMemoryStore();
          const counterOf = async () =>
            (await memory.readCounters('acme', [{ scope: 'tenant', period: 'day', windowStart: Date.parse('2026-11-16T00:00:00Z') }]))[0]!;
          const committed: number[] = [];
          // Every store call runs when the scheduler says so: the manager's steps interleave freely.
          const store = new Proxy(memory, {
            get(target, property, receiver) {
              const value = Reflect.get(target, property, receiver);
              if (typeof value !== 'function') return value;
              return async (...args: unknown[]) => {
                await scheduler.schedule(Promise.resolve(), String(property));
                const result = await value.apply(target, args);
                const state = await counterOf();
                committed.push(state.spent + state.reserved);
                return result;
              };
            },
          }) as Store;
          const { manager } = setup(settingsWith([limit({ limit_usd: limitTokens / 1000 })]), { store });
          let settled = 0;
          const flows = calls.map(async (call) => {
            const reservation = await manager.reserve(acme, estimate(call.tokens));
            if (!reservation.ok) return;
            if (!call.settles) return void (await manager.release(reservation.reservationId, acme));
            const actual = Math.floor(call.tokens * call.used);
            const outcome = await manager.settle(reservation.reservationId, tokens(actual), acme);
            if (outcome.ok) settled += outcome.cost;
          });
          await scheduler.waitFor(Promise.all(flows));
          const final = await counterOf();
          const limitNano = limitTokens * 1_000_000;
          expect(Math.max(0, ...committed)).toBeLessThanOrEqual(limitNano);
          expect(final).toMatchObject({ spent: settled, reserved: 0 });
        },
      ),
      // R-BUDGET-1 asks for 10^4 interleavings: PALISADE_PROPERTY_RUNS=10000 (about 6 s).
      { numRuns: Number(process.env.PALISADE_PROPERTY_RUNS ?? 200) },
    );
  });
});

describe('createBudgetManager > thresholds', () => {
  const daily = () => settingsWith([limit({ limit_usd: 1 })]);

  it('emits each threshold once per window as spending crosses it, and budget.exceeded at the limit', async () => {
    const { manager, eventLog, events } = setup(daily());
    await spend(manager, acme, 700);
    expect(eventLog()).toEqual([]);
    await spend(manager, acme, 100); // exactly 0.8
    expect(eventLog()).toEqual(['budget.threshold tenant 0.8']);
    await spend(manager, acme, 50);
    await spend(manager, acme, 100); // 0.95
    await manager.recordUsage(tokens(100), acme); // 1.05
    await manager.recordUsage(tokens(100), acme);
    expect(eventLog()).toEqual([
      'budget.threshold tenant 0.8',
      'budget.threshold tenant 0.9',
      'budget.threshold tenant 1',
      'budget.exceeded tenant',
    ]);
    expect(events[3]).toEqual({
      type: 'budget.exceeded',
      time: '2026-11-16T09:00:00.000Z',
      tenantId: 'acme',
      appId: 'chat',
      severity: 'HIGH',
      budget: {
        scope: 'tenant',
        period: 'day',
        limitUsd: 1,
        spentUsd: 1.05,
        ratio: 1.05,
        action: 'hard_block',
        resetsAt: '2026-11-17T00:00:00.000Z',
      },
    });
    expect(events[0]).toMatchObject({ severity: 'MEDIUM', budget: { threshold: 0.8, spentUsd: 0.8, ratio: 0.8 } });
  });

  it('emits every threshold one large spending passes, in order', async () => {
    const { manager, eventLog } = setup(daily());
    await manager.recordUsage(tokens(2000), acme);
    expect(eventLog()).toEqual([
      'budget.threshold tenant 0.8',
      'budget.threshold tenant 0.9',
      'budget.threshold tenant 1',
      'budget.exceeded tenant',
    ]);
  });

  it('does not emit again from a new manager over the same store (a restart)', async () => {
    const { manager, make, eventLog } = setup(daily());
    await spend(manager, acme, 850);
    manager.close();
    const restarted = make();
    await spend(restarted, acme, 10);
    await spend(restarted, acme, 100);
    expect(eventLog()).toEqual(['budget.threshold tenant 0.8', 'budget.threshold tenant 0.9']);
  });

  it('emits once even when many spendings race across a threshold', async () => {
    const { manager, eventLog } = setup(daily());
    await Promise.all(Array.from({ length: 40 }, () => manager.recordUsage(tokens(50), acme)));
    expect(eventLog()).toEqual([
      'budget.threshold tenant 0.8',
      'budget.threshold tenant 0.9',
      'budget.threshold tenant 1',
      'budget.exceeded tenant',
    ]);
  });

  it('starts again in the next window', async () => {
    const { manager, clock, eventLog } = setup(daily());
    await manager.recordUsage(tokens(850), acme);
    clock.now += 86_400_000;
    await manager.recordUsage(tokens(850), acme);
    expect(eventLog()).toEqual(['budget.threshold tenant 0.8', 'budget.threshold tenant 0.8']);
  });

  it('uses each limit’s own alert_at, per counter', async () => {
    const { manager, eventLog } = setup(
      settingsWith([limit({ limit_usd: 1, alert_at: [0.5] }), limit({ per: 'user', limit_usd: 10, action: 'warn', alert_at: [0.05] })]),
    );
    await manager.recordUsage(tokens(600), acme);
    expect(eventLog()).toEqual(['budget.threshold tenant 0.5', 'budget.threshold user:ann 0.05']);
  });

  it('keeps going when a subscriber throws, and reports the failure', async () => {
    const onError = vi.fn();
    const { manager } = setup(daily(), {
      emit: () => {
        throw new Error('subscriber down');
      },
      onError,
    });
    expect(await manager.recordUsage(tokens(900), acme)).toMatchObject({ action: 'allow' });
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'subscriber down' }));
  });
});

describe('createBudgetManager > tenants', () => {
  const settings: BudgetSettings = {
    budgets: parseSection('budgets', { prices, default_limits: [{ period: 'day', limit_usd: 1 }] }),
    tenants: {},
  };
  const globex: BudgetScope = { tenantId: 'globex', appId: 'chat', userId: 'ann' };

  it("never lets a tenant settle, release or see another tenant's reservation or spending", async () => {
    const { manager, eventLog } = setup(settings);
    const reservation = await manager.reserve(acme, estimate(900));
    if (!reservation.ok) throw new Error('unreachable');
    expect(await manager.settle(reservation.reservationId, tokens(900), globex)).toEqual({ ok: false, reason: 'not_found' });
    expect(await manager.release(reservation.reservationId, globex)).toBe(false);
    expect(await manager.checkBudget(globex)).toMatchObject({ limits: [{ spentUsd: 0, reservedUsd: 0 }] });
    expect(eventLog()).toEqual([]);
    // The reservation is intact for its own tenant.
    expect(await manager.checkBudget(acme)).toMatchObject({ limits: [{ reservedUsd: 0.9 }] });
    expect(await manager.settle(reservation.reservationId, tokens(900), acme)).toMatchObject({ ok: true, costUsd: 0.9 });
    expect(await manager.checkBudget(globex)).toMatchObject({ limits: [{ spentUsd: 0 }] });
    expect((await manager.costSummary({ tenantId: 'globex', period: 'day' })).calls).toBe(0);
  });

  it("keeps one tenant's limits from another's counters (same app and user ids)", async () => {
    const { manager } = setup(settings);
    await manager.recordUsage(tokens(1000), acme);
    expect((await manager.reserve(acme, estimate(1))).ok).toBe(false);
    expect((await manager.reserve(globex, estimate(1000))).ok).toBe(true);
  });
});

describe('createBudgetManager > costSummary', () => {
  it('sums spending by model, tenant and app; one tenant sees only its own, an admin every tenant', async () => {
    const settings = settingsWith([], {}, { prices: { ...prices, half: { input: 500, output: 1500 } } });
    const { manager, clock } = setup(settings);
    await manager.recordUsage(tokens(100), acme);
    await spend(manager, { tenantId: 'acme', appId: 'batch' }, 200);
    await manager.recordUsage({ model: 'half', inputTokens: 100, outputTokens: 100 }, acme);
    await manager.recordUsage(tokens(1000), { tenantId: 'globex', appId: 'chat' });
    clock.now += 86_400_000; // Tuesday: outside the day, inside the week
    await manager.recordUsage(tokens(300), { tenantId: 'acme' });

    const day = await manager.costSummary({ tenantId: undefined, period: { from: monday - 9 * 3_600_000, to: monday + 15 * 3_600_000 } });
    expect(day).toEqual({
      from: '2026-11-16T00:00:00.000Z',
      to: '2026-11-17T00:00:00.000Z',
      totalUsd: 1.5,
      inputTokens: 1400,
      outputTokens: 100,
      calls: 4,
      byModel: {
        unit: { costUsd: 1.3, inputTokens: 1300, outputTokens: 0, calls: 3 },
        half: { costUsd: 0.2, inputTokens: 100, outputTokens: 100, calls: 1 },
      },
      byTenant: { acme: { costUsd: 0.5, calls: 3 }, globex: { costUsd: 1, calls: 1 } },
      // The store keys apps by app id alone: across tenants, apps of the same id add up.
      byApp: { chat: { costUsd: 1.3, calls: 3 }, batch: { costUsd: 0.2, calls: 1 } },
    });
    const week = await manager.costSummary({ tenantId: 'acme', period: 'week' });
    expect(week).toMatchObject({ from: '2026-11-16T00:00:00.000Z', to: '2026-11-23T00:00:00.000Z', totalUsd: 0.8, calls: 4 });
    expect(Object.keys(week.byTenant)).toEqual(['acme']);
    expect(week.byApp).toEqual({ chat: { costUsd: 0.3, calls: 2 }, batch: { costUsd: 0.2, calls: 1 }, '': { costUsd: 0.3, calls: 1 } });
    expect((await manager.costSummary({ tenantId: 'acme', period: 'day' })).totalUsd).toBe(0.3);
  });

  it('rejects a range that ends before it starts, or an unknown period', async () => {
    const { manager } = setup(settingsWith([]));
    expect(await rejection(manager.costSummary({ tenantId: 'acme', period: { from: '2026-11-17', to: '2026-11-16' } }))).toMatchObject({
      code: 'INVALID_INPUT',
      path: 'query.period',
    });
    expect(await rejection(manager.costSummary({ tenantId: 'acme', period: 'year' as 'day' }))).toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('createBudgetManager > bad input', () => {
  const { manager } = setup(settingsWith([limit({ limit_usd: 1 })]));

  it.each([
    ['a negative input count', () => manager.reserve(acme, { model: 'unit', inputTokens: -1, maxOutputTokens: 0 }), 'estimate.inputTokens'],
    [
      'a NaN output cap',
      () => manager.reserve(acme, { model: 'unit', inputTokens: 1, maxOutputTokens: Number.NaN }),
      'estimate.maxOutputTokens',
    ],
    [
      'a fractional output count',
      () => manager.recordUsage({ model: 'unit', inputTokens: 1, outputTokens: 0.5 }, acme),
      'usage.outputTokens',
    ],
    [
      'a negative settled count',
      () => manager.settle('r_x_y', { model: 'unit', inputTokens: -5, outputTokens: 0 }, acme),
      'usage.inputTokens',
    ],
    ['a scope without a tenant id', () => manager.checkBudget({} as BudgetScope), 'scope.tenantId'],
    ['an app id with a slash', () => manager.checkBudget({ tenantId: 'acme', appId: 'chat/user:bob' }), 'scope.appId'],
    ['an empty reservation id', () => manager.release('', acme), 'reservationId'],
  ])('rejects %s with InvalidInputError', async (_name, call, path) => {
    const error = await rejection(call());
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', path });
  });

  it('refuses to reserve for a model without a price, unless unknown_model is zero', async () => {
    const error = await rejection(manager.reserve(acme, { model: 'mystery', inputTokens: 1, maxOutputTokens: 1 }));
    expect(UnknownModelError.isInstance(error)).toBe(true);
    const lenient = setup(settingsWith([limit({ limit_usd: 1 })], {}, { unknown_model: 'zero' })).manager;
    expect(await lenient.reserve(acme, { model: 'mystery', inputTokens: 1, maxOutputTokens: 1 })).toMatchObject({ ok: true, amount: 0 });
  });
});

describe('createBudgetManager > expired reservations', () => {
  it('releases reservations past their ttl in the background, and stops on close', async () => {
    const settings = settingsWith([limit({ limit_usd: 1 })], {}, { reservation_ttl: '1s' });
    const { manager, clock } = setup(settings, { sweepInterval: 5 });
    const reservation = await manager.reserve(acme, estimate(1000));
    expect((await manager.reserve(acme, estimate(1))).ok).toBe(false);
    clock.now += 1000;
    await vi.waitFor(async () => expect(await manager.checkBudget(acme)).toMatchObject({ limits: [{ reservedUsd: 0 }] }), {
      timeout: 1000,
    });
    manager.close();
    if (!reservation.ok) throw new Error('unreachable');
    expect(await manager.settle(reservation.reservationId, tokens(1000), acme)).toEqual({ ok: false, reason: 'not_found' });
  });
});

describe('createBudgetManager > with the SQLite store', () => {
  it('reserves, settles, alerts and summarises the same way, across a reopened database', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'palisade-budgets-')), 'state.db');
    const settings = settingsWith([limit({ limit_usd: 1 })]);
    const first = setup(settings, { store: openSqliteStore({ path }) });
    await spend(first.manager, acme, 850);
    expect(await first.manager.reserve(acme, estimate(151))).toMatchObject({ ok: false, budget: { spentUsd: 0.85 } });
    first.manager.close();
    await first.store.close();

    const second = setup(settings, { store: openSqliteStore({ path }) });
    await spend(second.manager, acme, 100);
    expect(first.eventLog()).toEqual(['budget.threshold tenant 0.8']);
    expect(second.eventLog()).toEqual(['budget.threshold tenant 0.9']);
    expect(await second.manager.checkBudget(acme)).toMatchObject({ limits: [{ spentUsd: 0.95, reservedUsd: 0 }] });
    expect(await second.manager.costSummary({ tenantId: 'acme', period: 'month' })).toMatchObject({ totalUsd: 0.95, calls: 2 });
    await second.store.close();
  });
});
