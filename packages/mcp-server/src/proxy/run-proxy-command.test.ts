import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createGuard } from '@palisade/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runProxyCommand } from './run-proxy-command.js';

// These tests run the BUILT proxy as a child process (`pnpm build` first), as an MCP host would.
const packageDirectory = fileURLToPath(new URL('../../', import.meta.url));
const builtMain = join(packageDirectory, 'dist/proxy/proxy-main.js');
const builtBin = join(packageDirectory, 'dist/bin.js');
const fixture = join(packageDirectory, 'test/fixtures/upstream-tools.mjs');
const fixtureConfig = join(packageDirectory, 'test/fixtures/upstream-palisade.yaml');
const { makeSandbox } = (await import(pathToFileURL(fixture).href)) as { makeSandbox(directory: string): string };

const folders: string[] = [];
const clients: Client[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function project() {
  const folder = mkdtempSync(join(tmpdir(), 'palisade-proxy-stdio-'));
  folders.push(folder);
  copyFileSync(fixtureConfig, join(folder, 'palisade.yaml'));
  const log = join(folder, 'side-effects.jsonl');
  writeFileSync(log, '');
  return {
    folder,
    config: join(folder, 'palisade.yaml'),
    sandbox: makeSandbox(join(folder, 'files')),
    log,
    sideEffects: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { tool: string; args: Record<string, unknown> }),
  };
}

/** Starts the built proxy (or the bin) as a child process and connects the SDK's own Client to it over stdio. */
async function spawnProxy(entry: string[], proxyArgs: string[], extraEnv: Record<string, string> = {}) {
  if (!existsSync(entry.at(-1) as string)) throw new Error(`${entry.at(-1)} is missing: run \`pnpm build\` before this suite`);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...entry, ...proxyArgs],
    env: { ...getDefaultEnvironment(), ...extraEnv },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client({ name: 'agent', version: '1.0.0' });
  clients.push(client);
  await client.connect(transport);
  return {
    client,
    stderr: () => stderr,
    call: async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult,
  };
}

const upstreamArgs = (p: ReturnType<typeof project>, extra: string[] = []) => [
  '--config',
  p.config,
  '--tenant',
  'acme',
  '--app',
  'desktop',
  '--escalation-wait',
  '100ms',
  '--env',
  `UPSTREAM_SIDE_EFFECT_LOG=${p.log}`,
  '--env',
  `UPSTREAM_SANDBOX=${p.sandbox}`,
  ...extra,
  '--',
  process.execPath,
  fixture,
];

const textOf = (result: CallToolResult) => result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
const codeOf = (result: CallToolResult) => (result._meta?.['palisade/error'] as { code?: string } | undefined)?.code;

