import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type BetterSqlite3 from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreFailedError } from '../errors/store-failed-error.js';
import { createMemoryStore } from './memory-store.js';
import { latestSchemaVersion, migrate } from './migrations.js';
import { openSqliteStore } from './sqlite-store.js';
import type { ApprovalTicket, CounterKey, Store } from './store.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
const directory = mkdtempSync(join(tmpdir(), 'palisade-sqlite-store-'));
// The property runs hundreds of fsync'd transactions; on tmpfs an fsync costs nothing, and
// durability has its own test below.
const fastDirectory = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'palisade-sqlite-property-'));
afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
  rmSync(fastDirectory, { recursive: true, force: true });
});

let files = 0;
const newPath = (name = 'state') => {
  files += 1;
  return join(directory, `${name}-${files}.db`);
};

const builtModule = new URL('../../dist/store/sqlite-store.js', import.meta.url);
const worker = fileURLToPath(new URL('./fixtures/sqlite-store-worker.mjs', import.meta.url));

/** Starts the worker fixture against the built store. */
function startWorker(
  mode: string,
  options: object,
): { child: ChildProcess; lines: AsyncIterator<string>; exited: Promise<{ code: number | null; stderr: string }> } {
  if (!existsSync(builtModule)) throw new Error(`${fileURLToPath(builtModule)} is missing: run \`pnpm build\` before this suite.`);
  const child = spawn(process.execPath, [worker, builtModule.href, mode, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  return { child, lines: readLines(child), exited };
}

async function* readLinesOf(child: ChildProcess): AsyncGenerator<string> {
  let buffered = '';
  for await (const chunk of child.stdout!.setEncoding('utf8')) {
    buffered += chunk as string;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
  }
}

function readLines(child: ChildProcess): AsyncIterator<string> {
  return readLinesOf(child)[Symbol.asyncIterator]();
}

async function nextLine(lines: AsyncIterator<string>, exited: Promise<{ code: number | null; stderr: string }>): Promise<string> {
  const result = await lines.next();
  if (!result.done) return result.value;
  const { code, stderr } = await exited;
  throw new Error(`the worker exited (code ${code}) before writing a line:\n${stderr}`);
}

function ticket(overrides: Partial<ApprovalTicket> = {}): ApprovalTicket {
  return {
    id: 'ticket-1',
    tenantId: 'acme',
    eventId: 'evt-1',
    boundary: 'tool_call',
    tool: 'send_email',
    args: { to: 'x@example.com' },
    reason: 'needs a human',
    rule: 'default/escalate',
    policyVersion: 'v1',
    createdAt: 1,
    expiresAt: 1_000_000,
    requiredApprovals: 1,
    onTimeout: 'deny',
    status: 'pending',
    approvals: [],
    ...overrides,
  };
}

describe('openSqliteStore', () => {
  it('creates the folder and a database at the latest schema version, in WAL mode', async () => {
    const path = join(directory, 'nested', 'deeper', 'state.db');
    const store = openSqliteStore({ path });
    expect(store.kind).toBe('sqlite');
    expect(store.location).toBe(path);
    await store.close();
    const db = new Database(path);
    expect(db.pragma('user_version', { simple: true })).toBe(latestSchemaVersion);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('keeps everything in memory for path :memory:', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    expect(store.location).toBe(':memory:');
    await store.createApproval(ticket());
    expect(await store.getApproval('acme', 'ticket-1')).toEqual(ticket());
    await store.close();
    expect(existsSync(':memory:')).toBe(false);
  });

  it('reopens a current database without applying any step again', async () => {
    const path = newPath();
    await openSqliteStore({ path }).close();
    const db = new Database(path);
    const schema = db.prepare('SELECT sql FROM sqlite_master ORDER BY name').all();
    expect(migrate(db, path)).toBe(latestSchemaVersion);
    expect(db.prepare('SELECT sql FROM sqlite_master ORDER BY name').all()).toEqual(schema);
    db.close();
    const store = openSqliteStore({ path });
    await store.recordUsage({ tenantId: 'a', model: 'm', inputTokens: 1, outputTokens: 1, cost: 1, at: 1 });
    await store.close();
  });

  it('refuses a database written by a newer Palisade, naming both versions, and leaves the file byte for byte', async () => {
    const path = newPath();
    await openSqliteStore({ path }).close();
    const db = new Database(path);
    db.pragma(`user_version = ${latestSchemaVersion + 1}`);
    db.close();
    const before = readFileSync(path);
    const error = (() => {
      try {
        openSqliteStore({ path });
      } catch (caught) {
        return caught;
      }
    })();
    expect(StoreFailedError.isInstance(error)).toBe(true);
    expect((error as StoreFailedError).code).toBe('STORE_FAILED');
    expect((error as Error).message).toContain(`schema version ${latestSchemaVersion + 1}`);
    expect((error as Error).message).toContain(`up to ${latestSchemaVersion}`);
    expect((error as StoreFailedError).hint).toMatch(/Upgrade Palisade/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('refuses a file that is not a SQLite database, naming it, and leaves it untouched', () => {
    const path = newPath('config');
    writeFileSync(path, 'version: 1\ntenants: {}\n');
    expect(() => openSqliteStore({ path })).toThrow(
      expect.objectContaining({ code: 'STORE_FAILED', message: expect.stringContaining(path) }),
    );
    expect(readFileSync(path, 'utf8')).toBe('version: 1\ntenants: {}\n');
    expect(readdirSync(directory).filter((name) => name.startsWith('config-'))).toEqual([path.split('/').at(-1)]);
  });

  it('refuses a damaged database with a typed error and leaves it untouched', () => {
    const path = newPath('damaged');
    const bytes = Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(4080, 0xab)]);
    writeFileSync(path, bytes);
    expect(() => openSqliteStore({ path })).toThrow(expect.objectContaining({ code: 'STORE_FAILED' }));
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('fails with StoreFailedError, not SQLITE_BUSY, when another connection keeps the write lock past the busy timeout', async () => {
    const path = newPath();
    const store = openSqliteStore({ path, busyTimeoutMs: 50 });
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    try {
      const reserving = store.reserveBudget({
        tenantId: 'a',
        reservationId: 'r1',
        amount: 1,
        counters: [{ scope: 'tenant', period: 'day', windowStart: 0 }],
        expiresAt: 10,
      });
      await expect(reserving).rejects.toSatisfy(
        (error) => StoreFailedError.isInstance(error) && /SQLITE_BUSY/.test(error.message) && /busyTimeoutMs/.test(error.hint ?? ''),
      );
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect((await store.readCounters('a', [{ scope: 'tenant', period: 'day', windowStart: 0 }]))[0]?.reserved).toBe(0);
    await store.close();
  });

  it('does not load better-sqlite3 until a store is opened', async () => {
    const script = [
      `await import(${JSON.stringify(builtModule.href)});`,
      `const { createRequire } = await import('node:module');`,
      `const loaded = Object.keys(createRequire(import.meta.url).cache).filter((key) => key.includes('better-sqlite3'));`,
      'process.stdout.write(JSON.stringify(loaded));',
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    await new Promise((resolve) => child.on('close', resolve));
    expect(JSON.parse(output)).toEqual([]);
  });
});

describe('reserveBudget under concurrency', () => {
  const stores: [string, () => Store][] = [
    ['sqlite', () => openSqliteStore({ path: join(fastDirectory, 'property.db') })],
    ['memory', () => createMemoryStore()],
  ];
  for (const [name, open] of stores) {
    it(`(${name}) never commits more than the hard limit: spent + reserved <= limit at every step and after settling`, async () => {
      const store = open();
      let run = 0;
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 0, max: 2_000 }),
            fc.array(
              fc.record({
                amount: fc.integer({ min: 0, max: 600 }),
                end: fc.constantFrom('settle', 'release', 'leave'),
                actualPercent: fc.integer({ min: 0, max: 100 }),
              }),
              { minLength: 1, maxLength: 12 },
            ),
            fc.scheduler(),
            async (limit, tasks, scheduler) => {
              run += 1;
              // A fresh counter per run, on one long-lived store.
              const counter: CounterKey = { scope: 'tenant', period: 'day', windowStart: run };
              const other: CounterKey = { scope: 'user:u1', period: 'day', windowStart: run };
              const check = async () => {
                const [state, userState] = await store.readCounters('t', [counter, other]);
                expect(state!.spent + state!.reserved).toBeLessThanOrEqual(limit);
                // Both counters are charged together or not at all.
                expect([userState!.spent, userState!.reserved]).toEqual([state!.spent, state!.reserved]);
              };
              let spent = 0;
              let held = 0;
              const work = tasks.map(async (task, index) => {
                const reservationId = `run${run}-${index}`;
                await scheduler.schedule(Promise.resolve(), `reserve ${index}`);
                const result = await store.reserveBudget({
                  tenantId: 't',
                  reservationId,
                  amount: task.amount,
                  counters: [{ ...counter, hardLimit: limit }, other],
                  expiresAt: 1,
                });
                await check();
                if (!result.ok) {
                  expect(result.counter.spent + result.counter.reserved + task.amount).toBeGreaterThan(limit);
                  return;
                }
                await scheduler.schedule(Promise.resolve(), `${task.end} ${index}`);
                if (task.end === 'settle') {
                  const actual = Math.floor((task.amount * task.actualPercent) / 100);
                  expect(await store.settleReservation('t', reservationId, actual, 0)).toBe(true);
                  spent += actual;
                } else if (task.end === 'release') {
                  expect(await store.releaseReservation('t', reservationId)).toBe(true);
                } else {
                  held += task.amount;
                }
                await check();
              });
              await scheduler.waitFor(Promise.all(work));
              expect(await store.readCounters('t', [counter])).toEqual([{ ...counter, spent, reserved: held }]);
              expect(spent + held).toBeLessThanOrEqual(limit);
            },
          ),
          { numRuns: 200 },
        );
        await store.releaseExpiredReservations(Number.MAX_SAFE_INTEGER);
      } finally {
        await store.close();
      }
    });
  }

  it('serialises two processes reserving against one counter: no overshoot, no lost update, no SQLITE_BUSY', async () => {
    const path = newPath('shared');
    await openSqliteStore({ path }).close();
    const counter: CounterKey = { scope: 'tenant', period: 'day', windowStart: 0 };
    const amount = 1_000;
    const limit = 150 * amount;
    const attempts = 120;
    const workers = ['w1', 'w2'].map((name) =>
      startWorker('reserve-loop', { path, tenantId: 'acme', worker: name, attempts, amount, limit, counter }),
    );
    for (const { lines, exited } of workers) expect(await nextLine(lines, exited)).toBe('ready');

    // Watch the counter from a third connection while the workers race.
    const observer = openSqliteStore({ path });
    let maxObserved = 0;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const [state] = await observer.readCounters('acme', [counter]);
        maxObserved = Math.max(maxObserved, state!.spent + state!.reserved);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    for (const { child } of workers) child.stdin!.write('go\n');
    const reports = await Promise.all(
      workers.map(async ({ lines, exited }) => {
        const report = JSON.parse(await nextLine(lines, exited)) as { succeeded: number; refused: number; maxCommitted: number };
        const { code, stderr } = await exited;
        expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
        return report;
      }),
    );
    watching = false;
    await watch;

    for (const report of reports) {
      expect(report.succeeded + report.refused).toBe(attempts);
      expect(report.maxCommitted).toBeLessThanOrEqual(limit);
    }
    expect(reports.reduce((sum, report) => sum + report.succeeded, 0)).toBe(150);
    expect(reports.every((report) => report.succeeded > 0)).toBe(true);
    expect(maxObserved).toBeLessThanOrEqual(limit);
    expect(await observer.readCounters('acme', [counter])).toEqual([{ ...counter, spent: limit, reserved: 0 }]);
    await observer.close();
  });
});

describe('durability', () => {
  it('keeps an approval whose creation resolved, even when the process is killed right after (SIGKILL)', async () => {
    const path = newPath('durable');
    await openSqliteStore({ path }).close();
    const created = ticket({ id: 'survives-kill', args: { amount: 42 } });
    const { child, lines, exited } = startWorker('create-approval', { path, ticket: created });
    expect(await nextLine(lines, exited)).toBe('created');
    child.kill('SIGKILL');
    expect((await exited).code).toBeNull();
    const store = openSqliteStore({ path });
    expect(await store.getApproval('acme', 'survives-kill')).toEqual(created);
    await store.close();
  });
});
