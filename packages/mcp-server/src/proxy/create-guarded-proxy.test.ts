import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  type JSONRPCMessage,
  LATEST_PROTOCOL_VERSION,
  ListToolsRequestSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { createGuard, type Guard, PalisadeError } from '@palisade/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGuardedProxy, type GuardedProxy, type GuardedProxyOptions, type ProxyDecisionEvent } from './create-guarded-proxy.js';

interface Upstream {
  server: Server;
  executed: { tool: string; args: Record<string, unknown> }[];
  rugPull(): Promise<void>;
}
interface Fixture {
  createUpstream(options: { sideEffectLog?: string; sandbox?: string; variant?: 'clean' | 'rugpull' }): Upstream;
  makeSandbox(directory: string): string;
  POISONED_DOCUMENT: string;
  RUG_PULLED_SEND_EMAIL_DESCRIPTION: string;
}
const fixturePath = fileURLToPath(new URL('../../test/fixtures/upstream-tools.mjs', import.meta.url));
const fixture = (await import(pathToFileURL(fixturePath).href)) as Fixture;

const proxyTestConfig = readFileSync(fileURLToPath(new URL('../../test/fixtures/upstream-palisade.yaml', import.meta.url)), 'utf8');

const folders: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

interface Started {
  folder: string;
  guard: Guard;
  proxy: GuardedProxy;
  client: Client;
  upstream: Upstream;
  decisions: ProxyDecisionEvent[];
  /** Calls the upstream executed, from its side-effect log file. */
  sideEffects(): { tool: string; args: Record<string, unknown> }[];
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
}

async function start(
  options: { state?: boolean; variant?: 'clean' | 'rugpull'; folder?: string; proxy?: Partial<GuardedProxyOptions>; config?: string } = {},
): Promise<Started> {
  const folder = options.folder ?? mkdtempSync(join(tmpdir(), 'palisade-proxy-'));
  if (!options.folder) folders.push(folder);
  const sandbox = fixture.makeSandbox(join(folder, `files-${Math.random().toString(36).slice(2)}`));
  const log = join(folder, 'side-effects.jsonl');
  writeFileSync(log, '');
  const upstream = fixture.createUpstream({ sideEffectLog: log, sandbox, variant: options.variant ?? 'clean' });
  const [upstreamSide, serverSide] = InMemoryTransport.createLinkedPair();
  await upstream.server.connect(serverSide);
  const upstreamClient = new Client({ name: 'proxy-upstream', version: '1.0.0' });
  await upstreamClient.connect(upstreamSide);
  const config = options.config ?? proxyTestConfig;
  const guard = createGuard({ config, state: options.state === false ? false : { directory: folder } });
  const decisions: ProxyDecisionEvent[] = [];
  const proxy = await createGuardedProxy({
    guard,
    config,
    upstream: upstreamClient,
    scope: { tenantId: 'acme', appId: 'desktop' },
    pinFile: join(folder, 'pins.json'),
    onEscalate: { waitMs: 50 },
    onDecision: (event) => decisions.push(event),
    ...options.proxy,
  });
  const [clientSide, proxySide] = InMemoryTransport.createLinkedPair();
  await proxy.connect(proxySide);
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await client.connect(clientSide);
  cleanups.push(async () => {
    await client.close();
    await proxy.close();
    await upstreamClient.close();
    await upstream.server.close();
    await guard.close();
  });
  return {
    folder,
    guard,
    proxy,
    client,
    upstream,
    decisions,
    sideEffects: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
    call: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult,
  };
}

const textOf = (result: CallToolResult) =>
  result.content.map((block) => (block.type === 'text' ? block.text : `[${block.type}]`)).join('\n');
const codeOf = (result: CallToolResult) => (result._meta?.['palisade/error'] as { code?: string } | undefined)?.code;
const ticketOf = (result: CallToolResult) => (result._meta?.['palisade/error'] as { approvalId?: string } | undefined)?.approvalId ?? '';

