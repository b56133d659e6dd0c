#!/usr/bin/env node
// Audit receipt log: receipts per second appended and made durable (fsync batch = group commit,
// and per_receipt), the synchronous cost of append() (sealing: canonical JSON + SHA-256 chain
// link + queueing), durable-acknowledgement latency at a steady 5k receipts/s, and verifyAudit
// throughput. Writes to a temporary directory under os.tmpdir(). Prints figures beside the
// targets; asserts nothing.
//
//   npx tsc -p packages/core/tsconfig.build.json && node bench/audit-bench.mjs [--quick]
//
// `runAuditBench({ quick })` is exported for bench/run.mjs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (path) => pathToFileURL(join(root, 'packages/core/dist', path)).href;

const TARGET_BATCH_PER_SECOND = 50_000;
const TARGET_PER_RECEIPT_PER_SECOND = 2_000;
const TARGET_APPEND_US = 20; // "well under 20 µs": shown against p50 and p99
const TARGET_ACK_P99_MS = 2;

const nextTick = () => new Promise((done) => setImmediate(done));

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** A decision receipt shaped like the guard's (about 500 bytes once sealed). */
function record(index) {
  return {
    kind: 'decision',
    time: new Date(1_767_225_600_000 + index).toISOString(),
    eventId: `evt-${index.toString(36)}-0f3a9c`,
    tenantId: `tenant-${index % 10}`,
    appId: 'support-bot',
    userId: `user-${index % 1000}`,
    boundary: 'tool_call',
    tool: 'mail.send',
    action: index % 5 ? 'allow' : 'block',
    rule: 'tenant-3/external mail needs approval',
    policyId: 'tenant-3',
    policyVersion: 'sha256:4be1c2',
    detections: [{ ruleId: 'pii-003', family: 'PII', severity: 'MEDIUM', confidence: 0.92, tags: ['personal.pii.email'] }],
    contentHash: 'b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c',
  };
}

/** Appends `count` receipts as fast as the log takes them (awaiting capacity), then waits for durability. */
async function throughput(openAuditLog, options, count) {
  const directory = mkdtempSync(join(tmpdir(), 'palisade-audit-bench-'));
  try {
    const log = openAuditLog({ directory, compress: false, ...options });
    const started = performance.now();
    for (let index = 0; index < count; ) {
      const end = Math.min(count, index + 1000);
      for (; index < end; index++) log.append(record(index));
      await log.waitForCapacity();
      await nextTick();
    }
    await log.flush();
    const seconds = (performance.now() - started) / 1000;
    const stats = log.stats();
    await log.close();
    return { perSecond: count / seconds, bytesPerReceipt: stats.bytes / count, directory };
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
}

/** Times each append() alone (µs), in bursts of 1,000 with the writer flushing between bursts. */
async function appendCost(openAuditLog, count) {
  const directory = mkdtempSync(join(tmpdir(), 'palisade-audit-bench-'));
  const log = openAuditLog({ directory, compress: false, fsync: 'batch' });
  const records = Array.from({ length: 1000 }, (_, index) => record(index));
  const times = new Float64Array(count);
  for (let index = 0; index < count; ) {
    const end = Math.min(count, index + 1000);
    for (; index < end; index++) {
      const input = records[index % records.length];
      const before = process.hrtime.bigint();
      log.append(input);
      times[index] = Number(process.hrtime.bigint() - before) / 1000;
    }
    await log.waitForCapacity();
    await nextTick();
  }
  await log.close();
  rmSync(directory, { recursive: true, force: true });
  const warm = times.subarray(Math.min(2000, count >> 2)).sort();
  return { p50: percentile(warm, 0.5), p99: percentile(warm, 0.99) };
}

/** Appends 5 receipts every millisecond for `seconds`; returns append-to-durable latency (ms). */
async function ackLatency(openAuditLog, options, seconds) {
  const directory = mkdtempSync(join(tmpdir(), 'palisade-audit-bench-'));
  const log = openAuditLog({ directory, compress: false, fsync: 'batch', ...options });
  const latencies = [];
  let index = 0;
  await new Promise((done) => {
    const started = performance.now();
    const timer = setInterval(() => {
      const due = Math.floor((performance.now() - started) * 5);
      while (index < due) {
        const at = performance.now();
        log.append(record(index++)).durable.then(() => latencies.push(performance.now() - at));
      }
      if (performance.now() - started > seconds * 1000) {
        clearInterval(timer);
        done();
      }
    }, 1);
  });
  await log.close();
  rmSync(directory, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), perSecond: index / seconds };
}

