import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditLog } from './audit-log.js';
import { readAudit } from './read-audit.js';
import { verifyAudit } from './verify-audit.js';

// The writer runs the built package in a child process that is killed with SIGKILL at a random
// moment; `pnpm build` runs before the suite.
const writer = fileURLToPath(new URL('../../test/fixtures/audit-crash-writer.mjs', import.meta.url));
const built = fileURLToPath(new URL('../../dist/audit/audit-log.js', import.meta.url));
const trials = Number(process.env.PALISADE_AUDIT_CRASH_TRIALS ?? 20);
const torn = '{"action":"block","boundary":"tool_call","content":"half a rec';

let root: string;
let directory: string;
beforeAll(async () => {
  if (!existsSync(built)) throw new Error(`${built} is missing: run \`pnpm build\` before the audit crash test.`);
  root = await mkdtemp(join(tmpdir(), 'palisade-audit-crash-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** mulberry32, so the kill moments of a failing run can be replayed. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** Starts the writer, kills it with SIGKILL `delayMs` after it is ready; returns the highest acknowledged seq. */
async function runAndKill(delayMs: number): Promise<{ pid: number; acknowledged: number; startedAt: number }> {
  const child: ChildProcess = spawn(process.execPath, [writer, directory, '65536'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let errors = '';
  let startedAt = -1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stderr!.on('data', (chunk) => {
    errors += chunk;
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      if (startedAt < 0 && output.includes('\n')) {
        startedAt = Number(/^ready (\d+)/.exec(output)?.[1] ?? Number.NaN);
        resolve();
      }
    });
    child.once('exit', () => reject(new Error(`the writer exited before it was killed: ${errors}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  child.kill('SIGKILL');
  // Only once the process is reaped is its pid dead (a zombie still answers kill(pid, 0)).
  await exited;
  let acknowledged = startedAt;
  for (const line of output.split('\n').slice(1)) {
    const match = /^(\d+)-(\d+)$/.exec(line);
    if (match) acknowledged = Math.max(acknowledged, Number(match[2]));
  }
  return { pid: child.pid!, acknowledged, startedAt };
}

describe('openAuditLog after a crash', () => {
  it(`loses no acknowledged receipt over ${trials} SIGKILLs at random moments, and the chain verifies`, { timeout: 600_000 }, async () => {
    const next = random(Number(process.env.PALISADE_AUDIT_SEED ?? 42));
    let totalAcknowledged = 0;
    let tornTails = 0;
    for (let trial = 0; trial < trials; trial++) {
      // A fresh log every 4 crashes keeps verification (which reads the whole log) cheap.
      if (trial % 4 === 0) directory = await mkdtemp(join(root, `log-${trial}-`));
      const { pid, acknowledged, startedAt } = await runAndKill(10 + Math.floor(next() * 200));
      totalAcknowledged += acknowledged - startedAt;
      const inject = trial % 3 === 1;
      if (inject) appendFileSync(join(directory, 'audit.jsonl'), torn);

      const log = openAuditLog({ directory, compress: true });
      expect(log.recovery.tookOverLockFrom, `trial ${trial}: the dead writer's lock is taken over`).toBe(pid);
      expect(log.recovery.trimmedLines, `trial ${trial}: only a torn tail is trimmed`).toBe(0);
      if (inject) expect(log.recovery.trimmedBytes).toBeGreaterThanOrEqual(torn.length);
      if (log.recovery.trimmedBytes > 0) tornTails++;
      expect(log.recovery.lastSeq, `trial ${trial}: every acknowledged seq survives`).toBeGreaterThanOrEqual(acknowledged);
      await log.close();

      const result = await verifyAudit({ directory });
      expect(result.firstProblem, `trial ${trial}`).toBeUndefined();
      expect(result).toMatchObject({ ok: true, firstSeq: 1, lastSeq: log.recovery.lastSeq });
    }
    expect(totalAcknowledged).toBeGreaterThan(trials);
    expect(tornTails).toBeGreaterThanOrEqual(Math.floor(trials / 3));
    expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    let expected = 1;
    for await (const receipt of readAudit({ directory })) expect(receipt.seq).toBe(expected++);
  });
});