describe('createGuardedProxy: tool calls', () => {
  it('forwards a call a rule allows and returns the upstream result', async () => {
    const { call, sideEffects } = await start();
    const result = await call('delete_file', { path: 'scratch/tmp.txt' });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe('Deleted scratch/tmp.txt');
    expect(sideEffects()).toEqual([{ tool: 'delete_file', args: { path: 'scratch/tmp.txt' } }]);
  });

  it('blocks a call a rule blocks with an isError result, and the upstream never sees it', async () => {
    const { call, sideEffects, upstream } = await start();
    const result = await call('delete_file', { path: 'reports/q3.txt' });
    expect(result.isError).toBe(true);
    expect(codeOf(result)).toBe('POLICY_BLOCKED');
    expect(textOf(result)).toContain('Only files under scratch/ may be deleted');
    expect(textOf(result)).toContain('desktop/deletes outside scratch are blocked');
    expect(sideEffects()).toEqual([]);
    expect(upstream.executed).toEqual([]);
  });

  it('holds an escalated call for approval and, undecided in time, refuses it with its ticket and no side effect', async () => {
    const { call, sideEffects, guard } = await start();
    const result = await call('send_email', { to: 'eve@example.com', subject: 'Q3', body: 'numbers attached' });
    expect(result.isError).toBe(true);
    expect(codeOf(result)).toBe('APPROVAL_REQUIRED');
    const approvalId = ticketOf(result);
    expect(textOf(result)).toContain(approvalId);
    expect(textOf(result)).toContain('External emails need approval');
    expect(sideEffects()).toEqual([]);
    expect(await guard.getApproval(approvalId, { tenantId: 'acme' })).toMatchObject({ status: 'pending', tool: 'send_email' });
  });

  it('lets an escalated call through once an operator approves it while it waits', async () => {
    const { call, sideEffects, guard } = await start({ proxy: { onEscalate: { waitMs: 10_000 } } });
    const off = guard.events.on('approval.requested', (event) => {
      void guard.approve(event.ticket.id, { tenantId: 'acme', approver: 'alice@acme.com' });
    });
    const result = await call('send_email', { to: 'eve@example.com', subject: 'Q3', body: 'numbers attached' });
    off();
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe('Sent "Q3" to eve@example.com');
    expect(sideEffects()).toEqual([{ tool: 'send_email', args: { to: 'eve@example.com', subject: 'Q3', body: 'numbers attached' } }]);
  });

  it('refuses a call whose ticket is denied while it waits', async () => {
    const { call, sideEffects, guard } = await start({ proxy: { onEscalate: { waitMs: 10_000 } } });
    const off = guard.events.on('approval.requested', (event) => {
      void guard.deny(event.ticket.id, { tenantId: 'acme', approver: 'alice@acme.com', reason: 'not to competitors' });
    });
    const result = await call('send_email', { to: 'eve@example.com', subject: 'Q3', body: 'numbers attached' });
    off();
    expect(codeOf(result)).toBe('APPROVAL_DENIED');
    expect(textOf(result)).toContain('Denied by alice@acme.com: not to competitors');
    expect(sideEffects()).toEqual([]);
  });

  it('lets the same call through when it is made again after its ticket was approved', async () => {
    const { call, sideEffects, guard } = await start();
    const args = { to: 'eve@example.com', subject: 'Q3', body: 'numbers attached' };
    const first = await call('send_email', args);
    const approvalId = ticketOf(first);
    await guard.approve(approvalId, { tenantId: 'acme', approver: 'alice@acme.com' });
    expect(sideEffects()).toEqual([]);
    const second = await call('send_email', args);
    expect(second.isError).toBeFalsy();
    expect(sideEffects()).toHaveLength(1);
    // The approval covered one call: a third identical call asks again.
    const third = await call('send_email', args);
    expect(codeOf(third)).toBe('APPROVAL_REQUIRED');
    expect(sideEffects()).toHaveLength(1);
  });

  it('follows onTimeout allow for a call no one decided in time', async () => {
    const { call, sideEffects } = await start({ proxy: { onEscalate: { waitMs: 20, onTimeout: 'allow' } } });
    const result = await call('send_email', { to: 'eve@example.com', subject: 'Q3', body: 'hello' });
    expect(result.isError).toBeFalsy();
    expect(sideEffects()).toHaveLength(1);
  });

  it('forwards the redacted arguments of a call the policy redacts', async () => {
    const { call, sideEffects } = await start();
    const result = await call('send_email', { to: 'bob@acme.com', subject: 'card', body: 'Please charge 4111 1111 1111 1111 today.' });
    expect(result.isError).toBeFalsy();
    const [sent] = sideEffects();
    expect(sent?.args.to).toBe('bob@acme.com');
    expect(sent?.args.body).not.toContain('4111 1111 1111 1111');
    expect(sent?.args.body).toContain('[REDACTED');
  });

  it('refuses arguments that do not match the tool input schema before the policy runs', async () => {
    const { call, sideEffects, decisions } = await start();
    const missing = await call('delete_file', {});
    expect(codeOf(missing)).toBe('INVALID_INPUT');
    expect(textOf(missing)).toContain("must have required property 'path'");
    const extra = await call('read_document', { id: 'payroll' });
    expect(codeOf(extra)).toBe('INVALID_INPUT');
    expect(sideEffects()).toEqual([]);
    const calls = decisions.filter((event) => event.stage === 'tool_call');
    expect(calls.map((event) => event.decision.decidedBy.rule)).toEqual(['invalid_arguments', 'invalid_arguments']);
  });

  it('refuses a tool the upstream did not list without asking it', async () => {
    const { call, sideEffects } = await start();
    const result = await call('format_disk', {});
    expect(codeOf(result)).toBe('NOT_FOUND');
    expect(sideEffects()).toEqual([]);
  });

  it('rate-limits tool calls per session with a token bucket', async () => {
    let time = 1_000_000;
    const { call, sideEffects } = await start({ proxy: { rateLimit: { perSecond: 1, burst: 2 }, now: () => time } });
    expect((await call('echo', { text: 'one' })).isError).toBeFalsy();
    expect((await call('echo', { text: 'two' })).isError).toBeFalsy();
    const third = await call('echo', { text: 'three' });
    expect(codeOf(third)).toBe('RATE_LIMITED');
    expect(third._meta?.['palisade/error']).toMatchObject({ retryAfterMs: 1000 });
    expect(sideEffects().map((entry) => entry.args.text)).toEqual(['one', 'two']);
    time += 1000;
    expect((await call('echo', { text: 'four' })).isError).toBeFalsy();
  });
});

