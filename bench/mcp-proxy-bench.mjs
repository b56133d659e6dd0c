#!/usr/bin/env node
// Guarded MCP proxy: what the proxy adds to one `tools/call` against calling the upstream server
// directly (target: <= 1 ms added at p50). The upstream is the test fixture server
// (packages/mcp-server/test/fixtures/upstream-tools.mjs), the call `echo` with a short text, which
// a policy rule allows: the full path runs (rate limit, input schema, guard.checkToolCall, the
// upstream call, output check, guard.checkToolResult). Direct and proxied calls alternate, so both
// see the same machine. Sequential calls (one in flight). Prints figures; asserts nothing.
//
//   in-memory: the SDK's Client -> proxy -> upstream in one process (InMemoryTransport), the guard
//              without state, and with state (SQLite in a temp folder + the audit log: a receipt per call);
//   stdio:     the built proxy as a child process (`proxy-main.js -- node upstream-tools.mjs`), as an
//              MCP host runs it, against the upstream spawned directly.
//
//   pnpm build && node bench/mcp-proxy-bench.mjs [--quick]
//
// `run({ quick })` is exported for bench/run.mjs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const packageDirectory = join(root, 'packages/mcp-server');
const sdk = (path) => pathToFileURL(join(packageDirectory, 'node_modules/@modelcontextprotocol/sdk/dist/esm', path)).href;
const fixture = join(packageDirectory, 'test/fixtures/upstream-tools.mjs');
const proxyMain = join(packageDirectory, 'dist/proxy/proxy-main.js');

const TARGET_ADDED_P50_MS = 1;

const config = `
policies:
  bench:
    extends: balanced
    rules:
      - { name: echo is fine, priority: 50, action: allow, match: { boundary: tool_call, tool: echo } }
tenants:
  acme: { default_policy: bench, apps: { desktop: {} } }
`;

const texts = [
  'Summarise the attached quarterly report in three bullet points for the board.',
  'What is the difference between a mutex and a semaphore? Give a short example in Go.',
  'Draft a polite reply to a customer who asks when their refund will arrive.',
  'Translate "the meeting moved to Thursday at 10" into French and German.',
];

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

/** Alternates a direct and a proxied call `iterations` times after a warm-up; p50/p99 of each and of the per-pair difference, in ms. */
async function measurePair(direct, proxied, { iterations, warmup }) {
  for (let index = 0; index < warmup; index++) {
    await direct(index);
    await proxied(index);
  }
  const a = new Float64Array(iterations);
  const b = new Float64Array(iterations);
  const added = new Float64Array(iterations);
  for (let index = 0; index < iterations; index++) {
    let started = process.hrtime.bigint();
    await direct(index);
    a[index] = Number(process.hrtime.bigint() - started) / 1e6;
    started = process.hrtime.bigint();
    await proxied(index);
    b[index] = Number(process.hrtime.bigint() - started) / 1e6;
    added[index] = b[index] - a[index];
  }
  const figures = (values) => {
    const sorted = [...values].sort((x, y) => x - y);
    return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
  };
  return { direct: figures(a), proxied: figures(b), added: figures(added) };
}

