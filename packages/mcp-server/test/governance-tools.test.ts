// The governance tools through the SDK's own Client over an in-memory transport, against a guard
// with real state (SQLite file and audit log in a temporary folder).
import { writeFileSync } from 'node:fs';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createGuard, createMemoryStore, type Decision, type Guard } from '@palisade/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimiter, localCaller, roleTools, toolNames } from '../src/index.js';
import {
  call,
  connectInMemory,
  errorCode,
  injection,
  makeWorkspace,
  sharedScanner,
  structured,
  testConfig,
  textOf,
  type Workspace,
} from './governance-support.js';

let workspace: Workspace;
let guard: Guard;
let admin: Client;

beforeAll(async () => {
  workspace = makeWorkspace();
  guard = workspace.openGuard();
  admin = await connectInMemory({ guard, caller: localCaller({ tenant: 'acme' }), rateLimiter: false });
});

afterAll(async () => {
  await admin.close();
  await guard.close();
  workspace.cleanup();
});

describe('tools/list', () => {
  it('offers every tool with input and output schemas, a title and read-only or destructive annotations', async () => {
    const { tools } = await admin.listTools();
    expect(tools.map((tool) => tool.name)).toEqual([...toolNames]);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
      expect(tool.title).toBeTruthy();
      expect(tool.annotations?.title).toBe(tool.title);
    }
    const annotations = Object.fromEntries(tools.map((tool) => [tool.name, tool.annotations]));
    for (const name of ['list_pending', 'check_budget', 'health_check', 'list_plugins', 'explain_policy', 'query_audit', 'verify_audit']) {
      expect(annotations[name]?.readOnlyHint, name).toBe(true);
    }
    for (const name of ['approve', 'deny', 'reload_policies']) {
      expect(annotations[name]).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    }
    expect(annotations.scan).toMatchObject({ readOnlyHint: false, destructiveHint: false });
  });

  it('shows a scanner only the tools of its role', async () => {
    const client = await connectInMemory({ guard, caller: { id: 'bot', role: 'scanner', tenant: 'acme', transport: 'memory' } });
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual([...roleTools.scanner]);
    // A tool outside the role does not exist for it (the SDK answers like for any unknown tool).
    const result = await call(client, 'approve', { id: 'apr_x' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/Tool approve not found/);
    await client.close();
  });
});