describe('createGuardedProxy: tools no rule covers', () => {
  it('escalates a call to an uncovered tool by default, whatever its readOnlyHint says', async () => {
    const { call, sideEffects, guard } = await start();
    const result = await call('list_files');
    expect(codeOf(result)).toBe('APPROVAL_REQUIRED');
    expect(textOf(result)).toContain('No policy rule covers tool list_files');
    expect(sideEffects()).toEqual([]);
    const tickets = await guard.listApprovals({ tenantId: 'acme', status: 'pending' });
    expect(tickets.filter((ticket) => ticket.tool === 'list_files')).toHaveLength(1);
  });

  it('lets an uncovered call through once its ticket is approved, and only once', async () => {
    const { call, sideEffects, guard } = await start();
    const first = await call('list_files');
    const approvalId = ticketOf(first);
    await guard.approve(approvalId, { tenantId: 'acme', approver: 'alice@acme.com' });
    expect((await call('list_files')).isError).toBeFalsy();
    expect(sideEffects()).toEqual([{ tool: 'list_files', args: {} }]);
    expect(codeOf(await call('list_files'))).toBe('APPROVAL_REQUIRED');
  });

  it('treats a rule that names the tool as coverage even when its condition does not hold', async () => {
    const { call, sideEffects } = await start();
    // The escalation rule for send_email only applies outside acme.com; internal mail is covered.
    expect((await call('send_email', { to: 'bob@acme.com', subject: 'hi', body: 'lunch?' })).isError).toBeFalsy();
    expect(sideEffects()).toHaveLength(1);
  });

  it('blocks uncovered tools when configured to, and allows them when configured to', async () => {
    const blocked = await start({ proxy: { uncoveredTools: 'block' } });
    expect(codeOf(await blocked.call('list_files'))).toBe('POLICY_BLOCKED');
    expect(blocked.sideEffects()).toEqual([]);
    const allowed = await start({ proxy: { uncoveredTools: 'allow' } });
    expect((await allowed.call('list_files')).isError).toBeFalsy();
    expect(allowed.sideEffects()).toHaveLength(1);
  });

  it('refuses an uncovered call when the guard keeps no approval queue', async () => {
    const { call, sideEffects } = await start({ state: false });
    const result = await call('list_files');
    expect(codeOf(result)).toBe('APPROVAL_REQUIRED');
    expect(textOf(result)).toContain('no approval queue');
    expect(sideEffects()).toEqual([]);
  });

  it('needs the configuration the guard was created from to tell which tools are covered', async () => {
    const guard = createGuard({ config: proxyTestConfig });
    cleanups.push(() => guard.close());
    const upstream = fixture.createUpstream({});
    const [upstreamSide, serverSide] = InMemoryTransport.createLinkedPair();
    await upstream.server.connect(serverSide);
    const client = new Client({ name: 'proxy-upstream', version: '1.0.0' });
    await client.connect(upstreamSide);
    cleanups.push(() => client.close());
    const attempt = createGuardedProxy({ guard, upstream: client });
    await expect(attempt).rejects.toSatisfy((error) => PalisadeError.isInstance(error) && error.code === 'INVALID_OPTIONS');
    await expect(attempt).rejects.toThrow(/same `configPath` or `config`/);
  });
});

