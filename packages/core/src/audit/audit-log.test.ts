import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSection } from '../config/config-schema.js';
import { AuditFailedError } from '../errors/audit-failed-error.js';
import { AuditLockedError } from '../errors/audit-locked-error.js';
import type { AuditIndexRow } from '../store/store.js';
import { type AuditFileSystem, nodeAuditFileSystem } from './audit-file-system.js';
import { type AuditEvent, type AuditLogOptions, auditLogOptionsFromConfig, openAuditLog } from './audit-log.js';
import { canonicalJson } from './canonical-json.js';
import { type AuditReceipt, type AuditRecord, GENESIS_HASH, sha256Hex } from './seal-receipt.js';
import { verifyAudit } from './verify-audit.js';

const directories: string[] = [];
afterEach(async () => {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'palisade-audit-'));
  directories.push(directory);
  return directory;
}

let counter = 0;
function buildRecord(overrides: Partial<AuditRecord> = {}): AuditRecord {
  counter++;
  return {
    kind: 'decision',
    time: new Date(1_767_225_600_000 + counter * 1000).toISOString(),
    eventId: `evt-${counter}`,
    tenantId: counter % 2 ? 'acme' : 'globex',
    appId: 'chatbot',
    boundary: 'tool_call',
    tool: 'shell.exec',
    action: 'block',
    rule: 'platform/no shell',
    detections: [{ ruleId: 'cmd-001', family: 'CMD', severity: 'HIGH', confidence: 0.9 }],
    contentHash: sha256Hex(`content ${counter}`),
    ...overrides,
  };
}

function receiptsOf(text: string): AuditReceipt[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditReceipt);
}