describe('palisade-mcp proxy over stdio (built)', () => {
  it('blocks, holds and forwards calls with side effects only for the forwarded ones, and records each in the audit chain', async () => {
    const p = project();
    const proxy = await spawnProxy([builtMain], upstreamArgs(p));
    expect(codeOf(await proxy.call('delete_file', { path: 'reports/q3.txt' }))).toBe('POLICY_BLOCKED');
    expect(codeOf(await proxy.call('send_email', { to: 'eve@example.com', subject: 'Q3', body: 'hi' }))).toBe('APPROVAL_REQUIRED');
    expect(codeOf(await proxy.call('list_files'))).toBe('APPROVAL_REQUIRED');
    expect(p.sideEffects()).toEqual([]);
    expect(textOf(await proxy.call('delete_file', { path: 'scratch/tmp.txt' }))).toBe('Deleted scratch/tmp.txt');
    expect(p.sideEffects()).toEqual([{ tool: 'delete_file', args: { path: 'scratch/tmp.txt' } }]);
    expect(existsSync(join(p.sandbox, 'reports/q3.txt'))).toBe(true);
    expect((await proxy.client.listTools()).tools.map((tool) => tool.name)).not.toContain('add');
    await proxy.client.close();

    // The proxy has exited and released the audit log: read its state as an operator would.
    const guard = createGuard({ configPath: p.config });
    try {
      const pending = await guard.listApprovals({ tenantId: 'acme', status: 'pending' });
      expect(pending.map((ticket) => ticket.tool).sort()).toEqual(['add', 'list_files', 'send_email']);
      const receipts = (await guard.queryAudit({ tenantId: 'acme' })).filter(
        (receipt) => receipt.kind === 'decision' && receipt.boundary === 'tool_call',
      );
      expect(receipts.map((receipt) => `${receipt.tool}:${receipt.action}`)).toEqual([
        'delete_file:block',
        'send_email:escalate',
        'list_files:allow',
        'list_files:escalate',
        'delete_file:allow',
      ]);
      expect((await guard.verifyAudit()).ok).toBe(true);
    } finally {
      await guard.close();
    }
  });

  it('holds a tool whose definition changed between two runs, with the pin file beside the config', async () => {
    const p = project();
    const first = await spawnProxy([builtMain], upstreamArgs(p));
    expect((await first.call('send_email', { to: 'bob@acme.com', subject: 'a', body: 'b' })).isError).toBeFalsy();
    await first.client.close();
    expect(existsSync(join(p.folder, '.palisade/mcp-pins.json'))).toBe(true);

    const second = await spawnProxy([builtMain], upstreamArgs(p, ['--env', 'UPSTREAM_VARIANT=rugpull']));
    await vi.waitFor(() => expect(second.stderr()).toContain('send_email (changed'));
    expect(codeOf(await second.call('send_email', { to: 'bob@acme.com', subject: 'a', body: 'b' }))).toBe('TOOL_NOT_APPROVED');
    expect(p.sideEffects()).toHaveLength(1);
  });

  it("runs behind the palisade-mcp bin, and hands the upstream none of the proxy's environment but --env and --pass-env", async () => {
    const p = project();
    const proxy = await spawnProxy([builtBin], ['proxy', ...upstreamArgs(p, ['--pass-env', 'SHARED_SETTING'])], {
      CLIENT_ACCESS_TOKEN: 'secret-token-123',
      SHARED_SETTING: 'visible',
    });
    expect(codeOf(await proxy.call('delete_file', { path: 'notes.txt' }))).toBe('POLICY_BLOCKED');
    expect(textOf(await proxy.call('echo', { text: 'hi' }))).toBe('hi');
    const keys = textOf(await proxy.call('report_env')).split(',');
    expect(keys).toEqual(expect.arrayContaining(['UPSTREAM_SANDBOX', 'UPSTREAM_SIDE_EFFECT_LOG', 'SHARED_SETTING', 'PATH']));
    expect(keys).not.toContain('CLIENT_ACCESS_TOKEN');
    expect(p.sideEffects().map((entry) => entry.tool)).toEqual(['echo', 'report_env']);
  });
});

describe('runProxyCommand', () => {
  const io = () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    return { stdin: new PassThrough(), stdout, stderr, out: () => out, err: () => err };
  };

  it('prints its options for --help and exits 0', async () => {
    const streams = io();
    expect(await runProxyCommand(['--help'], streams)).toBe(0);
    expect(streams.out()).toContain('Usage: palisade-mcp proxy [options] -- <command> [args...]');
  });

  it('exits 2 on bad arguments, naming the problem', async () => {
    const streams = io();
    expect(await runProxyCommand(['--uncovered', 'maybe', '--', 'node', 'x.js'], streams)).toBe(2);
    expect(streams.err()).toContain('--uncovered must be one of escalate, block, allow; got "maybe"');
    expect(await runProxyCommand(['--tenant', 'acme'], streams)).toBe(2);
    expect(streams.err()).toContain('Give the upstream server command after `--`');
    expect(await runProxyCommand(['--pass-env', 'NOT_SET_ANYWHERE', '--', 'node'], { ...streams, env: {} })).toBe(2);
  });

  it('exits 1 when the upstream server cannot be started', async () => {
    const streams = io();
    const folder = mkdtempSync(join(tmpdir(), 'palisade-proxy-cwd-'));
    folders.push(folder);
    expect(await runProxyCommand(['--', join(folder, 'no-such-server')], { ...streams, cwd: folder, env: {} })).toBe(1);
    expect(streams.err()).toContain('Cannot start the upstream MCP server');
    expect(streams.stdout.readableLength).toBe(0);
  });

  it('serves until the client closes its side, then exits 0', async () => {
    const streams = io();
    const p = project();
    const running = runProxyCommand(upstreamArgs(p), { ...streams, cwd: p.folder });
    streams.stdin.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } })}\n`,
    );
    await new Promise<void>((resolve) => {
      const check = () => (streams.out().includes('"id":1') ? resolve() : setTimeout(check, 10));
      check();
    });
    streams.stdin.end();
    expect(await running).toBe(0);
    expect(JSON.parse(streams.out().split('\n')[0] as string)).toMatchObject({
      id: 1,
      result: { serverInfo: { name: 'palisade-proxy/fixture-office' } },
    });
  });
});