describe('createGuardedProxy: tool results', () => {
  it('withholds a result carrying an indirect prompt injection (the tool did run)', async () => {
    const { call, sideEffects } = await start();
    const result = await call('read_document', { id: 'q3-report' });
    expect(result.isError).toBe(true);
    expect(codeOf(result)).toBe('POLICY_BLOCKED');
    expect(textOf(result)).toContain('withheld the result of read_document');
    expect(textOf(result)).not.toContain('ignore all previous instructions');
    expect(sideEffects()).toEqual([{ tool: 'read_document', args: { id: 'q3-report' } }]);
  });

  it('passes a clean result through unchanged', async () => {
    const { call } = await start();
    expect(textOf(await call('read_document', { id: 'memo' }))).toBe('Team lunch moves to Thursday.');
  });

  it('redacts personal data in both the text content and structuredContent', async () => {
    const { client, call } = await start();
    await client.listTools();
    const result = await call('lookup_customer', { customerId: 'c-42' });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).not.toContain('dana.whitfield@example.com');
    expect(JSON.stringify(result.structuredContent)).not.toContain('dana.whitfield@example.com');
    expect(result.structuredContent).toMatchObject({ customerId: 'c-42', email: expect.stringContaining('[REDACTED') });
  });

  it('holds a result the policy escalates until an operator approves it', async () => {
    const config = `
policies:
  review:
    extends: balanced
    rules:
      - { name: echo calls are fine, priority: 50, action: allow, match: { boundary: tool_call, tool: echo } }
      - { name: echo output is reviewed, priority: 50, action: escalate, reason: Echo output is reviewed, match: { boundary: tool_result, tool: echo } }
tenants:
  acme: { default_policy: review, apps: { desktop: {} } }
`;
    const unattended = await start({ config });
    const held = await unattended.call('echo', { text: 'quarterly numbers' });
    expect(codeOf(held)).toBe('APPROVAL_REQUIRED');
    expect(textOf(held)).not.toContain('quarterly numbers');
    expect(unattended.sideEffects()).toHaveLength(1);

    const attended = await start({ config, proxy: { onEscalate: { waitMs: 10_000 } } });
    const off = attended.guard.events.on('approval.requested', (event) => {
      void attended.guard.approve(event.ticket.id, { tenantId: 'acme', approver: 'alice@acme.com' });
    });
    const released = await attended.call('echo', { text: 'quarterly numbers' });
    off();
    expect(textOf(released)).toBe('quarterly numbers');
  });

  it('refuses a result whose structuredContent breaks the tool output schema', async () => {
    const { call } = await start();
    const result = await call('count_files');
    expect(codeOf(result)).toBe('INVALID_OUTPUT');
    expect(textOf(result)).toContain('must be number');
  });
});

