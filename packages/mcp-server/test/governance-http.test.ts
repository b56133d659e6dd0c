// The governance server over Streamable HTTP on 127.0.0.1 with the SDK's own Client: bearer keys,
// roles, rate limits, and a cross-tenant attempt for every tool.
import { request } from 'node:http';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Decision, Guard } from '@palisade/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PalisadeHttpServer, roleTools, startPalisadeHttpServer, toolNames } from '../src/index.js';
import {
  call,
  connectHttp,
  errorCode,
  injection,
  makeKey,
  makeWorkspace,
  structured,
  textOf,
  type Workspace,
} from './governance-support.js';

const keys = {
  acmeAdmin: makeKey('acme-admin', 'acme', 'admin'),
  acmeApprover: makeKey('acme-approver', 'acme', 'approver'),
  acmeViewer: makeKey('acme-viewer', 'acme', 'viewer'),
  acmeScanner: makeKey('acme-bot', 'acme', 'scanner'),
  acmeMonitor: makeKey('acme-monitor-bot', 'acme', 'scanner', { policies: ['monitor'] }),
  globexScanner: makeKey('globex-bot', 'globex', 'scanner'),
  globexApprover: makeKey('globex-approver', 'globex', 'approver'),
  throttled: makeKey('throttled-bot', 'acme', 'scanner', { rateLimit: { perSecond: 0.001, burst: 2 } }),
};

let workspace: Workspace;
let guard: Guard;
let http: PalisadeHttpServer;
const clients: Client[] = [];

async function connect(key: { key: string }): Promise<Client> {
  const client = await connectHttp(http.url, key.key);
  clients.push(client);
  return client;
}

/** A raw request, for what the SDK client cannot send (no key, a wrong Host header). */
function raw(options: { method?: string; path?: string; headers?: Record<string, string>; body?: string }) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const outgoing = request(
      {
        host: '127.0.0.1',
        port: http.port,
        method: options.method ?? 'POST',
        path: options.path ?? '/mcp',
        headers: options.headers ?? {},
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          body += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

beforeAll(async () => {
  workspace = makeWorkspace();
  guard = workspace.openGuard();
  http = await startPalisadeHttpServer({ guard, keys: Object.values(keys).map((key) => key.entry), port: 0 });
});

afterAll(async () => {
  for (const client of clients) await client.close();
  await http.close();
  await guard.close();
  workspace.cleanup();
});

describe('authentication', () => {
  it('listens on 127.0.0.1 by default', () => {
    expect(http.host).toBe('127.0.0.1');
    expect(http.url.href).toBe(`http://127.0.0.1:${http.port}/mcp`);
  });

  it('answers a request without a key 401 with a Bearer challenge, and the SDK client cannot connect', async () => {
    const response = await raw({ headers: mcpHeaders, body: initialize });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="palisade"');
    expect(JSON.parse(response.body)).toMatchObject({ error: 'invalid_token' });
    await expect(connectHttp(http.url)).rejects.toThrow(/401|invalid_token|Unauthorized/i);
  });

  it('answers a wrong key, and a key in the wrong scheme, 401 invalid_token', async () => {
    for (const authorization of [`Bearer ${keys.acmeAdmin.key}x`, `Basic ${keys.acmeAdmin.key}`, 'Bearer']) {
      const response = await raw({ headers: { ...mcpHeaders, authorization }, body: initialize });
      expect(response.status, authorization).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="palisade", error="invalid_token"/);
    }
    await expect(connectHttp(http.url, 'psk_not-a-real-key')).rejects.toThrow();
  });

  it('refuses a Host header other than the loopback address (DNS rebinding)', async () => {
    const response = await raw({
      headers: { ...mcpHeaders, authorization: `Bearer ${keys.acmeAdmin.key}`, host: `attacker.example:${http.port}` },
      body: initialize,
    });
    expect(response.status).toBe(403);
    const ok = await raw({ headers: { ...mcpHeaders, authorization: `Bearer ${keys.acmeAdmin.key}` }, body: initialize });
    expect(ok.status).toBe(200);
  });

  it('answers GET and DELETE 405 (stateless: no event stream, no session) and other paths 404', async () => {
    expect((await raw({ method: 'GET', headers: { accept: 'text/event-stream' } })).status).toBe(405);
    expect((await raw({ method: 'DELETE' })).status).toBe(405);
    expect((await raw({ path: '/other', headers: mcpHeaders, body: initialize })).status).toBe(404);
  });

  it('takes the tenant from the key, and never echoes the key back', async () => {
    const client = await connect(keys.acmeScanner);
    const result = await call(client, 'scan', { text: 'hello there' });
    expect(result.structuredContent).toMatchObject({ action: 'allow', scope: { tenantId: 'acme' }, effectivePolicyId: 'support' });
    const audit = await call(await connect(keys.acmeAdmin), 'query_audit', { kind: 'mcp.tool_call', descending: true });
    expect(JSON.stringify(audit)).not.toContain(keys.acmeScanner.key);
    const receipts = audit.structuredContent?.receipts as { receipt: Record<string, unknown> }[];
    expect(receipts.find((row) => row.receipt.keyId === 'acme-bot')?.receipt).toMatchObject({ transport: 'http', role: 'scanner' });
  });
});

describe('concurrency', () => {
  it('answers parallel calls of one key and of several keys, each for its own tenant and role', async () => {
    const acme = await connect(keys.acmeScanner);
    const globex = await connect(keys.globexScanner);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, index) => call(index % 2 ? globex : acme, 'scan', { text: `question number ${index}` })),
    );
    results.forEach((result, index) => {
      expect(result.structuredContent).toMatchObject({ action: 'allow', scope: { tenantId: index % 2 ? 'globex' : 'acme' } });
    });
    const viewer = await connect(keys.acmeViewer);
    const [tools, scan] = await Promise.all([viewer.listTools(), call(acme, 'scan', { text: 'again' })]);
    expect(tools.tools.map((tool) => tool.name)).not.toContain('scan');
    expect(scan.isError).toBeFalsy();
  });
});

