#!/usr/bin/env node
// Budget latency: a reserve + settle round trip (what a guarded model call adds: one reservation
// before the call, one settlement after it) and a checkBudget, on the in-memory store and on the
// SQLite store (a file in a temporary folder, the embedded default). Three limits apply to every
// call (tenant per day, per user per month, app per week), so each operation touches three
// counters. Calls run one after another: the figures are latencies, not throughput. Prints p50/p99
// in µs; asserts nothing.
//
//   npx tsc -p packages/core/tsconfig.build.json && node bench/budget-bench.mjs [--quick]
//
// `runBudgetBench({ quick })` (also exported as `run`) returns the figures, for bench/run.mjs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (path) => pathToFileURL(join(root, 'packages/core/dist', path)).href;

const percentile = (sorted, fraction) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
const fmt = (value) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));

/** p50 and p99 (µs) of `iterations` sequential awaited calls of `fn(index)`, after a warm-up. */
async function measure(fn, iterations) {
  for (let index = 0; index < Math.min(1000, iterations); index++) await fn(index);
  const times = new Float64Array(iterations);
  for (let index = 0; index < iterations; index++) {
    const before = process.hrtime.bigint();
    await fn(index);
    times[index] = Number(process.hrtime.bigint() - before) / 1000;
  }
  times.sort();
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), calls: iterations };
}

/** Runs the budget benchmark, prints a report, and returns the figures (µs). */
export async function runBudgetBench({ quick = false } = {}) {
  const { createBudgetManager } = await import(dist('budgets/budget-manager.js'));
  const { createMemoryStore } = await import(dist('store/memory-store.js'));
  const { openSqliteStore } = await import(dist('store/sqlite-store.js'));
  const { parseSection } = await import(dist('config/config-schema.js'));

  const iterations = quick ? 2_000 : 20_000;
  const limit = (overrides) => ({ period: 'day', action: 'hard_block', alert_at: [0.8, 0.9, 1], ...overrides });
  const settings = {
    budgets: parseSection('budgets', {}),
    tenants: {
      acme: {
        budgets: [limit({ limit_usd: 1e6 }), limit({ per: 'user', period: 'month', limit_usd: 1e5, action: 'soft_block' })],
        apps: { chat: { budgets: [limit({ period: 'week', limit_usd: 1e6, action: 'warn' })] } },
      },
    },
  };
  const users = Array.from({ length: 100 }, (_, index) => ({ tenantId: 'acme', appId: 'chat', userId: `user-${index}` }));
  const estimate = { model: 'gpt-4o-mini', inputTokens: 1200, maxOutputTokens: 800 };
  const usage = { model: 'gpt-4o-mini', inputTokens: 1200, outputTokens: 350 };

  const folder = mkdtempSync(join(tmpdir(), 'palisade-budget-bench-'));
  const stores = [
    ['memory', createMemoryStore()],
    ['sqlite', openSqliteStore({ path: join(folder, 'state.db') })],
  ];
  const results = {};
  console.log(`## Budget latency (3 limits per call, ${iterations.toLocaleString('en')} sequential calls)\n`);
  console.log('| store | operation | p50 µs | p99 µs |');
  console.log('|---|---|---|---|');
  try {
    for (const [name, store] of stores) {
      const manager = createBudgetManager({ store, getConfig: () => settings, sweepInterval: 0 });
      // The reservation alone is what a call waits for before it starts; the settlement follows it.
      const reserveTimes = [];
      const roundTrip = await measure(async (index) => {
        const scope = users[index % users.length];
        const before = process.hrtime.bigint();
        const reservation = await manager.reserve(scope, estimate);
        reserveTimes.push(Number(process.hrtime.bigint() - before) / 1000);
        if (!reservation.ok) throw new Error(`refused: ${JSON.stringify(reservation.budget)}`);
        await manager.settle(reservation.reservationId, usage, scope);
      }, iterations);
      const reserveOnly = reserveTimes.slice(-iterations).sort((left, right) => left - right);
      const reserve = { p50: percentile(reserveOnly, 0.5), p99: percentile(reserveOnly, 0.99), calls: iterations };
      const check = await measure((index) => manager.checkBudget(users[index % users.length]), iterations);
      manager.close();
      results[name] = { roundTrip, reserve, checkBudget: check };
      console.log(`| ${name} | reserve + settle | ${fmt(roundTrip.p50)} | ${fmt(roundTrip.p99)} |`);
      console.log(`| ${name} | reserve alone (before the call) | ${fmt(reserve.p50)} | ${fmt(reserve.p99)} |`);
      console.log(`| ${name} | checkBudget | ${fmt(check.p50)} | ${fmt(check.p99)} |`);
    }
  } finally {
    for (const [, store] of stores) await store.close();
    rmSync(folder, { recursive: true, force: true });
  }
  console.log('');
  return results;
}

export { runBudgetBench as run };

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await runBudgetBench({ quick: process.argv.includes('--quick') });
}