describe('createGuardedProxy: tool definitions', () => {
  it('lists pinned tools without their untrusted annotations, and hides a poisoned one', async () => {
    const { client, proxy } = await start();
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(
      ['count_files', 'delete_file', 'echo', 'list_files', 'lookup_customer', 'read_document', 'report_env', 'send_email'].sort(),
    );
    expect(tools.every((tool) => tool.annotations === undefined)).toBe(true);
    expect(proxy.tools().find((tool) => tool.name === 'add')).toMatchObject({ status: 'held', reason: 'poisoned' });
  });

  it('forwards annotations only when told to', async () => {
    const { client } = await start({ proxy: { annotations: 'forward' } });
    const { tools } = await client.listTools();
    expect(tools.find((tool) => tool.name === 'list_files')?.annotations).toEqual({ readOnlyHint: true, openWorldHint: false });
  });

  it('blocks a call to a poisoned tool, opens a ticket, and pins the tool once the ticket is approved', async () => {
    const { call, sideEffects, guard, proxy, client } = await start();
    const held = proxy.tools().find((tool) => tool.name === 'add');
    expect(held?.detections.map((detection) => detection.ruleId)).toEqual(expect.arrayContaining(['tool-901', 'tool-902', 'tool-903']));
    const refused = await call('add', { a: 1, b: 2 });
    expect(codeOf(refused)).toBe('TOOL_NOT_APPROVED');
    expect(sideEffects()).toEqual([]);
    const ticket = await guard.getApproval(held?.approvalId ?? '', { tenantId: 'acme' });
    expect(ticket).toMatchObject({ status: 'pending', tool: 'add', rule: 'mcp-proxy/tool_poisoned' });
    await guard.approve(ticket?.id ?? '', { tenantId: 'acme', approver: 'alice@acme.com' });
    expect(textOf(await call('add', { a: 1, b: 2 }))).toBe('3');
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('add');
  });

  it('blocks a tool whose description changes after approval (rug pull) and tells the client the list changed', async () => {
    const { call, sideEffects, upstream, client, proxy, guard, folder } = await start();
    expect((await call('send_email', { to: 'bob@acme.com', subject: 'a', body: 'b' })).isError).toBeFalsy();
    const changed = new Promise<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
    await upstream.rugPull();
    await changed;
    expect(proxy.tools().find((tool) => tool.name === 'send_email')).toMatchObject({ status: 'held', reason: 'changed' });
    expect((await client.listTools()).tools.map((tool) => tool.name)).not.toContain('send_email');
    const refused = await call('send_email', { to: 'bob@acme.com', subject: 'a', body: 'b' });
    expect(codeOf(refused)).toBe('TOOL_NOT_APPROVED');
    expect(sideEffects()).toHaveLength(1);
    // Re-approval through the normal approve flow pins the new definition.
    const approvalId = proxy.tools().find((tool) => tool.name === 'send_email')?.approvalId ?? '';
    const relisted = new Promise<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
    await guard.approve(approvalId, { tenantId: 'acme', approver: 'alice@acme.com' });
    await relisted;
    const listed = (await client.listTools()).tools.find((tool) => tool.name === 'send_email');
    expect(listed?.description).toBe(fixture.RUG_PULLED_SEND_EMAIL_DESCRIPTION);
    expect((await call('send_email', { to: 'bob@acme.com', subject: 'a', body: 'b' })).isError).toBeFalsy();
    expect(JSON.parse(readFileSync(join(folder, 'pins.json'), 'utf8')).servers['fixture-office'].send_email).toMatchObject({
      via: 'approval',
      approvalId,
    });
  });

  it('remembers pins across restarts: a server that changed between runs is held at its first listing', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'palisade-proxy-'));
    folders.push(folder);
    await start({ folder });
    const pins = JSON.parse(readFileSync(join(folder, 'pins.json'), 'utf8'));
    expect(Object.keys(pins.servers['fixture-office'])).toContain('send_email');
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();

    const next = await start({ folder, variant: 'rugpull' });
    expect(next.proxy.tools().find((tool) => tool.name === 'send_email')).toMatchObject({ status: 'held', reason: 'changed' });
    expect(codeOf(await next.call('send_email', { to: 'bob@acme.com', subject: 'a', body: 'b' }))).toBe('TOOL_NOT_APPROVED');
    expect(next.sideEffects()).toEqual([]);
  });
});

