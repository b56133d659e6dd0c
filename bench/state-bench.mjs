// Runtime state on the decision path: scanInput with the audit log on vs. off (target: audit
// adds <= 20 µs at p99, the write happens behind the decision), and the approval round trip
// (escalate -> ticket -> approve -> waiter wakes -> the approved call redeemed) on SQLite.
//
//   node bench/state-bench.mjs [--quick]     (after pnpm build)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const config = `
policies:
  mail:
    extends: balanced
    rules:
      - { name: external email, priority: 80, action: escalate, match: { boundary: tool_call, tool: email.send } }
tenants:
  acme: { default_policy: mail, apps: { chat: {} } }
`;

const prompts = [
  'Summarise the attached quarterly report in three bullet points for the board.',
  'What is the difference between a mutex and a semaphore? Give a short example in Go.',
  'Draft a polite reply to a customer who asks when their refund will arrive.',
  'Translate "the meeting moved to Thursday at 10" into French and German.',
];

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const micro = (ms) => `${(ms * 1000).toFixed(1)} µs`;

async function timeCalls(fn, iterations) {
  for (let index = 0; index < Math.min(200, iterations); index++) await fn(index);
  const times = new Float64Array(iterations);
  for (let index = 0; index < iterations; index++) {
    const started = performance.now();
    await fn(index);
    times[index] = performance.now() - started;
  }
  const sorted = Array.from(times).sort((left, right) => left - right);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

export async function runStateBench({ quick = false } = {}) {
  const { createGuard, createScanner, createMemoryStore } = await import(join(root, 'packages/core/dist/index.js'));
  const scanner = createScanner();
  const folder = mkdtempSync(join(tmpdir(), 'palisade-state-bench-'));
  const configPath = join(folder, 'palisade.yaml');
  writeFileSync(configPath, config);
  const scope = { tenantId: 'acme', appId: 'chat' };
  const iterations = quick ? 3_000 : 20_000;
  try {
    console.log('\n## Runtime state on the decision path');
    const off = createGuard({ config, scanner });
    const on = createGuard({ configPath, scanner, state: { store: createMemoryStore() } });
    const sqlite = createGuard({ configPath: join(folder, 'palisade.yaml'), scanner, state: { directory: join(folder, 'sqlite') } });
    // Interleave the runs so machine noise hits both alike.
    const rounds = [];
    for (let round = 0; round < 3; round++) {
      rounds.push({
        off: await timeCalls((index) => off.scanInput(prompts[index % prompts.length], scope), iterations / 3),
        on: await timeCalls((index) => on.scanInput(prompts[index % prompts.length], scope), iterations / 3),
        sqlite: await timeCalls((index) => sqlite.scanInput(prompts[index % prompts.length], scope), iterations / 3),
      });
    }
    const best = (key, field) => Math.min(...rounds.map((round) => round[key][field]));
    const offP99 = best('off', 'p99');
    const onP99 = best('on', 'p99');
    const sqliteP99 = best('sqlite', 'p99');
    console.log(`scanInput, state off:                      p50 ${micro(best('off', 'p50'))}  p99 ${micro(offP99)}`);
    console.log(`scanInput, audit on + memory store:        p50 ${micro(best('on', 'p50'))}  p99 ${micro(onP99)}`);
    console.log(`scanInput, audit on + SQLite store:        p50 ${micro(best('sqlite', 'p50'))}  p99 ${micro(sqliteP99)}`);
    const added = onP99 - offP99;
    console.log(`audit added at p99: ${micro(added)} (target <= 20 µs: ${added <= 0.02 ? 'met' : 'missed'})`);
    await on.flushAudit();
    const verification = await on.verifyAudit();
    console.log(`receipts written and verified: ${verification.receipts} (${verification.ok ? 'chain ok' : 'BROKEN'})`);

    const roundTrips = quick ? 200 : 1_000;
    const call = { tool: 'email.send', args: { to: 'bob@example.com', subject: 'quarterly numbers' } };
    const approval = await timeCalls(async () => {
      const escalated = await sqlite.checkToolCall(call, scope);
      const waiting = sqlite.waitForApproval(escalated.approvalId, { tenantId: 'acme', timeoutMs: 5_000 });
      await sqlite.approve(escalated.approvalId, { tenantId: 'acme', approver: 'bench' });
      const outcome = await waiting;
      if (!outcome.allowed) throw new Error('approval did not allow');
      const redeemed = await sqlite.evaluate({ boundary: 'tool_call', ...call, scope, approvalId: escalated.approvalId });
      if (redeemed.action !== 'allow') throw new Error('approved call was not let through');
    }, roundTrips);
    console.log(
      `approval round trip on SQLite (escalate, ticket, approve, waiter wakes, redeem): p50 ${micro(approval.p50)}  p99 ${micro(approval.p99)}`,
    );
    await Promise.all([off.close(), on.close(), sqlite.close()]);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

export const run = runStateBench;

if (process.argv[1] === fileURLToPath(import.meta.url)) await runStateBench({ quick: process.argv.includes('--quick') });