function readAll(directory: string): AuditReceipt[] {
  const names = readdirSync(directory)
    .filter((name) => /^audit-\d+\.jsonl(\.gz)?$/.test(name))
    .sort();
  const receipts: AuditReceipt[] = [];
  for (const name of names) {
    const bytes = readFileSync(join(directory, name));
    receipts.push(...receiptsOf((name.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8')));
  }
  if (existsSync(join(directory, 'audit.jsonl'))) receipts.push(...receiptsOf(readFileSync(join(directory, 'audit.jsonl'), 'utf8')));
  return receipts;
}

/** An in-memory audit index with the Store's semantics for the two methods the log uses. */
function memoryIndex() {
  const rows: AuditIndexRow[] = [];
  let failing = false;
  return {
    rows,
    fail(value: boolean) {
      failing = value;
    },
    async indexReceipts(batch: readonly AuditIndexRow[]) {
      if (failing) throw new Error('index unavailable');
      rows.push(...batch);
    },
    async auditHead() {
      const last = rows.at(-1);
      return last ? { seq: last.seq, hash: last.hash } : undefined;
    },
  };
}

/** The real file system, with counters and a switch that makes it fail like a full disk. */
function faultyFileSystem() {
  const state = { failing: false, writes: 0, fdatasyncs: 0 };
  const check = () => {
    if (!state.failing) return;
    const error = new Error('ENOSPC: no space left on device, write') as NodeJS.ErrnoException;
    error.code = 'ENOSPC';
    throw error;
  };
  const fileSystem: AuditFileSystem = {
    ...nodeAuditFileSystem,
    open: async (...args) => {
      check();
      return nodeAuditFileSystem.open(...args);
    },
    write: async (...args) => {
      check();
      state.writes++;
      return nodeAuditFileSystem.write(...args);
    },
    fdatasync: async (fd) => {
      check();
      state.fdatasyncs++;
      return nodeAuditFileSystem.fdatasync(fd);
    },
    rename: async (from, to) => {
      check();
      return nodeAuditFileSystem.rename(from, to);
    },
  };
  return { fileSystem, state };
}

async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function open(directory: string, options: Partial<AuditLogOptions> = {}) {
  return openAuditLog({ directory, compress: false, batch: { maxDelay: 0 }, retry: { initialDelay: 1, maxDelay: 5 }, ...options });
}

describe('openAuditLog', () => {
  it('chains receipts: seq contiguous from 1, prev is the previous hash, hash covers the rest', async () => {
    const directory = await temporaryDirectory();
    const log = open(directory);
    const results = [buildRecord(), buildRecord(), buildRecord()].map((record) => log.append(record));
    await log.close();

    const receipts = readAll(directory);
    expect(receipts.map((receipt) => receipt.seq)).toEqual([1, 2, 3]);
    expect(receipts.map((receipt) => receipt.hash)).toEqual(results.map((result) => result.hash));
    expect(receipts[0]!.prev).toBe(GENESIS_HASH);
    expect(receipts[1]!.prev).toBe(receipts[0]!.hash);
    expect(receipts[2]!.prev).toBe(receipts[1]!.hash);
    for (const receipt of receipts) expect(receipt.hash).toBe(sha256Hex(canonicalJson({ ...receipt, hash: undefined })));
    expect(readFileSync(join(directory, 'audit.jsonl'), 'utf8')).toBe(receipts.map((receipt) => `${canonicalJson(receipt)}\n`).join(''));
  });

  it('passes every other field through unchanged', async () => {
    const directory = await temporaryDirectory();
    const log = open(directory);
    const record = buildRecord({ data: { nested: [1, 'two', null, { ü: true }] }, content: 'héllo\n"world"', policyVersion: 'v7' });
    log.append(record);
    await log.close();
    expect(readAll(directory)[0]).toMatchObject(record);
  });

  it('resolves durable once the receipt is on disk, and flush waits for everything appended', async () => {
    const directory = await temporaryDirectory();
    const log = open(directory, { batch: { maxDelay: 50 } });
    const first = log.append(buildRecord());
    for (let index = 0; index < 99; index++) log.append(buildRecord());
    expect(log.stats()).toMatchObject({ appended: 100, pending: 100, durable: 0, lastSeq: 100 });
    await first.durable;
    expect(receiptsOf(readFileSync(join(directory, 'audit.jsonl'), 'utf8'))[0]!.seq).toBe(1);
    await log.flush();
    expect(log.stats()).toMatchObject({ appended: 100, written: 100, durable: 100, pending: 0, dropped: 0, files: 1, healthy: true });
    await log.close();
  });

  it('continues the chain after reopening', async () => {
    const directory = await temporaryDirectory();
    const first = open(directory);
    const last = [buildRecord(), buildRecord()].map((record) => first.append(record)).at(-1)!;
    await first.close();
    const second = open(directory);
    expect(second.recovery).toMatchObject({ lastSeq: 2, lastHash: last.hash, trimmedBytes: 0 });
    expect(second.append(buildRecord()).seq).toBe(3);
    await second.close();
    expect(readAll(directory)[2]!.prev).toBe(last.hash);
    expect(await verifyAudit({ directory })).toMatchObject({ ok: true, receipts: 3, lastSeq: 3 });
  });

  it('commits a group with one fdatasync per batch, and syncs each receipt with per_receipt', async () => {
    const directory = await temporaryDirectory();
    const batched = faultyFileSystem();
    const log = open(directory, { fileSystem: batched.fileSystem, batch: { maxReceipts: 100, maxDelay: 1000 } });
    for (let index = 0; index < 300; index++) log.append(buildRecord());
    await log.flush();
    await log.close();
    expect(batched.state.fdatasyncs).toBeLessThanOrEqual(3);

    const single = faultyFileSystem();
    const perReceipt = open(directory, { fileSystem: single.fileSystem, fsync: 'per_receipt' });
    for (let index = 0; index < 20; index++) perReceipt.append(buildRecord());
    await perReceipt.close();
    expect(single.state.fdatasyncs).toBe(20);
    expect(await verifyAudit({ directory })).toMatchObject({ ok: true, receipts: 320 });
  });

  it('with fsync none, counts a receipt durable once written, without fdatasync', async () => {
    const directory = await temporaryDirectory();
    const { fileSystem, state } = faultyFileSystem();
    const log = open(directory, { fileSystem, fsync: 'none' });
    await log.append(buildRecord()).durable;
    await log.close();
    expect(state).toMatchObject({ writes: 1, fdatasyncs: 0 });
  });

  it('refuses records it cannot seal without using up a seq', async () => {
    const directory = await temporaryDirectory();
    const log = open(directory);
    expect(() => log.append({ time: 'x', eventId: 'e', tenantId: 't' } as unknown as AuditRecord)).toThrow(AuditFailedError);
    expect(() => log.append(buildRecord({ data: { size: 10n } }))).toThrow(/canonical JSON cannot carry a bigint/);
    expect(log.append(buildRecord()).seq).toBe(1);
    await log.close();
    expect(() => log.append(buildRecord())).toThrow(/closed/);
  });

  it('maps the audit section of palisade.yaml onto its options', () => {
    const config = parseSection('audit', {
      fsync: 'per_receipt',
      on_failure: 'drop',
      rotate: { max_bytes: 1000 },
      retention: { max_files: 3 },
    });
    expect(auditLogOptionsFromConfig(config)).toEqual({
      directory: '.palisade/audit',
      fsync: 'per_receipt',
      onFailure: 'drop',
      maxPending: 10_000,
      batch: { maxReceipts: 512, maxDelay: 0 },
      rotate: { maxBytes: 1000, maxAge: undefined },
      compress: true,
      retention: { maxAge: undefined, maxFiles: 3 },
    });
  });
});

describe('rotation', () => {
  it('rotates by size into files named by first seq; the chain continues across files', async () => {
    const directory = await temporaryDirectory();
    const log = open(directory, { rotate: { maxBytes: 4096 } });
    for (let index = 0; index < 100; index++) log.append(buildRecord());
    await log.close();

    const rotated = readdirSync(directory)
      .filter((name) => name.startsWith('audit-0'))
      .sort();
    expect(rotated.length).toBeGreaterThanOrEqual(5);
    expect(rotated[0]).toBe('audit-000000000001.jsonl');
    for (const name of [...rotated, 'audit.jsonl']) expect(statSync(join(directory, name)).size).toBeLessThanOrEqual(4096);
    const receipts = readAll(directory);
    expect(receipts.map((receipt) => receipt.seq)).toEqual(Array.from({ length: 100 }, (_, index) => index + 1));
    for (const name of rotated) {
      const first = receiptsOf(readFileSync(join(directory, name), 'utf8'))[0]!;
      expect(name).toBe(`audit-${String(first.seq).padStart(12, '0')}.jsonl`);
      if (first.seq > 1) expect(first.prev).toBe(receipts[first.seq - 2]!.hash);
    }
    expect(await verifyAudit({ directory })).toMatchObject({ ok: true, files: rotated.length + 1, receipts: 100, lastSeq: 100 });
  });

  it('gzips rotated files in the background and leaves no plain copy', async () => {
    const directory = await temporaryDirectory();
    const log = open(directory, { rotate: { maxBytes: 4096 }, compress: true });
    for (let index = 0; index < 100; index++) log.append(buildRecord());
    await log.close();
    const names = readdirSync(directory);
    expect(names.filter((name) => name.endsWith('.jsonl.gz')).length).toBeGreaterThanOrEqual(5);
    expect(names.filter((name) => /^audit-\d+\.jsonl$/.test(name) || name.endsWith('.tmp'))).toEqual([]);
    expect(readAll(directory).map((receipt) => receipt.seq)).toEqual(Array.from({ length: 100 }, (_, index) => index + 1));
    expect(await verifyAudit({ directory })).toMatchObject({ ok: true, receipts: 100 });
  });

  it('rotates a file whose first receipt is older than maxAge', async () => {
    const directory = await temporaryDirectory();
    let now = 1_000_000;
    const log = open(directory, { rotate: { maxAge: 60_000 }, now: () => now });
    await log.append(buildRecord()).durable;
    now += 30_000;
    await log.append(buildRecord()).durable;
    now += 31_000;
    await log.append(buildRecord()).durable;
    await log.close();
    expect(readdirSync(directory).sort()).toEqual(['audit-000000000001.jsonl', 'audit.jsonl']);
    expect(receiptsOf(readFileSync(join(directory, 'audit.jsonl'), 'utf8')).map((receipt) => receipt.seq)).toEqual([3]);
  });

  it('deletes the oldest files beyond maxFiles after writing the anchor, and verification starts there', async () => {
    const directory = await temporaryDirectory();
    const log = open(directory, { rotate: { maxBytes: 2048 }, compress: true, retention: { maxFiles: 2 } });
    for (let index = 0; index < 60; index++) log.append(buildRecord());
    await log.close();

    const rotated = readdirSync(directory).filter((name) => name.startsWith('audit-0'));
    expect(rotated).toHaveLength(2);
    const receipts = readAll(directory);
    const anchor = JSON.parse(readFileSync(join(directory, 'audit-anchor.json'), 'utf8'));
    expect(anchor.seq).toBe(receipts[0]!.seq - 1);
    expect(anchor.hash).toBe(receipts[0]!.prev);
    const result = await verifyAudit({ directory });
    expect(result).toMatchObject({ ok: true, firstSeq: anchor.seq + 1, lastSeq: 60, anchor: { seq: anchor.seq, hash: anchor.hash } });

    const reopened = open(directory);
    expect(reopened.stats().files).toBe(3);
    await reopened.close();
  });

  it('deletes rotated files older than retention.maxAge', async () => {
    const directory = await temporaryDirectory();
    const log = open(directory, { rotate: { maxBytes: 2048 }, retention: { maxAge: 60_000 }, now: () => Date.now() + 120_000 });
    for (let index = 0; index < 30; index++) log.append(buildRecord());
    await log.close();
    expect(readdirSync(directory).filter((name) => name.startsWith('audit-0'))).toEqual([]);
    expect(await verifyAudit({ directory })).toMatchObject({ ok: true, lastSeq: 30 });
  });
});

describe('recovery on open', () => {
  it('trims a torn last line with ftruncate and continues the chain', async () => {
    const directory = await temporaryDirectory();
    const first = open(directory);
    first.append(buildRecord());
    const last = first.append(buildRecord());
    await first.close();
    const torn = '{"action":"block","appId":"chat';
    await appendFile(join(directory, 'audit.jsonl'), torn);

    const second = open(directory);
    expect(second.recovery).toMatchObject({
      lastSeq: 2,
      lastHash: last.hash,
      trimmedBytes: torn.length,
      trimmedLines: 0,
      trimmedTo: undefined,
    });
    second.append(buildRecord());
    await second.close();
    expect(await verifyAudit({ directory })).toMatchObject({ ok: true, receipts: 3 });
  });

  it('trims complete last lines that do not verify, saving them for inspection', async () => {
    const directory = await temporaryDirectory();
    const first = open(directory);
    first.append(buildRecord());
    await first.close();
    const garbage = `${'\u0000'.repeat(40)}\n{"seq":2}\n`;
    await appendFile(join(directory, 'audit.jsonl'), garbage);
    const errors: AuditFailedError[] = [];
    const second = open(directory, { onError: (error) => errors.push(error) });
    expect(second.recovery).toMatchObject({ lastSeq: 1, trimmedBytes: garbage.length, trimmedLines: 2 });
    expect(readFileSync(second.recovery.trimmedTo!, 'utf8')).toBe(garbage);
    await second.close();
    expect(errors[0]!.message).toMatch(/trimmed 2 complete line/);
  });

  it('continues from the newest rotated file when audit.jsonl is missing (crash inside a rotation)', async () => {
    const directory = await temporaryDirectory();
    const first = open(directory);
    first.append(buildRecord());
    const last = first.append(buildRecord());
    await first.close();
    renameSync(join(directory, 'audit.jsonl'), join(directory, 'audit-000000000001.jsonl'));
    const second = open(directory);
    expect(second.recovery).toMatchObject({ lastSeq: 2, lastHash: last.hash });
    second.append(buildRecord());
    await second.close();
    expect(await verifyAudit({ directory })).toMatchObject({ ok: true, receipts: 3, files: 2 });
  });

  it('deletes leftovers of interrupted compression and compresses what is left plain', async () => {
    const directory = await temporaryDirectory();
    const first = open(directory, { rotate: { maxBytes: 2048 } });
    for (let index = 0; index < 30; index++) first.append(buildRecord());
    await first.close();
    const plain = readdirSync(directory).filter((name) => /^audit-\d+\.jsonl$/.test(name));
    writeFileSync(join(directory, `${plain[0]}.gz.tmp`), 'partial gzip');
    writeFileSync(join(directory, 'audit-anchor.json.tmp'), '{"seq":');

    const second = open(directory, { compress: true });
    expect(second.recovery.removedLeftovers.sort()).toEqual([`${plain[0]}.gz.tmp`, 'audit-anchor.json.tmp']);
    await second.close();
    expect(readdirSync(directory).filter((name) => /^audit-\d+\.jsonl$/.test(name))).toEqual([]);
    expect(await verifyAudit({ directory })).toMatchObject({ ok: true, receipts: 30 });
  });
});

describe('writer lock', () => {
  it('refuses a second writer, naming the pid that holds the lock', async () => {
    const directory = await temporaryDirectory();
    const log = open(directory);
    try {
      open(directory);
      expect.unreachable();
    } catch (error) {
      expect(AuditLockedError.isInstance(error)).toBe(true);
      expect((error as AuditLockedError).pid).toBe(process.pid);
      expect((error as Error).message).toMatch(new RegExp(`locked by process ${process.pid}.*Hint: Only one process`, 's'));
    }
    await log.close();
    await open(directory).close();
  });

  it('takes over the lock of a process that died', async () => {
    const directory = await temporaryDirectory();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(dead.stdout);
    writeFileSync(join(directory, 'audit.lock'), `${JSON.stringify({ pid, hostname: hostname() })}\n`);
    const log = open(directory);
    expect(log.recovery.tookOverLockFrom).toBe(pid);
    expect(JSON.parse(readFileSync(join(directory, 'audit.lock'), 'utf8')).pid).toBe(process.pid);
    await log.close();
    expect(existsSync(join(directory, 'audit.lock'))).toBe(false);
  });
});

describe('audit index', () => {
  it('indexes receipts once they are durable', async () => {
    const directory = await temporaryDirectory();
    const index = memoryIndex();
    const log = open(directory, { index });
    const result = log.append(buildRecord({ userId: 'u1' }));
    await log.flush();
    expect(index.rows).toEqual([
      expect.objectContaining({
        seq: 1,
        hash: result.hash,
        eventId: expect.any(String),
        tenantId: expect.any(String),
        userId: 'u1',
        kind: 'decision',
      }),
    ]);
    expect(index.rows[0]!.receipt).toBe(readFileSync(join(directory, 'audit.jsonl'), 'utf8').trimEnd());
    expect(index.rows[0]!.time).toBe(Date.parse(readAll(directory)[0]!.time));
    expect(log.stats().indexedSeq).toBe(1);
    await log.close();
  });

  it('re-indexes the receipts the index misses when the log opens', async () => {
    const directory = await temporaryDirectory();
    const first = open(directory, { rotate: { maxBytes: 2048 }, compress: true });
    for (let index = 0; index < 40; index++) first.append(buildRecord());
    await first.close();
    const index = memoryIndex();
    const second = open(directory, { index });
    second.append(buildRecord());
    await second.flush();
    expect(index.rows.map((row) => row.seq)).toEqual(Array.from({ length: 41 }, (_, position) => position + 1));
    expect(index.rows.map((row) => row.receipt)).toEqual(readAll(directory).map((receipt) => canonicalJson(receipt)));
    await second.close();
  });

  it('reports an index failure without failing the log, and refills the index from the files', async () => {
    const directory = await temporaryDirectory();
    const index = memoryIndex();
    const errors: AuditFailedError[] = [];
    const log = open(directory, { index, onError: (error) => errors.push(error) });
    await log.flush();
    index.fail(true);
    log.append(buildRecord());
    log.append(buildRecord());
    await log.flush();
    expect(log.healthy).toBe(true);
    expect(errors[0]!.message).toMatch(/Indexing audit receipts up to seq 2 failed; the log is intact/);
    index.fail(false);
    log.append(buildRecord());
    await log.flush();
    expect(index.rows.map((row) => row.seq)).toEqual([1, 2, 3]);
    await log.close();
  });

  it('opens when the index is ahead of a truncated log, and verifyAudit reports the truncation', async () => {
    const directory = await temporaryDirectory();
    const index = memoryIndex();
    const first = open(directory, { index });
    for (let count = 0; count < 5; count++) first.append(buildRecord());
    await first.close();
    const text = readFileSync(join(directory, 'audit.jsonl'), 'utf8');
    writeFileSync(join(directory, 'audit.jsonl'), `${text.split('\n').slice(0, 3).join('\n')}\n`);

    const errors: AuditFailedError[] = [];
    const second = open(directory, { index, onError: (error) => errors.push(error) });
    expect(second.append(buildRecord()).seq).toBe(4);
    await second.close();
    expect(errors.map((error) => error.message)).toContainEqual(
      expect.stringMatching(/index is ahead of the log: it knows seq 5, the log ends at seq 3/),
    );
    expect(index.rows).toHaveLength(5);
    const result = await verifyAudit({ directory, index });
    expect(result.ok).toBe(false);
    expect(result.firstProblem).toMatchObject({
      file: 'audit.jsonl',
      line: 5,
      seq: 5,
      problem: 'truncated: the index knows seq 5 but the log ends at seq 4',
    });
  });
});

describe('failure modes', () => {
  it('fail_closed: holds receipts in memory while the disk fails, never drops, and recovers', async () => {
    const directory = await temporaryDirectory();
    const { fileSystem, state } = faultyFileSystem();
    const events: AuditEvent[] = [];
    const log = open(directory, { fileSystem, maxPending: 10, onEvent: (event) => events.push(event) });
    await log.append(buildRecord()).durable;
    state.failing = true;
    const results = Array.from({ length: 25 }, () => log.append(buildRecord()));
    await until(() => !log.healthy);
    expect(events.map((event) => event.type)).toEqual(['audit.failed']);
    expect(events[0]).toMatchObject({ severity: 'CRITICAL', tenantId: '', message: expect.stringMatching(/ENOSPC/) });
    expect(log.stats()).toMatchObject({ pending: 25, dropped: 0, healthy: false, lastError: expect.stringMatching(/ENOSPC/) });
    let capacity = false;
    void log.waitForCapacity().then(() => {
      capacity = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(capacity).toBe(false);

    state.failing = false;
    await Promise.all(results.map((result) => result.durable));
    expect(capacity).toBe(true);
    expect(log.healthy).toBe(true);
    await until(() => events.length === 2);
    expect(events.map((event) => event.type)).toEqual(['audit.failed', 'audit.recovered']);
    expect(log.stats()).toMatchObject({ appended: 26, durable: 26, pending: 0, dropped: 0 });
    await log.close();
    expect(await verifyAudit({ directory })).toMatchObject({ ok: true, receipts: 26 });
  });

  it('drop: drops receipts past maxPending, counts them, emits audit.dropped and keeps seq contiguous', async () => {
    const directory = await temporaryDirectory();
    const { fileSystem, state } = faultyFileSystem();
    const events: AuditEvent[] = [];
    const log = open(directory, { fileSystem, onFailure: 'drop', maxPending: 5, onEvent: (event) => events.push(event) });
    state.failing = true;
    const results = Array.from({ length: 8 }, () => log.append(buildRecord()));
    expect(results.map((result) => result.seq)).toEqual([1, 2, 3, 4, 5, 0, 0, 0]);
    expect(results[7]).toMatchObject({ dropped: true, hash: '' });
    await expect(results[7]!.durable).rejects.toThrow(/dropped/);
    expect(log.stats()).toMatchObject({ dropped: 3, pending: 5 });
    await until(() => events.some((event) => event.type === 'audit.dropped'));
    expect(events.find((event) => event.type === 'audit.dropped')).toMatchObject({ severity: 'CRITICAL', dropped: 1 });
    await until(() => !log.healthy);

    state.failing = false;
    await Promise.all(results.slice(0, 5).map((result) => result.durable));
    // Drops after the first are summarised (at most one event a second, and at recovery).
    await until(() => events.some((event) => event.type === 'audit.recovered'));
    expect(events.filter((event) => event.type === 'audit.dropped').at(-1)).toMatchObject({
      dropped: 3,
      message: expect.stringMatching(/^2 audit receipt\(s\) dropped \(3 in total\)/),
    });
    expect(log.append(buildRecord()).seq).toBe(6);
    await log.close();
    expect(await verifyAudit({ directory })).toMatchObject({ ok: true, receipts: 6 });
  });

  it('keeps writing when an onEvent or onError callback throws', async () => {
    const directory = await temporaryDirectory();
    const { fileSystem, state } = faultyFileSystem();
    const log = open(directory, {
      fileSystem,
      onEvent: () => {
        throw new Error('subscriber bug');
      },
      onError: () => Promise.reject(new Error('async subscriber bug')) as unknown as undefined,
    });
    state.failing = true;
    const result = log.append(buildRecord());
    await until(() => !log.healthy);
    state.failing = false;
    await result.durable;
    await log.close();
    expect(log.stats()).toMatchObject({ durable: 1, healthy: true });
  });

  it('close with a timeout gives up on a disk that keeps failing, and says how many receipts were lost', async () => {
    const directory = await temporaryDirectory();
    const { fileSystem, state } = faultyFileSystem();
    const events: AuditEvent[] = [];
    const log = open(directory, { fileSystem, onEvent: (event) => events.push(event) });
    state.failing = true;
    const result = log.append(buildRecord());
    log.append(buildRecord());
    await expect(log.close({ timeout: 30 })).rejects.toThrow(/closed after 30 ms with 2 receipt\(s\) not written: ENOSPC/);
    await expect(result.durable).rejects.toThrow(AuditFailedError);
    expect(log.stats()).toMatchObject({ dropped: 2, pending: 0 });
    await until(() => events.some((event) => event.type === 'audit.dropped'));
    expect(existsSync(join(directory, 'audit.lock'))).toBe(false);
  });

  it('keeps writing to the current file while rotation fails', async () => {
    const directory = await temporaryDirectory();
    const { fileSystem } = faultyFileSystem();
    const errors: AuditFailedError[] = [];
    const log = open(directory, {
      fileSystem: {
        ...fileSystem,
        rename: () => Promise.reject(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })),
      },
      rotate: { maxBytes: 1024 },
      onError: (error) => errors.push(error),
    });
    for (let index = 0; index < 20; index++) log.append(buildRecord());
    await log.close();
    expect(log.stats()).toMatchObject({ durable: 20, healthy: true, files: 1 });
    expect(errors[0]!.message).toMatch(/Rotating audit.jsonl failed; receipts keep going to it. EACCES/);
    expect(await readFile(join(directory, 'audit.jsonl'), 'utf8')).toContain('"seq":20');
  });
});