describe('scan', () => {
  it('allows a benign prompt and returns the full decision as structured content and JSON text', async () => {
    const result = await call(admin, 'scan', { text: 'What are your opening hours?', app: 'chatbot' });
    expect(result.isError).toBeFalsy();
    const decision = result.structuredContent as unknown as Decision;
    expect(decision).toMatchObject({
      action: 'allow',
      boundary: 'input',
      scope: { tenantId: 'acme', appId: 'chatbot' },
      effectivePolicyId: 'support',
      resolutionSource: 'tenant',
      policyVersion: guard.policyVersion,
    });
    expect(JSON.parse(textOf(result))).toEqual(result.structuredContent);
  });

  it('refuses a prompt injection with isError, the reason as text and the decision still attached', async () => {
    const result = await call(admin, 'scan', { text: injection });
    expect(result.isError).toBe(true);
    expect(errorCode(result)).toBe('POLICY_BLOCKED');
    expect(textOf(result)).toMatch(/^Blocked by policy: High-severity detection/);
    const decision = result.structuredContent as unknown as Decision;
    expect(decision.action).toBe('block');
    expect(decision.detections.map((detection) => detection.ruleId)).toContain('pi-001');
    expect(textOf(result)).toContain(decision.eventId);
  });

  it('redacts personal data in model output and returns the redacted text (not an error)', async () => {
    const result = await call(admin, 'scan', { text: 'Write to jane.doe@example.com today', boundary: 'output' });
    expect(result.isError).toBeFalsy();
    const decision = result.structuredContent as unknown as Decision;
    expect(decision).toMatchObject({ action: 'redact', boundary: 'output', decidedBy: { rule: 'redact personal data in answers' } });
    expect(decision.redactedText).toMatch(/^Write to \S+ today$/);
    expect(decision.redactedText).not.toContain('jane.doe@example.com');
  });

  it('decides a tool result as indirect injection, naming the tool', async () => {
    const result = await call(admin, 'scan', { text: injection, boundary: 'tool_result', tool: 'web.fetch' });
    expect(result.structuredContent).toMatchObject({ boundary: 'tool_result', tool: 'web.fetch', action: 'block' });
  });

  it('applies a request policy override and reports the resolution source', async () => {
    const result = await call(admin, 'scan', { text: injection, policy: 'monitor' });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ action: 'log', effectivePolicyId: 'monitor', resolutionSource: 'request' });
  });

  it('blocks an unknown tenant named by an admin (the policy decides, not the server)', async () => {
    const result = await call(admin, 'scan', { text: 'hello', tenant: 'initech' });
    expect(result.structuredContent).toMatchObject({ action: 'block', flags: ['tenant_not_found'] });
  });

  it('answers invalid arguments with a validation error result, not a protocol error', async () => {
    const result = await call(admin, 'scan', { text: 42 });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/Input validation error/);
  });

  it('in shadow mode returns a block as a normal result and still reports it to onDecision', async () => {
    const seen: string[] = [];
    const client = await connectInMemory({
      guard,
      mode: 'shadow',
      onDecision: (decision, info) => {
        seen.push(`${info.tool}:${decision.action}`);
        throw new Error('a failing hook changes nothing');
      },
    });
    const result = await call(client, 'scan', { text: injection, tenant: 'acme' });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ action: 'block' });
    expect(seen).toEqual(['scan:block']);
    await client.close();
  });
});

describe('check_tool_call and the approval flow', () => {
  it('blocks a platform-forbidden tool whatever the tenant', async () => {
    const result = await call(admin, 'check_tool_call', { tool: 'shell.execute', arguments: { command: 'ls' } });
    expect(errorCode(result)).toBe('POLICY_BLOCKED');
    expect(result.structuredContent).toMatchObject({ action: 'block', decidedBy: { layer: 'platform', rule: 'no shell' } });
  });

  it('lets an internal email through (flagged for the address, not refused)', async () => {
    const result = await call(admin, 'check_tool_call', { tool: 'email.send', arguments: { to: 'bob@acme.com' } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      action: 'flag',
      tool: 'email.send',
      detections: [{ ruleId: 'pii-001', path: '$.to' }],
    });
  });

  it('escalates an external email, lists it, and allows the very same call once after approval', async () => {
    const call1 = { tool: 'email.send', arguments: { to: 'eve@partner.example', body: 'Quote attached' } };
    const escalated = await call(admin, 'check_tool_call', call1);
    expect(errorCode(escalated)).toBe('APPROVAL_REQUIRED');
    const approvalId = (escalated.structuredContent as unknown as Decision).approvalId as string;
    expect(approvalId).toMatch(/^apr_/);
    expect(textOf(escalated)).toContain(approvalId);

    const pending = await call(admin, 'list_pending', {});
    const tickets = pending.structuredContent?.tickets as { id: string; tool: string; sealedEvent?: unknown; argsHash?: unknown }[];
    const ticket = tickets.find((item) => item.id === approvalId);
    expect(ticket).toMatchObject({ tool: 'email.send', status: 'pending', tenantId: 'acme' });
    expect(ticket).not.toHaveProperty('sealedEvent');
    expect(ticket).not.toHaveProperty('argsHash');

    const approved = await call(admin, 'approve', { id: approvalId, note: 'known partner' });
    expect(approved.isError).toBeFalsy();
    expect(approved.structuredContent).toMatchObject({
      changed: true,
      ticket: { status: 'approved', approvals: [{ approver: 'local', note: 'known partner' }] },
    });

    const again = await call(admin, 'approve', { id: approvalId });
    expect(again.structuredContent).toMatchObject({ changed: false });

    const redeemed = await call(admin, 'check_tool_call', { ...call1, approvalId });
    expect(redeemed.isError).toBeFalsy();
    expect(redeemed.structuredContent).toMatchObject({ action: 'allow', flags: ['approved'] });
    const once = await call(admin, 'check_tool_call', { ...call1, approvalId });
    expect(errorCode(once)).toBe('APPROVAL_REQUIRED');

    const other = { ...call1, arguments: { to: 'mallory@partner.example', body: 'Quote attached' } };
    const changed = await call(admin, 'check_tool_call', { ...other, approvalId });
    expect(errorCode(changed)).toBe('APPROVAL_REQUIRED');
  });

  it('denies a ticket with a reason; an unknown id is "not found"', async () => {
    const escalated = await call(admin, 'check_tool_call', { tool: 'email.send', arguments: { to: 'x@elsewhere.example' } });
    const approvalId = (escalated.structuredContent as unknown as Decision).approvalId as string;
    const denied = await call(admin, 'deny', { id: approvalId, reason: 'not a customer' });
    expect(denied.structuredContent).toMatchObject({
      changed: true,
      ticket: { status: 'denied', resolution: { by: 'local', reason: 'not a customer' } },
    });
    const missing = await call(admin, 'deny', { id: 'apr_doesnotexist', reason: 'x' });
    expect(missing.isError).toBe(true);
    expect(errorCode(missing)).toBe('NOT_FOUND');
    expect(textOf(missing)).toMatch(/No approval "apr_doesnotexist" for tenant "acme"/);
  });
});