describe('createGuardedProxy: audit and modes', () => {
  it('leaves a receipt in the audit chain for every tool call, refused or not', async () => {
    const { call, guard } = await start();
    await call('delete_file', { path: 'scratch/tmp.txt' });
    await call('delete_file', { path: 'reports/q3.txt' });
    await call('delete_file', {});
    await call('format_disk', {});
    await guard.flushAudit();
    const receipts = await guard.queryAudit({ tenantId: 'acme' });
    const calls = receipts.filter((receipt) => receipt.kind === 'decision' && receipt.boundary === 'tool_call');
    expect(calls.map((receipt) => [receipt.tool, receipt.action])).toEqual([
      ['delete_file', 'allow'],
      ['delete_file', 'block'],
      ['delete_file', 'block'],
      ['format_disk', 'block'],
    ]);
    expect(calls.map((receipt) => receipt.rule).slice(2)).toEqual(['mcp-proxy/invalid_arguments', 'mcp-proxy/unknown_tool']);
    expect((await guard.verifyAudit()).ok).toBe(true);
  });

  it('in shadow mode records what it would refuse and changes nothing', async () => {
    const { call, sideEffects, decisions, client } = await start({ proxy: { mode: 'shadow' } });
    expect((await call('delete_file', { path: 'reports/q3.txt' })).isError).toBeFalsy();
    expect(textOf(await call('read_document', { id: 'q3-report' }))).toBe(fixture.POISONED_DOCUMENT);
    expect(sideEffects().map((entry) => entry.tool)).toEqual(['delete_file', 'read_document']);
    expect(decisions.filter((event) => !event.enforced).map((event) => [event.stage, event.decision.action])).toEqual(
      expect.arrayContaining([
        ['tool_definition', 'block'],
        ['tool_call', 'block'],
        ['tool_result', 'block'],
      ]),
    );
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('add');
  });

  it('keeps a throwing onDecision hook from changing a decision', async () => {
    const { call, sideEffects } = await start({
      proxy: {
        onDecision: () => {
          throw new Error('telemetry down');
        },
      },
    });
    expect(codeOf(await call('delete_file', { path: 'reports/q3.txt' }))).toBe('POLICY_BLOCKED');
    expect((await call('delete_file', { path: 'scratch/tmp.txt' })).isError).toBeFalsy();
    expect(sideEffects()).toHaveLength(1);
  });

  it('runs concurrent blocked and allowed calls without a single blocked side effect', async () => {
    const { call, sideEffects } = await start({ proxy: { rateLimit: false } });
    const calls = Array.from({ length: 20 }, (_, index) =>
      index % 2 === 0 ? call('delete_file', { path: `reports/${index}.txt` }) : call('echo', { text: String(index) }),
    );
    const results = await Promise.all(calls);
    expect(results.filter((result) => codeOf(result) === 'POLICY_BLOCKED')).toHaveLength(10);
    expect(sideEffects().every((entry) => entry.tool === 'echo')).toBe(true);
    expect(sideEffects()).toHaveLength(10);
  });
});

