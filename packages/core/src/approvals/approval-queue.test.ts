import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSection } from '../config/config-schema.js';
import { NotFoundError } from '../errors/not-found-error.js';
import type { PalisadeEvent } from '../events/events.js';
import { createGuard } from '../guard/create-guard.js';
import type { GuardEvent } from '../guard/decide.js';
import { createScanner } from '../scanner/create-scanner.js';
import { createMemoryStore } from '../store/memory-store.js';
import { createSealer } from '../store/sealer.js';
import { type ApprovalQueueOptions, callHash, createApprovalQueue } from './approval-queue.js';

const config = (emailRule: 'escalate' | 'block') => `
policies:
  mail:
    extends: balanced
    rules:
      - name: external email
        priority: 80
        action: ${emailRule}
        reason: External emails need approval
        match: { boundary: tool_call, tool: email.send }
tenants:
  acme: { default_policy: mail, apps: { mailer: {} } }
  globex: { default_policy: mail, apps: { mailer: {} } }
`;

const scanner = createScanner();

function setup(overrides: Partial<ApprovalQueueOptions> & { approvals?: Record<string, unknown> } = {}) {
  let guard = createGuard({ config: config('escalate'), scanner });
  const store = createMemoryStore();
  const events: PalisadeEvent[] = [];
  const records: { kind: string; id: string; extra: Record<string, unknown> }[] = [];
  let clock = 1_000_000;
  const approvals = parseSection('approvals', overrides.approvals ?? {});
  const queue = createApprovalQueue({
    store,
    sealer: createSealer(randomBytes(32)),
    config: () => approvals,
    reevaluate: (event) => guard.evaluate(event),
    emit: (event) => events.push(event),
    record: (kind, ticket, extra) => records.push({ kind, id: ticket.id, extra }),
    now: () => clock,
    sweepMs: 0,
    pollMs: 5,
    ...overrides,
  });
  const escalate = async (tenantId: string, args: unknown = { to: 'bob@example.com', body: 'hi' }) => {
    const event: GuardEvent = { boundary: 'tool_call', tool: 'email.send', args, scope: { tenantId, appId: 'mailer', userId: 'u1' } };
    const decision = await guard.evaluate(event);
    expect(decision.action).toBe('escalate');
    return { ticket: await queue.request(decision, event), event };
  };
  return {
    queue,
    store,
    events,
    records,
    escalate,
    tick: (ms: number) => {
      clock += ms;
    },
    setPolicy: (rule: 'escalate' | 'block') => {
      guard = createGuard({ config: config(rule), scanner });
    },
  };
}