describe('approval against the policy serving now', () => {
  it('answers APPROVAL_DENIED when the policy that serves at approval time blocks the call', async () => {
    const other = makeWorkspace();
    const strictGuard = other.openGuard();
    const client = await connectInMemory({ guard: strictGuard, caller: localCaller({ tenant: 'acme' }), rateLimiter: false });
    const escalated = await call(client, 'check_tool_call', { tool: 'email.send', arguments: { to: 'eve@partner.example' } });
    const approvalId = (escalated.structuredContent as unknown as Decision).approvalId as string;
    writeFileSync(
      other.configPath,
      testConfig.replace(
        'platform:\n  rules:\n',
        'platform:\n  rules:\n    - { name: no email, priority: 999, action: block, reason: Email is off, match: { boundary: tool_call, tool: "email.*" } }\n',
      ),
    );
    expect((await call(client, 'reload_policies')).structuredContent).toMatchObject({ ok: true });
    const approved = await call(client, 'approve', { id: approvalId });
    expect(approved.isError).toBe(true);
    expect(errorCode(approved)).toBe('APPROVAL_DENIED');
    expect(textOf(approved)).toMatch(/^Not approved: The policy serving now blocks this call \(platform\/no email: Email is off\)/);
    expect(approved.structuredContent).toMatchObject({
      changed: true,
      ticket: { status: 'denied' },
      reevaluation: { action: 'block', rule: 'platform/no email' },
    });
    await client.close();
    await strictGuard.close();
    other.cleanup();
  });
});

describe('unexpected errors', () => {
  it('tell a tenant key only which tool failed, an admin the message, and onError everything', async () => {
    const broken = Object.assign(Object.create(guard) as Guard, {
      explain: () => {
        throw new Error('cannot read /srv/secret/palisade.yaml');
      },
    });
    const errors: string[] = [];
    const onError = (error: unknown) => errors.push((error as Error).message);
    const viewer = await connectInMemory({
      guard: broken,
      caller: { id: 'v', role: 'viewer', tenant: 'acme', transport: 'memory' },
      onError,
    });
    const hidden = await call(viewer, 'explain_policy', {});
    expect(errorCode(hidden)).toBe('INTERNAL');
    expect(textOf(hidden)).toBe('Palisade could not complete explain_policy');
    const adminClient = await connectInMemory({ guard: broken, onError });
    expect(textOf(await call(adminClient, 'explain_policy', {}))).toBe(
      'Palisade could not complete explain_policy: cannot read /srv/secret/palisade.yaml',
    );
    expect(errors).toEqual(['cannot read /srv/secret/palisade.yaml', 'cannot read /srv/secret/palisade.yaml']);
    await viewer.close();
    await adminClient.close();
  });
});