describe('roles', () => {
  it('shows each role its own tools', async () => {
    for (const [key, role] of [
      [keys.acmeAdmin, 'admin'],
      [keys.acmeApprover, 'approver'],
      [keys.acmeViewer, 'viewer'],
      [keys.acmeScanner, 'scanner'],
    ] as const) {
      const client = await connect(key);
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual([...roleTools[role]]);
    }
    expect(roleTools.admin).toEqual(toolNames);
  });

  it('does not let a scanner approve, nor a viewer scan', async () => {
    const escalated = await call(await connect(keys.acmeScanner), 'check_tool_call', {
      tool: 'email.send',
      arguments: { to: 'eve@x.example' },
    });
    const approvalId = (escalated.structuredContent as unknown as Decision).approvalId as string;
    const byScanner = await call(await connect(keys.acmeScanner), 'approve', { id: approvalId });
    expect(byScanner.isError).toBe(true);
    expect(textOf(byScanner)).toMatch(/Tool approve not found/);
    expect((await guard.getApproval(approvalId, { tenantId: 'acme' }))?.status).toBe('pending');
    const byViewer = await call(await connect(keys.acmeViewer), 'scan', { text: 'hello' });
    expect(textOf(byViewer)).toMatch(/Tool scan not found/);
    const byApprover = await call(await connect(keys.acmeApprover), 'approve', { id: approvalId });
    expect(byApprover.structuredContent).toMatchObject({
      changed: true,
      ticket: { status: 'approved', approvals: [{ approver: 'acme-approver' }] },
    });
  });

  it('lets a key request only the policies it lists', async () => {
    const refused = await call(await connect(keys.acmeScanner), 'scan', { text: injection, policy: 'monitor' });
    expect(errorCode(refused)).toBe('FORBIDDEN');
    expect(textOf(refused)).toBe('This key may not request policy "monitor".');
    const allowed = await call(await connect(keys.acmeMonitor), 'scan', { text: injection, policy: 'monitor' });
    expect(allowed.structuredContent).toMatchObject({ action: 'log', effectivePolicyId: 'monitor', resolutionSource: 'request' });
  });
});

describe('rate limits', () => {
  it('counts a key across HTTP requests and refuses beyond its bucket as a tool result', async () => {
    const first = await connect(keys.throttled);
    expect((await call(first, 'health_check')).isError).toBeFalsy();
    const second = await connect(keys.throttled);
    expect((await call(second, 'health_check')).isError).toBeFalsy();
    const limited = await call(second, 'health_check');
    expect(errorCode(limited)).toBe('RATE_LIMITED');
    expect(textOf(limited)).toMatch(/^Too many calls for "throttled-bot"; retry in \d+ ms\.$/);
    // Other keys have their own buckets.
    expect((await call(await connect(keys.acmeScanner), 'health_check')).isError).toBeFalsy();
  });
});

