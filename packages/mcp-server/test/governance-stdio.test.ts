// The built bin (dist/bin.js, from `pnpm build`) as a child process: the SDK's Client over stdio,
// and `serve --http` with keys from the environment.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Decision } from '@palisade/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolNames } from '../src/index.js';
import { call, connectHttp, errorCode, injection, makeKey, makeWorkspace, textOf, type Workspace } from './governance-support.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

function run(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env } }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

let workspace: Workspace;

beforeAll(() => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`pnpm build\` (the suite runs against the built server)`);
  workspace = makeWorkspace();
});

afterAll(() => workspace.cleanup());

// In order even under --sequence.shuffle: the cases share one server, and the last one closes it.
describe('palisade-mcp serve (stdio)', { shuffle: false }, () => {
  let client: Client;
  let transport: StdioClientTransport;
  let stderr = '';

  beforeAll(async () => {
    transport = new StdioClientTransport({
      command: process.execPath,
      args: [bin, 'serve', '--config', workspace.configPath, '--tenant', 'acme'],
      cwd: workspace.directory,
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await client.connect(transport);
    await client.listTools();
  });

  it('announces itself and offers every tool to the local user', async () => {
    expect(client.getServerVersion()).toMatchObject({ name: '@palisade/mcp-server' });
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual([...toolNames]);
  });

  it('scans for the tenant given on the command line and refuses an injection with the reason', async () => {
    const allowed = await call(client, 'scan', { text: 'When does the shop open?' });
    expect(allowed.structuredContent).toMatchObject({ action: 'allow', scope: { tenantId: 'acme' }, effectivePolicyId: 'support' });
    const blocked = await call(client, 'scan', { text: injection });
    expect(blocked.isError).toBe(true);
    expect(errorCode(blocked)).toBe('POLICY_BLOCKED');
    expect(textOf(blocked)).toMatch(/^Blocked by policy: /);
  });

  it('runs an approval flow on the SQLite state beside the configuration', async () => {
    const escalated = await call(client, 'check_tool_call', { tool: 'email.send', arguments: { to: 'eve@partner.example' } });
    const approvalId = (escalated.structuredContent as unknown as Decision).approvalId as string;
    expect(errorCode(escalated)).toBe('APPROVAL_REQUIRED');
    expect((await call(client, 'approve', { id: approvalId })).structuredContent).toMatchObject({
      ticket: { status: 'approved', approvals: [{ approver: 'stdio' }] },
    });
    const redeemed = await call(client, 'check_tool_call', { tool: 'email.send', arguments: { to: 'eve@partner.example' }, approvalId });
    expect(redeemed.structuredContent).toMatchObject({ action: 'allow' });
  });

  it('writes only MCP to stdout (its log goes to stderr) and exits when the client closes, audit flushed', async () => {
    expect(stderr).toMatch(/palisade-mcp: serving MCP on stdio \(policy \w+, tenant acme\)/);
    const pid = transport.pid;
    expect(pid).toBeTypeOf('number');
    await client.close();
    // The child closed its guard (flushing the audit log) and released the log's lock: a new guard can open it.
    const guard = workspace.openGuard();
    const receipts = await guard.queryAudit({ tenantId: 'acme', kind: 'mcp.tool_call', limit: 100 });
    expect(receipts.map((row) => JSON.parse(row.receipt).transport)).toContain('stdio');
    expect((await guard.verifyAudit()).ok).toBe(true);
    await guard.close();
  });
});

describe('palisade-mcp serve --http (child process)', () => {
  it('serves the keys from PALISADE_MCP_KEYS on 127.0.0.1, answers 401 without one, and stops on SIGTERM', async () => {
    const key = makeKey('ops', 'acme', 'viewer');
    const child = spawn(process.execPath, [bin, 'serve', '--http', '--port', '0', '--config', workspace.configPath], {
      cwd: workspace.directory,
      env: { ...process.env, PALISADE_MCP_KEYS: JSON.stringify({ keys: [key.entry] }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const url = await new Promise<URL>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        const match = /serving MCP on (http:\/\/127\.0\.0\.1:\d+\/mcp) \(1 key,/.exec(log);
        if (match?.[1]) resolve(new URL(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${log}`)));
    });
    const unauthorized = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('www-authenticate')).toBe('Bearer realm="palisade"');
    const client = await connectHttp(url, key.key);
    expect((await client.listTools()).tools.map((tool) => tool.name)).not.toContain('scan');
    expect((await call(client, 'health_check')).structuredContent).toMatchObject({ status: 'ok' });
    await client.close();
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });
});

describe('palisade-mcp command line', () => {
  it('refuses --http without keys (exit 2), and a bad keys file or config with its location (exit 1)', async () => {
    const noKeys = await run(['serve', '--http', '--config', workspace.configPath], { env: { PALISADE_MCP_KEYS: '' } });
    expect(noKeys.code).toBe(2);
    expect(noKeys.stderr).toMatch(/--http needs API keys/);
    const plainKey = await run(['serve', '--http', '--config', workspace.configPath], {
      env: { PALISADE_MCP_KEYS: '{"keys":[{"id":"x","key":"psk_plain","tenant":"acme","role":"admin"}]}' },
    });
    expect(plainKey.code).toBe(1);
    expect(plainKey.stderr).toMatch(/PALISADE_MCP_KEYS at keys\.0\.key: a keys file holds hashes, never keys/);
    const missing = await run(['serve', '--config', `${workspace.directory}/nope.yaml`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.yaml/);
  });

  it('generates a key whose hash hash-key reproduces', async () => {
    const generated = await run(['keygen', '--id', 'bot', '--tenant', 'acme', '--role', 'scanner']);
    expect(generated.code).toBe(0);
    const [key, entryLine] = generated.stdout.trim().split('\n');
    const entry = JSON.parse(entryLine as string);
    expect(entry).toMatchObject({ id: 'bot', tenant: 'acme', role: 'scanner' });
    const hashed = await run(['hash-key', key as string]);
    expect(hashed.stdout.trim()).toBe(entry.hash);
  });
});