describe('check_budget', () => {
  it('reports limit, spent, remaining and reset of the binding limit and every limit', async () => {
    await guard.recordUsage({ model: 'gpt-4o', inputTokens: 100_000, outputTokens: 10_000 }, { tenantId: 'acme' });
    const result = await call(admin, 'check_budget', {});
    const data = result.structuredContent as Record<string, unknown>;
    expect(data).toMatchObject({ scope: { tenantId: 'acme' }, action: 'allow', limitUsd: 10, period: 'month' });
    expect(data.spentUsd as number).toBeGreaterThan(0);
    expect(data.remainingUsd).toBeCloseTo(10 - (data.spentUsd as number), 6);
    expect(Date.parse(data.resetsAt as string)).toBeGreaterThan(Date.now());
    expect(data.limits).toEqual([expect.objectContaining({ scope: 'tenant', period: 'month', limitUsd: 10, exceeded: false })]);
  });

  it("reads another tenant's limits for an admin naming it", async () => {
    const result = await call(admin, 'check_budget', { tenant: 'globex' });
    expect(result.structuredContent).toMatchObject({ scope: { tenantId: 'globex' }, limitUsd: 3, spentUsd: 0, period: 'day' });
  });
});

describe('health_check, list_plugins, explain_policy', () => {
  it('reports status, uptime, versions, store and audit', async () => {
    const result = await call(admin, 'health_check');
    expect(result.structuredContent).toMatchObject({
      status: 'ok',
      server: { name: '@palisade/mcp-server' },
      policyVersion: guard.policyVersion,
      store: { status: 'ok', kind: 'sqlite' },
      audit: { status: 'ok' },
    });
    expect(result.structuredContent?.uptimeSeconds).toBeGreaterThanOrEqual(0);
  });

  it('lists the rule packs with counts per family, the alert channels without secrets, and the adapters', async () => {
    const result = await call(admin, 'list_plugins');
    const data = result.structuredContent as {
      rulePacks: { pack: string; rules: number; families: Record<string, number> }[];
      ruleCounts: Record<string, number>;
      totalRules: number;
      alertChannels: unknown[];
      adapters: { name: string }[];
    };
    expect(data.rulePacks.map((pack) => pack.pack)).toContain('pi.yaml');
    expect(data.rulePacks.find((pack) => pack.pack === 'pi.yaml')?.families.PI).toBeGreaterThan(10);
    expect(data.rulePacks.reduce((sum, pack) => sum + pack.rules, 0)).toBe(data.totalRules);
    expect(data.ruleCounts.PI).toBe(guard.scanner.ruleCounts.PI);
    expect(data.alertChannels).toEqual([{ name: 'security', type: 'webhook' }]);
    expect(textOf(result)).not.toContain('0123456789abcdef0123');
    expect(textOf(result)).not.toContain(workspace.directory);
    expect(data.adapters.map((adapter) => adapter.name)).toContain('@palisade/mcp-server');
  });

  it('explains the resolution chain of a scope', async () => {
    const result = await call(admin, 'explain_policy', { app: 'chatbot' });
    expect(result.structuredContent).toMatchObject({
      ok: true,
      effectivePolicyId: 'support',
      resolutionSource: 'tenant',
      chain: [
        { level: 'request', chosen: false },
        { level: 'app', chosen: false },
        { level: 'tenant', policyId: 'support', chosen: true },
        { level: 'system_default', policyId: 'balanced', chosen: false },
      ],
    });
    const rules = result.structuredContent?.rules as { name: string; layer: string }[];
    expect(rules[0]).toMatchObject({ layer: 'platform', name: 'no shell' });
    expect(rules.map((rule) => rule.name)).toContain('external email needs approval');
  });
});