describe('createGuardedProxy: what reaches the upstream', () => {
  it("forwards only the tool name and arguments: never the client's token, request metadata or session", async () => {
    const seen: { params: unknown; authInfo: unknown; sessionId: unknown }[] = [];
    const upstream = new Server({ name: 'recorder', version: '1.0.0' }, { capabilities: { tools: {} } });
    upstream.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [{ name: 'echo', description: 'Echo.', inputSchema: { type: 'object' } }],
    }));
    upstream.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      seen.push({ params: request.params, authInfo: extra.authInfo, sessionId: extra.sessionId });
      return { content: [{ type: 'text', text: 'ok' }] };
    });
    const [upstreamSide, serverSide] = InMemoryTransport.createLinkedPair();
    await upstream.connect(serverSide);
    const upstreamClient = new Client({ name: 'proxy-upstream', version: '1.0.0' });
    await upstreamClient.connect(upstreamSide);
    const guard = createGuard({ config: proxyTestConfig });
    const decisions: ProxyDecisionEvent[] = [];
    const proxy = await createGuardedProxy({
      guard,
      config: proxyTestConfig,
      upstream: upstreamClient,
      scope: { tenantId: 'acme', appId: 'desktop' },
      uncoveredTools: 'allow',
      onDecision: (event) => decisions.push(event),
    });
    cleanups.push(async () => {
      await proxy.close();
      await upstreamClient.close();
      await upstream.close();
      await guard.close();
    });

    // A client that authenticated with a bearer token (as an HTTP transport would pass it on).
    const [clientSide, proxySide] = InMemoryTransport.createLinkedPair();
    await proxy.connect(proxySide);
    const responses: JSONRPCMessage[] = [];
    clientSide.onmessage = (message) => responses.push(message);
    await clientSide.start();
    const authInfo = {
      token: 'client-bearer-token',
      clientId: 'agent-42',
      scopes: ['tools:call'],
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    };
    const initialize = { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } };
    await clientSide.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: initialize }, { authInfo });
    await clientSide.send({ jsonrpc: '2.0', method: 'notifications/initialized' }, { authInfo });
    await clientSide.send(
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: {
          name: 'echo',
          arguments: { text: 'hi' },
          _meta: { progressToken: 7, 'example.com/authorization': 'Bearer client-bearer-token' },
        },
      },
      { authInfo },
    );
    await vi.waitFor(() => expect(responses.some((message) => 'id' in message && message.id === 2)).toBe(true));
    expect(seen).toEqual([{ params: { name: 'echo', arguments: { text: 'hi' } }, authInfo: undefined, sessionId: undefined }]);
    expect(JSON.stringify(seen)).not.toContain('client-bearer-token');
    // The caller's identity does reach the policy: as the scope's user.
    expect(decisions.find((event) => event.stage === 'tool_call')?.decision.scope).toMatchObject({ tenantId: 'acme', userId: 'agent-42' });
  });

  it('answers with an error result once the upstream server is gone, and says it closed', async () => {
    const { call, proxy, upstream } = await start();
    await upstream.server.close();
    await proxy.upstreamClosed;
    const result = await call('echo', { text: 'anyone?' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('The upstream server failed');
  });
});