// In order even under --sequence.shuffle: the last two cases check what the cases above did (the
// refusals they left in the audit log, the tools they called).
describe('a key of tenant acme against tenant globex, for every tool', { shuffle: false }, () => {
  let globexTicket: string;
  let acme: Client;
  let acmeAdmin: Client;
  /** The tools the cases below have called as an acme key: the last case checks none was left out. */
  const covered = new Set<string>();
  const callAs = (client: Client, tool: string, args?: Record<string, unknown>) => {
    if (client === acme || client === acmeAdmin) covered.add(tool);
    return call(client, tool, args);
  };

  beforeAll(async () => {
    const globex = await connect(keys.globexScanner);
    const escalated = await call(globex, 'check_tool_call', { tool: 'email.send', arguments: { to: 'boss@globex.example' } });
    globexTicket = (escalated.structuredContent as unknown as Decision).approvalId as string;
    expect(globexTicket).toMatch(/^apr_/);
    await call(globex, 'scan', { text: 'globex private question' });
    await guard.recordUsage({ model: 'gpt-4o', inputTokens: 50_000, outputTokens: 5_000 }, { tenantId: 'globex' });
    acme = await connect(keys.acmeApprover);
    acmeAdmin = await connect(keys.acmeAdmin);
  });

  /** The answer to naming another tenant, identical whether that tenant exists or not. */
  async function expectTenantNotFound(tool: string, args: Record<string, unknown>) {
    const other = await callAs(acme, tool, { ...args, tenant: 'globex' });
    expect(other.isError, tool).toBe(true);
    expect(errorCode(other), tool).toBe('NOT_FOUND');
    expect(textOf(other), tool).toBe('Tenant "globex" not found.');
    const nobody = await callAs(acme, tool, { ...args, tenant: 'no-such-tenant' });
    expect(textOf(nobody).replace('no-such-tenant', 'globex'), tool).toBe(textOf(other));
  }

  it('scan: another tenant is "not found"', async () => {
    await expectTenantNotFound('scan', { text: 'hello' });
  });

  it('check_tool_call: another tenant is "not found"; redeeming its ticket does not work', async () => {
    await expectTenantNotFound('check_tool_call', { tool: 'email.send', arguments: { to: 'boss@globex.example' } });
    await guard.approve(globexTicket, { tenantId: 'globex', approver: 'globex-approver' });
    const redeemed = await callAs(acme, 'check_tool_call', {
      tool: 'email.send',
      arguments: { to: 'boss@globex.example' },
      approvalId: globexTicket,
    });
    expect(errorCode(redeemed)).toBe('APPROVAL_REQUIRED');
    expect((await guard.getApproval(globexTicket, { tenantId: 'globex' }))?.consumedAt).toBeUndefined();
  });

  it('list_pending: shows only its own tickets; another tenant is "not found"', async () => {
    const escalated = await call(await connect(keys.globexScanner), 'check_tool_call', {
      tool: 'email.send',
      arguments: { to: 'y@globex.example' },
    });
    const pendingGlobex = (escalated.structuredContent as unknown as Decision).approvalId as string;
    const own = await callAs(acme, 'list_pending', {});
    const ids = (structured(own).tickets as { id: string; tenantId: string }[]).map((ticket) => ticket.id);
    expect(ids).not.toContain(pendingGlobex);
    expect(own.structuredContent?.tenantId).toBe('acme');
    await expectTenantNotFound('list_pending', {});
    const globexView = await call(await connect(keys.globexApprover), 'list_pending', {});
    expect((structured(globexView).tickets as { id: string }[]).map((ticket) => ticket.id)).toContain(pendingGlobex);
  });

  it('approve and deny: a ticket of another tenant is "not found", exactly like an unknown id, and stays unchanged', async () => {
    const escalated = await call(await connect(keys.globexScanner), 'check_tool_call', {
      tool: 'email.send',
      arguments: { to: 'z@globex.example' },
    });
    const ticket = (escalated.structuredContent as unknown as Decision).approvalId as string;
    for (const [tool, args] of [
      ['approve', { note: 'sneaky' }],
      ['deny', { reason: 'sneaky' }],
    ] as const) {
      const theirs = await callAs(acme, tool, { id: ticket, ...args });
      expect(errorCode(theirs), tool).toBe('NOT_FOUND');
      expect(textOf(theirs), tool).toContain(`No approval "${ticket}" for tenant "acme"`);
      const unknown = await callAs(acme, tool, { id: 'apr_00000000000000000000000000000000', ...args });
      expect(textOf(unknown).replace('apr_00000000000000000000000000000000', ticket)).toBe(textOf(theirs));
      await expectTenantNotFound(tool, { id: ticket, ...args });
    }
    expect((await guard.getApproval(ticket, { tenantId: 'globex' }))?.status).toBe('pending');
  });

  it('check_budget: another tenant is "not found"', async () => {
    await expectTenantNotFound('check_budget', {});
    const own = await callAs(acme, 'check_budget', {});
    expect(own.structuredContent).toMatchObject({ scope: { tenantId: 'acme' } });
  });

  it('explain_policy: another tenant is "not found"', async () => {
    await expectTenantNotFound('explain_policy', {});
  });

  it('query_audit: another tenant and "*" are "not found"; its own receipts hold nothing of globex', async () => {
    await expectTenantNotFound('query_audit', {});
    const star = await callAs(acme, 'query_audit', { tenant: '*' });
    expect(textOf(star)).toBe('Tenant "*" not found.');
    const own = await callAs(acme, 'query_audit', { limit: 1000 });
    const rows = own.structuredContent?.receipts as { tenantId: string }[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.tenantId === 'acme')).toBe(true);
    expect(JSON.stringify(own)).not.toContain(globexTicket);
  });

  it('verify_audit: a tenant key learns whether the chain holds, not how many receipts it has', async () => {
    const result = await callAs(acme, 'verify_audit');
    expect(result.structuredContent).toEqual({ ok: true });
    const byAdmin = await callAs(acmeAdmin, 'verify_audit');
    expect(byAdmin.structuredContent).toMatchObject({ ok: true, receipts: expect.any(Number), lastHash: expect.any(String) });
  });

  it('health_check and list_plugins: hold no tenant data, and no file paths or errors for a tenant key', async () => {
    const health = await callAs(acme, 'health_check');
    expect(health.structuredContent).toMatchObject({ status: 'ok', store: { status: 'ok' }, audit: { status: 'ok' } });
    expect(health.structuredContent?.audit).not.toHaveProperty('lastSeq');
    const plugins = await callAs(acme, 'list_plugins');
    for (const result of [health, plugins]) {
      const text = JSON.stringify(result);
      expect(text).not.toContain('globex');
      expect(text).not.toContain(workspace.directory);
    }
  });

  it("reload_policies: only an admin reloads (the configuration is every tenant's)", async () => {
    const byApprover = await callAs(acme, 'reload_policies');
    expect(textOf(byApprover)).toMatch(/Tool reload_policies not found/);
    const byAdmin = await callAs(acmeAdmin, 'reload_policies');
    expect(byAdmin.structuredContent).toMatchObject({ ok: true, version: guard.policyVersion });
  });

  it('an admin key may act for another tenant', async () => {
    const result = await callAs(acmeAdmin, 'list_pending', { tenant: 'globex' });
    expect(result.structuredContent?.tenantId).toBe('globex');
  });

  it("records each refused attempt under the caller's own tenant, with the tenant it asked for", async () => {
    const result = await callAs(acmeAdmin, 'query_audit', { kind: 'mcp.tool_call', limit: 1000 });
    const attempts = (structured(result).receipts as { tenantId: string; receipt: Record<string, unknown> }[]).filter(
      (row) => row.receipt.requestedTenant === 'globex' && row.receipt.keyId === 'acme-approver',
    );
    expect(new Set(attempts.map((row) => row.receipt.mcpTool))).toEqual(
      new Set(['scan', 'check_tool_call', 'list_pending', 'approve', 'deny', 'check_budget', 'explain_policy', 'query_audit']),
    );
    expect(attempts.every((row) => row.tenantId === 'acme' && row.receipt.outcome === 'NOT_FOUND')).toBe(true);
  });

  it('every tool has a case above', () => {
    // A guard against adding a tool without a cross-tenant case here.
    expect(toolNames.filter((tool) => !covered.has(tool))).toEqual([]);
  });
});

describe('startPalisadeHttpServer', () => {
  it('refuses to start without a key', async () => {
    await expect(startPalisadeHttpServer({ guard, keys: [], port: 0 })).rejects.toThrow(/never serves without authentication/);
  });
});