describe('query_audit and verify_audit', () => {
  it('returns decision receipts and an mcp.tool_call receipt for every call, naming the caller', async () => {
    // Its own calls, so the receipts it looks for do not depend on which cases ran before.
    const escalate = async (to: string) => {
      const escalated = await call(admin, 'check_tool_call', { tool: 'email.send', arguments: { to } });
      return (escalated.structuredContent as unknown as Decision).approvalId as string;
    };
    await call(admin, 'approve', { id: await escalate('audit-a@partner.example') });
    await call(admin, 'deny', { id: await escalate('audit-b@partner.example'), reason: 'not now' });
    await call(admin, 'check_budget', {});
    await call(admin, 'health_check', {});
    await call(admin, 'scan', { text: 'a receipt please', user: 'u-7' });
    const result = await call(admin, 'query_audit', { descending: true, limit: 50 });
    const receipts = result.structuredContent?.receipts as { kind: string; tenantId: string; receipt: Record<string, unknown> }[];
    expect(receipts.every((row) => row.tenantId === 'acme')).toBe(true);
    const decision = receipts.find((row) => row.kind === 'decision' && row.receipt.userId === 'u-7');
    expect(decision?.receipt).toMatchObject({ action: 'allow', boundary: 'input' });
    const calls = receipts.filter((row) => row.kind === 'mcp.tool_call');
    const scanCall = calls.find((row) => row.receipt.decisionEventId === decision?.receipt.eventId);
    expect(scanCall?.receipt).toMatchObject({ mcpTool: 'scan', keyId: 'local', role: 'admin', transport: 'memory', outcome: 'ok' });
    expect(calls.map((row) => row.receipt.mcpTool)).toEqual(expect.arrayContaining(['approve', 'deny', 'check_budget', 'health_check']));
    expect(receipts.some((row) => row.kind === 'approval.approved')).toBe(true);
  });

  it('filters by kind and action, and lets an admin read every tenant with "*"', async () => {
    await call(admin, 'scan', { text: 'hi from globex', tenant: 'globex' });
    await call(admin, 'scan', { text: injection }); // a block of its own to find
    const blocks = await call(admin, 'query_audit', { kind: 'decision', action: 'block' });
    const rows = blocks.structuredContent?.receipts as { kind: string; action: string }[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.kind === 'decision' && row.action === 'block')).toBe(true);
    const all = await call(admin, 'query_audit', { tenant: '*', kind: 'decision', limit: 1000 });
    const tenants = new Set((structured(all).receipts as { tenantId: string }[]).map((row) => row.tenantId));
    expect(all.structuredContent?.tenantId).toBe('*');
    expect([...tenants].sort()).toEqual(expect.arrayContaining(['acme', 'globex']));
  });

  it('refuses a time that is not a time', async () => {
    const result = await call(admin, 'query_audit', { from: 'yesterday-ish' });
    expect(errorCode(result)).toBe('INVALID_INPUT');
  });

  it('verifies the chain end to end', async () => {
    const result = await call(admin, 'verify_audit');
    expect(result.structuredContent).toMatchObject({ ok: true });
    expect(structured(result).receipts as number).toBeGreaterThan(5);
  });
});