const fmt = (value, digits = 1) => (value >= 1000 ? Math.round(value).toLocaleString('en-US') : value.toFixed(digits));
const ratio = (value, target, higherIsBetter = true) => `${(higherIsBetter ? value / target : target / value).toFixed(2)}x`;

/** Runs the audit benchmark, prints a report, and returns the figures. */
export async function runAuditBench({ quick = false } = {}) {
  const { openAuditLog, verifyAudit } = await import(dist('audit/audit-log.js')).then(async (module) => ({
    ...module,
    verifyAudit: (await import(dist('audit/verify-audit.js'))).verifyAudit,
  }));
  const batchCount = quick ? 50_000 : 200_000;
  const perReceiptCount = quick ? 1_000 : 5_000;

  const cost = await appendCost(openAuditLog, quick ? 20_000 : 100_000);
  const batch = await throughput(openAuditLog, { fsync: 'batch' }, batchCount);
  const verifyStarted = performance.now();
  const verification = await verifyAudit({ directory: batch.directory });
  const verifyPerSecond = verification.receipts / ((performance.now() - verifyStarted) / 1000);
  rmSync(batch.directory, { recursive: true, force: true });
  const perReceipt = await throughput(openAuditLog, { fsync: 'per_receipt' }, perReceiptCount);
  rmSync(perReceipt.directory, { recursive: true, force: true });
  const none = await throughput(openAuditLog, { fsync: 'none' }, batchCount);
  rmSync(none.directory, { recursive: true, force: true });
  const ackImmediate = await ackLatency(openAuditLog, { batch: { maxDelay: 0 } }, quick ? 1 : 3);
  const ackDefault = await ackLatency(openAuditLog, {}, quick ? 1 : 3);

  console.log(`## Audit receipt log (${Math.round(batch.bytesPerReceipt)}-byte receipts, ${tmpdir()}, Node ${process.version})\n`);
  console.log('| measure | figure | target | ratio |');
  console.log('|---|---|---|---|');
  console.log(
    `| durable receipts/s, fsync batch (group commit), ${fmt(batchCount)} receipts | ${fmt(batch.perSecond)} | >= ${fmt(TARGET_BATCH_PER_SECOND)} | ${ratio(batch.perSecond, TARGET_BATCH_PER_SECOND)} |`,
  );
  console.log(
    `| durable receipts/s, fsync per_receipt, ${fmt(perReceiptCount)} receipts | ${fmt(perReceipt.perSecond)} | >= ${fmt(TARGET_PER_RECEIPT_PER_SECOND)} | ${ratio(perReceipt.perSecond, TARGET_PER_RECEIPT_PER_SECOND)} |`,
  );
  console.log(`| written receipts/s, fsync none (page cache, not durable) | ${fmt(none.perSecond)} | | |`);
  console.log(
    `| append() p50 µs (seal + chain + queue) | ${fmt(cost.p50, 2)} | <= ${TARGET_APPEND_US} | ${ratio(cost.p50, TARGET_APPEND_US, false)} |`,
  );
  console.log(`| append() p99 µs | ${fmt(cost.p99, 2)} | <= ${TARGET_APPEND_US} | ${ratio(cost.p99, TARGET_APPEND_US, false)} |`);
  console.log(
    `| durable ack p50 / p99 ms at ${fmt(ackImmediate.perSecond)}/s, batch.max_delay 0 | ${ackImmediate.p50.toFixed(2)} / ${ackImmediate.p99.toFixed(2)} | p99 <= ${TARGET_ACK_P99_MS} | ${ratio(ackImmediate.p99, TARGET_ACK_P99_MS, false)} |`,
  );
  console.log(
    `| durable ack p50 / p99 ms at ${fmt(ackDefault.perSecond)}/s, batch.max_delay 5 (default) | ${ackDefault.p50.toFixed(2)} / ${ackDefault.p99.toFixed(2)} | | |`,
  );
  console.log(`| verifyAudit receipts/s | ${fmt(verifyPerSecond)} | | |\n`);

  return {
    batchPerSecond: batch.perSecond,
    perReceiptPerSecond: perReceipt.perSecond,
    nonePerSecond: none.perSecond,
    append: cost,
    ackImmediate,
    ackDefault,
    verifyPerSecond,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await runAuditBench({ quick: process.argv.includes('--quick') });
}