export async function run({ quick = false } = {}) {
  const { Client } = await import(sdk('client/index.js'));
  const { StdioClientTransport, getDefaultEnvironment } = await import(sdk('client/stdio.js'));
  const { InMemoryTransport } = await import(sdk('inMemory.js'));
  const { createGuard } = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href);
  const { createGuardedProxy } = await import(pathToFileURL(join(packageDirectory, 'dist/proxy/create-guarded-proxy.js')).href);
  const { createUpstream } = await import(pathToFileURL(fixture).href);

  const iterations = quick ? 300 : 2000;
  const stdioIterations = quick ? 200 : 1000;
  const warmup = quick ? 50 : 200;
  const directory = mkdtempSync(join(tmpdir(), 'palisade-proxy-bench-'));
  const results = {};
  const call = (client) => (index) => client.callTool({ name: 'echo', arguments: { text: texts[index % texts.length] } });

  const connectPair = async (server) => {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'bench', version: '1.0.0' });
    await client.connect(clientSide);
    return client;
  };

  try {
    // ---------- in-memory ----------
    for (const [label, state] of [
      ['in-memory, guard without state', false],
      ['in-memory, guard with state (SQLite + audit receipts)', { directory }],
    ]) {
      const upstream = createUpstream({});
      const direct = await connectPair(upstream.server);
      const proxyUpstream = await connectPair(createUpstream({}).server);
      const guard = createGuard({ config, state });
      const proxy = await createGuardedProxy({
        guard,
        config,
        upstream: proxyUpstream,
        scope: { tenantId: 'acme', appId: 'desktop' },
        rateLimit: { perSecond: 1e9, burst: 1e9 },
      });
      const [clientSide, proxySide] = InMemoryTransport.createLinkedPair();
      await proxy.connect(proxySide);
      const client = new Client({ name: 'bench', version: '1.0.0' });
      await client.connect(clientSide);
      results[label] = await measurePair(call(direct), call(client), { iterations, warmup });
      await client.close();
      await proxy.close();
      await proxyUpstream.close();
      await direct.close();
      await guard.close();
    }

    // ---------- stdio: the built proxy as a child process ----------
    // Two state set-ups: the default (SQLite store; the audit index is written to it in a
    // synchronous transaction per batch, on the proxy's event loop), and a memory store with the
    // same audit log files, which shows what that index costs.
    const env = getDefaultEnvironment();
    for (const [label, extra] of [
      ['stdio, proxy child process, state: SQLite + audit log', ''],
      ['stdio, proxy child process, state: memory store + audit log', 'store: { kind: memory }\n'],
    ]) {
      const folder = mkdtempSync(join(directory, 'stdio-'));
      const configPath = join(folder, 'palisade.yaml');
      writeFileSync(configPath, `${config}${extra}`);
      const direct = new Client({ name: 'bench', version: '1.0.0' });
      await direct.connect(new StdioClientTransport({ command: process.execPath, args: [fixture], env, stderr: 'ignore' }));
      const proxied = new Client({ name: 'bench', version: '1.0.0' });
      await proxied.connect(
        new StdioClientTransport({
          command: process.execPath,
          args: [
            proxyMain,
            '--config',
            configPath,
            '--tenant',
            'acme',
            '--app',
            'desktop',
            '--rate-limit',
            '1000000/s',
            '--',
            process.execPath,
            fixture,
          ],
          env,
          stderr: 'ignore',
        }),
      );
      results[label] = await measurePair(call(direct), call(proxied), { iterations: stdioIterations, warmup });
      await proxied.close();
      await direct.close();
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }

  console.log(
    `## Guarded MCP proxy: added latency per tools/call (${iterations} in-memory / ${stdioIterations} stdio sequential calls; Node ${process.version})\n`,
  );
  console.log('| path | direct p50 ms | proxied p50 ms | added p50 ms | direct p99 ms | proxied p99 ms | added p99 ms (per pair) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [label, figures] of Object.entries(results)) {
    console.log(
      `| ${label} | ${figures.direct.p50.toFixed(3)} | ${figures.proxied.p50.toFixed(3)} | ${(figures.proxied.p50 - figures.direct.p50).toFixed(3)} | ${figures.direct.p99.toFixed(3)} | ${figures.proxied.p99.toFixed(3)} | ${figures.added.p99.toFixed(3)} |`,
    );
  }
  const worst = Math.max(...Object.values(results).map((figures) => figures.proxied.p50 - figures.direct.p50));
  console.log(`\nTarget: <= ${TARGET_ADDED_P50_MS} ms added at p50 (worst path here: ${worst.toFixed(3)} ms).\n`);
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await run({ quick: process.argv.includes('--quick') });
}