describe('reload_policies', () => {
  it('reports the new version, and on a broken file the error and the version still serving', async () => {
    const before = guard.policyVersion;
    writeFileSync(workspace.configPath, testConfig.replace('limit_usd: 10', 'limit_usd: 20'));
    const reloaded = await call(admin, 'reload_policies');
    expect(reloaded.isError).toBeFalsy();
    expect(reloaded.structuredContent).toMatchObject({ ok: true, previousVersion: before });
    const version = reloaded.structuredContent?.version as string;
    expect(version).not.toBe(before);
    expect(guard.policyVersion).toBe(version);

    writeFileSync(workspace.configPath, testConfig.replace('default_policy: support', 'default_polcy: support'));
    const failed = await call(admin, 'reload_policies');
    expect(failed.isError).toBe(true);
    expect(errorCode(failed)).toBe('RELOAD_FAILED');
    expect(textOf(failed)).toContain(`the previous policy (version ${version}) still serves`);
    expect(textOf(failed)).toMatch(/palisade\.yaml:\d+:\d+ at tenants\.acme\.default_polcy/);
    expect(failed.structuredContent).toMatchObject({ ok: false, version });
    expect(guard.policyVersion).toBe(version);
    writeFileSync(workspace.configPath, testConfig);
    await call(admin, 'reload_policies');
  });
});

describe('rate limiting', () => {
  it('refuses calls beyond the burst with RATE_LIMITED and the wait, then refills', async () => {
    let time = 0;
    const rateLimiter = createRateLimiter({ perSecond: 2, burst: 2, now: () => time });
    const client = await connectInMemory({ guard, caller: localCaller({ tenant: 'acme' }), rateLimiter });
    expect((await call(client, 'health_check')).isError).toBeFalsy();
    expect((await call(client, 'health_check')).isError).toBeFalsy();
    const limited = await call(client, 'health_check');
    expect(limited.isError).toBe(true);
    expect(errorCode(limited)).toBe('RATE_LIMITED');
    expect(limited._meta?.['palisade/error']).toMatchObject({ retryAfterMs: 500 });
    time += 500;
    expect((await call(client, 'health_check')).isError).toBeFalsy();
    await client.close();
  });
});

describe('a guard without state', () => {
  it('still scans, and answers the state tools UNAVAILABLE', async () => {
    const stateless = createGuard({ config: testConfig, scanner: sharedScanner() });
    const client = await connectInMemory({ guard: stateless, caller: localCaller({ tenant: 'acme' }) });
    expect((await call(client, 'scan', { text: 'hello' })).structuredContent).toMatchObject({ action: 'allow' });
    const escalated = await call(client, 'check_tool_call', { tool: 'email.send', arguments: { to: 'eve@partner.example' } });
    expect(textOf(escalated)).toMatch(/no ticket: this guard keeps no approval state/);
    for (const [tool, args] of [
      ['list_pending', {}],
      ['approve', { id: 'apr_1' }],
      ['check_budget', {}],
      ['query_audit', {}],
      ['verify_audit', {}],
    ] as const) {
      const result = await call(client, tool, args);
      expect(errorCode(result), tool).toBe('UNAVAILABLE');
      expect(textOf(result), tool).toMatch(/keeps no runtime state/);
    }
    expect((await call(client, 'health_check')).structuredContent).toMatchObject({
      status: 'ok',
      store: { status: 'off' },
      audit: { status: 'off' },
    });
    await client.close();
    await stateless.close();
  });

  it('writes no mcp.tool_call receipt when auditToolCalls is false', async () => {
    const quiet = createGuard({
      config: testConfig,
      scanner: sharedScanner(),
      state: { store: createMemoryStore(), directory: `${workspace.directory}/quiet` },
    });
    const client = await connectInMemory({ guard: quiet, caller: localCaller({ tenant: 'acme' }), auditToolCalls: false });
    await call(client, 'health_check');
    await call(client, 'scan', { text: 'hello' });
    const receipts = (await call(client, 'query_audit', {})).structuredContent?.receipts as { kind: string }[];
    expect(receipts.map((row) => row.kind)).toEqual(['decision']);
    await client.close();
    await quiet.close();
  });
});