describe('createApprovalQueue', () => {
  it('creates a pending ticket with redacted arguments, the rule, and an expiry', async () => {
    const { escalate, events, records } = setup();
    const { ticket } = await escalate('acme');
    expect(ticket).toMatchObject({
      tenantId: 'acme',
      appId: 'mailer',
      userId: 'u1',
      tool: 'email.send',
      status: 'pending',
      requiredApprovals: 1,
      onTimeout: 'deny',
      rule: 'mail/external email',
      reason: 'External emails need approval',
      expiresAt: 1_000_000 + 15 * 60_000,
    });
    expect(JSON.stringify(ticket.args)).not.toContain('bob@example.com');
    expect(ticket.sealedEvent).not.toContain('bob@example.com');
    expect(events.map((event) => event.type)).toEqual(['approval.requested']);
    expect(records.map((record) => record.kind)).toEqual(['approval.requested']);
  });

  it('approves once; a second approve and a late deny change nothing', async () => {
    const { queue, escalate, events } = setup();
    const { ticket } = await escalate('acme');
    const first = await queue.approve(ticket.id, { tenantId: 'acme', approver: 'alice', note: 'ok' });
    expect(first.changed).toBe(true);
    expect(first.ticket.status).toBe('approved');
    expect(first.reevaluation?.action).toBe('escalate');
    expect((await queue.approve(ticket.id, { tenantId: 'acme', approver: 'alice' })).changed).toBe(false);
    const late = await queue.deny(ticket.id, { tenantId: 'acme', approver: 'bob', reason: 'no' });
    expect(late).toMatchObject({ changed: false, ticket: { status: 'approved' } });
    expect(events.filter((event) => event.type === 'approval.approved')).toHaveLength(1);
  });

  it('ends a race between approve and deny in exactly one outcome', async () => {
    const { queue, escalate } = setup();
    for (let round = 0; round < 20; round++) {
      const { ticket } = await escalate('acme');
      const results = await Promise.all([
        queue.approve(ticket.id, { tenantId: 'acme', approver: 'alice' }),
        queue.deny(ticket.id, { tenantId: 'acme', approver: 'bob', reason: 'no' }),
      ]);
      expect(results.filter((result) => result.changed)).toHaveLength(1);
      const final = await queue.get(ticket.id, { tenantId: 'acme' });
      expect(['approved', 'denied']).toContain(final?.status);
      for (const result of results) expect(result.ticket.status === final?.status || !result.changed).toBe(true);
    }
  });

  it('needs distinct approvers when more than one approval is required', async () => {
    const { queue, escalate } = setup({ approvals: { required_approvals: 2 } });
    const { ticket } = await escalate('acme');
    expect((await queue.approve(ticket.id, { tenantId: 'acme', approver: 'alice' })).ticket.status).toBe('pending');
    expect((await queue.approve(ticket.id, { tenantId: 'acme', approver: 'alice' })).ticket.status).toBe('pending');
    const second = await queue.approve(ticket.id, { tenantId: 'acme', approver: 'carol' });
    expect(second.ticket.status).toBe('approved');
    expect(second.ticket.approvals.map((vote) => vote.approver)).toEqual(['alice', 'carol']);
  });

  it('denies at approval time when the policy serving now blocks the call (time of check, time of use)', async () => {
    const { queue, escalate, setPolicy } = setup();
    const { ticket } = await escalate('acme');
    setPolicy('block');
    const outcome = await queue.approve(ticket.id, { tenantId: 'acme', approver: 'alice' });
    expect(outcome.ticket.status).toBe('denied');
    expect(outcome.ticket.resolution?.by).toBe('policy');
    expect(outcome.reevaluation?.action).toBe('block');
  });

  it('expires a ticket past its time with the configured outcome, deny by default', async () => {
    const denying = setup();
    const { ticket } = await denying.escalate('acme');
    denying.tick(15 * 60_000);
    const waited = await denying.queue.wait(ticket.id, { tenantId: 'acme', timeoutMs: 10 });
    expect(waited).toMatchObject({ status: 'expired', allowed: false });
    expect((await denying.queue.approve(ticket.id, { tenantId: 'acme', approver: 'alice' })).changed).toBe(false);

    const allowing = setup({ approvals: { on_timeout: 'allow', timeout: '1m' } });
    const second = await allowing.escalate('acme');
    allowing.tick(60_001);
    expect(await allowing.queue.sweep()).toBe(1);
    expect(await allowing.queue.wait(second.ticket.id, { tenantId: 'acme' })).toMatchObject({ status: 'expired', allowed: true });
    expect(allowing.events.map((event) => event.type)).toContain('approval.expired');
  });

  it('wakes a waiter when the ticket is decided, and gives up at its own timeout or abort', async () => {
    const { queue, escalate } = setup({ now: Date.now });
    const { ticket } = await escalate('acme');
    const waiting = queue.wait(ticket.id, { tenantId: 'acme', timeoutMs: 5_000 });
    setTimeout(() => void queue.approve(ticket.id, { tenantId: 'acme', approver: 'alice' }), 20);
    expect(await waiting).toMatchObject({ status: 'approved', allowed: true });

    const other = await escalate('acme');
    expect(await queue.wait(other.ticket.id, { tenantId: 'acme', timeoutMs: 30 })).toMatchObject({ status: 'timeout', allowed: false });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    expect(await queue.wait(other.ticket.id, { tenantId: 'acme', signal: controller.signal })).toMatchObject({ status: 'aborted' });
  });

  it('answers "not found" for another tenant\'s ticket, for every operation', async () => {
    const { queue, escalate } = setup();
    const { ticket, event } = await escalate('acme');
    expect(await queue.get(ticket.id, { tenantId: 'globex' })).toBeUndefined();
    expect(await queue.list({ tenantId: 'globex' })).toEqual([]);
    await expect(queue.approve(ticket.id, { tenantId: 'globex', approver: 'mallory' })).rejects.toSatisfy(NotFoundError.isInstance);
    await expect(queue.deny(ticket.id, { tenantId: 'globex', approver: 'mallory', reason: 'x' })).rejects.toSatisfy(
      NotFoundError.isInstance,
    );
    await expect(queue.wait(ticket.id, { tenantId: 'globex', timeoutMs: 10 })).rejects.toSatisfy(NotFoundError.isInstance);
    expect(await queue.redeem(ticket.id, 'globex', event)).toBe(false);
    expect((await queue.get(ticket.id, { tenantId: 'acme' }))?.status).toBe('pending');
  });

  it('lets exactly the approved call through once', async () => {
    const { queue, escalate } = setup();
    const { ticket, event } = await escalate('acme');
    expect(await queue.redeem(ticket.id, 'acme', event)).toBe(false);
    await queue.approve(ticket.id, { tenantId: 'acme', approver: 'alice' });
    expect(await queue.redeem(ticket.id, 'acme', { ...event, args: { to: 'eve@evil.test', body: 'hi' } })).toBe(false);
    expect(await queue.redeem(ticket.id, 'acme', event)).toBe(true);
    expect(await queue.redeem(ticket.id, 'acme', event)).toBe(false);
  });

  it('hashes a call by its canonical form', () => {
    expect(callHash({ boundary: 'tool_call', tool: 't', args: { a: 1, b: 2 } })).toBe(
      callHash({ boundary: 'tool_call', tool: 't', args: { b: 2, a: 1 } }),
    );
    expect(callHash({ boundary: 'tool_call', tool: 't', args: { a: 1 } })).not.toBe(
      callHash({ boundary: 'tool_call', tool: 't', args: { a: 2 } }),
    );
  });
});
