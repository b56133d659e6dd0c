import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseSection } from '../config/config-schema.js';
import { InvalidConfigError } from '../errors/invalid-config-error.js';
import { createEventBus } from '../events/event-bus.js';
import type { PalisadeEvent } from '../events/events.js';
import type { Action, Decision } from '../policy/types.js';
import { type LocalHttpServer, type RecordedRequest, type ScriptedResponse, startLocalHttpServer } from '../test/index.js';
import type { Severity } from '../types.js';
import { type AlertFailure, createAlerter, maxAlertsInFlight } from './create-alerter.js';
import { verifyWebhookSignature } from './verify-webhook-signature.js';

const secret = 'test-secret-0123456789';

/** A webhook receiver on 127.0.0.1 answering with `responses` in turn (the last one repeats). */
async function receiver(...responses: ScriptedResponse[]): Promise<LocalHttpServer> {
  const server = await startLocalHttpServer(...responses);
  onTestFinished(server.close);
  return { ...server, url: `${server.url}/hooks/palisade` };
}

function decision(
  overrides: { tenantId?: string; action?: Action; severity?: Severity; rule?: string; appId?: string } = {},
): PalisadeEvent {
  const action = overrides.action ?? 'block';
  const tenantId = overrides.tenantId ?? 'acme';
  return {
    type: 'decision',
    time: '2026-01-01T00:00:00.000Z',
    tenantId,
    ...(overrides.appId ? { appId: overrides.appId } : {}),
    severity: overrides.severity ?? 'HIGH',
    boundary: 'input',
    action,
    decision: {
      action,
      eventId: 'evt-1',
      boundary: 'input',
      scope: { tenantId },
      detections: [],
      suppressedDetections: [],
      decidedBy: { layer: 'policy', policyId: 'balanced', rule: overrides.rule ?? 'block-injection', priority: 100 },
      reason: 'Prompt injection',
      redactedText: 'SECRET CONTENT that must not leave the process',
      effectivePolicyId: 'balanced',
      effectivePolicyMode: 'balanced',
      resolutionSource: 'tenant',
      policyVersion: 'v1',
      flags: [],
      diagnostics: { matchedRules: [], errors: [] },
      evaluationMs: 1,
    } satisfies Decision,
  };
}

function budgetExceeded(tenantId = 'acme'): PalisadeEvent {
  return {
    type: 'budget.exceeded',
    time: '2026-01-01T00:00:00.000Z',
    tenantId,
    severity: 'HIGH',
    budget: {
      scope: 'tenant',
      period: 'day',
      limitUsd: 50,
      spentUsd: 52.1,
      ratio: 1.042,
      action: 'hard_block',
      resetsAt: '2026-01-02T00:00:00.000Z',
    },
  };
}

function reloaded(): PalisadeEvent {
  return { type: 'policy.reloaded', time: '2026-01-01T00:00:00.000Z', tenantId: '', severity: 'LOW', version: 'v2', previousVersion: 'v1' };
}

type RawRoute = { channels: string[]; events?: string[]; min_severity?: Severity; actions?: Action[]; tenants?: string[] };

function setup(options: {
  channels: Record<string, string>;
  routes: RawRoute[];
  cooldown?: number;
  retry?: { attempts?: number; backoff?: number; max_backoff?: number };
  timeout?: number;
  now?: () => number;
  onFailure?: (failure: AlertFailure) => void;
}) {
  const config = parseSection('alerts', {
    channels: Object.fromEntries(Object.entries(options.channels).map(([name, url]) => [name, { type: 'webhook', url, secret }])),
    routes: options.routes,
    cooldown: options.cooldown ?? 0,
    retry: { attempts: 3, backoff: 10, max_backoff: 200, ...options.retry },
    timeout: options.timeout ?? 2000,
  });
  const bus = createEventBus();
  const failedEvents: PalisadeEvent[] = [];
  bus.on('alert.failed', (event) => {
    failedEvents.push(event);
  });
  const alerter = createAlerter({ config, bus, now: options.now, onFailure: options.onFailure });
  return { bus, alerter, failedEvents };
}

function bodies(received: RecordedRequest[]): Record<string, unknown>[] {
  return received.map((request) => JSON.parse(request.body) as Record<string, unknown>);
}

describe('createAlerter routing', () => {
  it('sends an event to the channels of every matching route, once per channel', async () => {
    const pager = await receiver();
    const chat = await receiver();
    const { bus, alerter } = setup({
      channels: { pager: pager.url, chat: chat.url },
      routes: [{ channels: ['pager', 'chat'], min_severity: 'HIGH' }, { channels: ['chat'] }],
    });
    bus.emit(decision({ severity: 'CRITICAL' }));
    await alerter.flush();
    expect(pager.requests).toHaveLength(1);
    expect(chat.requests).toHaveLength(1);
    expect(alerter.stats()).toEqual({
      pager: { sent: 1, failed: 0, retried: 0, suppressed: 0 },
      chat: { sent: 1, failed: 0, retried: 0, suppressed: 0 },
    });
  });

  it('routes by minimum severity', async () => {
    const pager = await receiver();
    const { bus, alerter } = setup({ channels: { pager: pager.url }, routes: [{ channels: ['pager'], min_severity: 'HIGH' }] });
    bus.emit(decision({ severity: 'MEDIUM', tenantId: 'medium' }));
    bus.emit(decision({ severity: 'HIGH', tenantId: 'high' }));
    bus.emit(decision({ severity: 'CRITICAL', tenantId: 'critical' }));
    await alerter.flush();
    expect(bodies(pager.requests).map((body) => body.tenantId)).toEqual(['high', 'critical']);
  });

  it('leaves allowed and logged decisions out unless a route lists those actions', async () => {
    const routine = await receiver();
    const audit = await receiver();
    const { bus, alerter } = setup({
      channels: { routine: routine.url, audit: audit.url },
      routes: [{ channels: ['routine'] }, { channels: ['audit'], actions: ['allow', 'log'] }],
    });
    for (const action of ['allow', 'log', 'flag', 'block'] as const) bus.emit(decision({ action, rule: action }));
    await alerter.flush();
    expect(bodies(routine.requests).map((body) => (body.data as { action: string }).action)).toEqual(['flag', 'block']);
    expect(bodies(audit.requests).map((body) => (body.data as { action: string }).action)).toEqual(['allow', 'log']);
  });

  it('matches a route that names actions only with decision events', async () => {
    const pager = await receiver();
    const { bus, alerter } = setup({ channels: { pager: pager.url }, routes: [{ channels: ['pager'], actions: ['block'] }] });
    bus.emit(budgetExceeded());
    bus.emit(decision({ action: 'block' }));
    await alerter.flush();
    expect(bodies(pager.requests).map((body) => body.type)).toEqual(['decision']);
  });

  it('routes by tenant, and process-wide events match no tenant list', async () => {
    const acme = await receiver();
    const { bus, alerter } = setup({ channels: { acme: acme.url }, routes: [{ channels: ['acme'], tenants: ['acme'] }] });
    bus.emit(decision({ tenantId: 'globex' }));
    bus.emit(reloaded());
    bus.emit(decision({ tenantId: 'acme' }));
    await alerter.flush();
    expect(bodies(acme.requests).map((body) => body.tenantId)).toEqual(['acme']);
  });

  it('routes by event type, exact or by prefix', async () => {
    const money = await receiver();
    const { bus, alerter } = setup({
      channels: { money: money.url },
      routes: [{ channels: ['money'], events: ['budget.*', 'policy.reloaded'] }],
    });
    bus.emit(decision());
    bus.emit(budgetExceeded());
    bus.emit(reloaded());
    await alerter.flush();
    expect(bodies(money.requests).map((body) => body.type)).toEqual(['budget.exceeded', 'policy.reloaded']);
  });

  it('refuses routes to unknown channels or event types, naming the field', () => {
    const config = parseSection('alerts', {
      channels: { pager: { type: 'webhook', url: 'http://127.0.0.1:9/x', secret } },
      routes: [{ channels: ['pager', 'pagr'], events: ['budget.exceded', 'alert.failed'] }],
    });
    let error: unknown;
    try {
      createAlerter({ config, bus: createEventBus() });
    } catch (caught) {
      error = caught;
    }
    expect(InvalidConfigError.isInstance(error)).toBe(true);
    expect((error as InvalidConfigError).issues.map((issue) => issue.path)).toEqual([
      'alerts.routes[0].channels[1]',
      'alerts.routes[0].events[0]',
      'alerts.routes[0].events[1]',
    ]);
  });
});

describe('createAlerter channels', () => {
  it('delivers one event through every kind of channel', async () => {
    const http = await receiver({ status: 200, body: 'ok' }, { status: 202 }, { status: 202 });
    const origin = new URL(http.url).origin;
    const mails: string[] = [];
    const relay = new SMTPServer({
      secure: false,
      logger: false,
      disabledCommands: ['STARTTLS'],
      authOptional: true,
      onData(stream, _session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          mails.push(Buffer.concat(chunks).toString('utf8'));
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', () => resolve()));
    const smtpPort = (relay.server.address() as AddressInfo).port;

    const config = parseSection('alerts', {
      channels: {
        chat: { type: 'slack', webhook_url: `${origin}/services/T/B/secret` },
        pager: { type: 'pagerduty', routing_key: 'routing-key-123', url: `${origin}/v2/enqueue` },
        genie: { type: 'opsgenie', api_key: 'genie-key-123', url: `${origin}/v2/alerts` },
        mail: {
          type: 'email',
          from: 'palisade@acme.example',
          to: ['security@acme.example'],
          smtp: { host: '127.0.0.1', port: smtpPort, require_tls: false },
        },
      },
      routes: [{ channels: ['chat', 'pager', 'genie', 'mail'] }],
    });
    const bus = createEventBus();
    const alerter = createAlerter({ config, bus });
    bus.emit(budgetExceeded());
    await alerter.flush();
    await alerter.close();
    await new Promise<void>((resolve) => relay.close(() => resolve()));

    expect(http.requests.map((request) => request.headers['content-type'])).toEqual([
      'application/json',
      'application/json',
      'application/json',
    ]);
    expect(mails).toHaveLength(1);
    expect(Object.values(alerter.stats()).map((stats) => stats.sent)).toEqual([1, 1, 1, 1]);
  });
});

describe('createAlerter cooldown', () => {
  it('suppresses repeats of the same rule within the cooldown and reports the count with the next alert', async () => {
    const pager = await receiver();
    let clock = 1_000_000;
    const { bus, alerter } = setup({
      channels: { pager: pager.url },
      routes: [{ channels: ['pager'] }],
      cooldown: 60_000,
      now: () => clock,
    });

    bus.emit(decision());
    await alerter.flush();
    clock += 1000;
    bus.emit(decision());
    bus.emit(decision());
    bus.emit(decision({ rule: 'other-rule' }));
    bus.emit(decision({ tenantId: 'globex' }));
    await alerter.flush();
    clock += 60_000;
    bus.emit(decision());
    await alerter.flush();

    const sent = bodies(pager.requests).map((body) => [
      body.tenantId,
      (body.data as { decidedBy: { rule: string } }).decidedBy.rule,
      body.suppressed,
    ]);
    expect(sent).toEqual([
      ['acme', 'block-injection', 0],
      ['acme', 'other-rule', 0],
      ['globex', 'block-injection', 0],
      ['acme', 'block-injection', 2],
    ]);
    expect(alerter.stats().pager).toEqual({ sent: 4, failed: 0, retried: 0, suppressed: 2 });
  });

  it('keeps one cooldown per channel', async () => {
    const pager = await receiver();
    const chat = await receiver();
    const { bus, alerter } = setup({
      channels: { pager: pager.url, chat: chat.url },
      routes: [{ channels: ['pager'], min_severity: 'CRITICAL' }, { channels: ['chat'] }],
      cooldown: 60_000,
    });
    bus.emit(decision({ severity: 'HIGH' }));
    await alerter.flush();
    bus.emit(decision({ severity: 'CRITICAL' }));
    await alerter.flush();
    expect(pager.requests).toHaveLength(1);
    expect(chat.requests).toHaveLength(1);
    expect(alerter.stats().chat?.suppressed).toBe(1);
  });
});

describe('createAlerter delivery', () => {
  it('retries a 500 with exponential backoff, re-signing the same alert each time', async () => {
    const pager = await receiver({ status: 500 }, { status: 502 }, { status: 200 });
    const { bus, alerter, failedEvents } = setup({
      channels: { pager: pager.url },
      routes: [{ channels: ['pager'] }],
      retry: { attempts: 5, backoff: 40, max_backoff: 1000 },
    });
    bus.emit(decision());
    await alerter.flush();

    expect(pager.requests).toHaveLength(3);
    const [first, second, third] = pager.requests as [RecordedRequest, RecordedRequest, RecordedRequest];
    // Equal jitter: attempt n waits between half and all of backoff × 2^(n-1).
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(18);
    expect(third.receivedAt - second.receivedAt).toBeGreaterThanOrEqual(38);
    expect(new Set(pager.requests.map((request) => request.headers['x-palisade-delivery'])).size).toBe(1);
    for (const request of pager.requests) {
      expect(
        verifyWebhookSignature({
          secret,
          body: request.body,
          timestamp: request.headers['x-palisade-timestamp'] as string,
          signature: request.headers['x-palisade-signature'] as string,
        }),
      ).toBe(true);
    }
    expect(alerter.stats().pager).toEqual({ sent: 1, failed: 0, retried: 2, suppressed: 0 });
    expect(failedEvents).toEqual([]);
  });

  it('does not retry a 400 and reports it as alert.failed and to onFailure', async () => {
    const pager = await receiver({ status: 400, body: 'bad payload' });
    const failures: AlertFailure[] = [];
    const { bus, alerter, failedEvents } = setup({
      channels: { pager: pager.url },
      routes: [{ channels: ['pager'] }],
      onFailure: (failure) => failures.push(failure),
    });
    bus.emit(decision({ appId: 'chatbot' }));
    await alerter.flush();
    await bus.idle();

    expect(pager.requests).toHaveLength(1);
    expect(alerter.stats().pager).toEqual({ sent: 0, failed: 1, retried: 0, suppressed: 0 });
    expect(failures).toMatchObject([{ channel: 'pager', channelType: 'webhook', attempts: 1, status: 400 }]);
    expect(failures[0]?.message).toContain('answered 400: "bad payload"');
    expect(failedEvents).toMatchObject([
      { type: 'alert.failed', tenantId: 'acme', appId: 'chatbot', severity: 'HIGH', channel: 'pager', eventType: 'decision', attempts: 1 },
    ]);
  });

  it('waits as long as Retry-After asks on a 429', async () => {
    const chat = await receiver({ status: 429, headers: { 'retry-after': '1' } }, { status: 200 });
    const { bus, alerter } = setup({
      channels: { chat: chat.url },
      routes: [{ channels: ['chat'] }],
      retry: { backoff: 5, max_backoff: 5000 },
    });
    bus.emit(decision());
    await alerter.flush();
    expect(chat.requests).toHaveLength(2);
    const [first, second] = chat.requests as [RecordedRequest, RecordedRequest];
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(990);
    expect(alerter.stats().chat).toEqual({ sent: 1, failed: 0, retried: 1, suppressed: 0 });
  });

  it('gives up at once when Retry-After asks for more than retry.max_backoff', async () => {
    const chat = await receiver({ status: 503, headers: { 'retry-after': '3600' } });
    const failures: AlertFailure[] = [];
    const { bus, alerter } = setup({
      channels: { chat: chat.url },
      routes: [{ channels: ['chat'] }],
      onFailure: (failure) => failures.push(failure),
    });
    bus.emit(decision());
    await alerter.flush();
    expect(chat.requests).toHaveLength(1);
    expect(failures[0]?.message).toContain('asked to retry after 3600000 ms, beyond retry.max_backoff');
  });

  it('times out an attempt that gets no answer, retries, then reports the failure', async () => {
    const pager = await receiver('hang');
    const failures: AlertFailure[] = [];
    const { bus, alerter, failedEvents } = setup({
      channels: { pager: pager.url },
      routes: [{ channels: ['pager'] }],
      timeout: 100,
      retry: { attempts: 2, backoff: 10 },
      onFailure: (failure) => failures.push(failure),
    });
    const started = performance.now();
    bus.emit(decision());
    await alerter.flush();
    await bus.idle();
    expect(performance.now() - started).toBeGreaterThanOrEqual(195);
    expect(pager.requests).toHaveLength(2);
    expect(failures).toMatchObject([{ attempts: 2 }]);
    expect(failures[0]?.message).toMatch(/webhook channel "pager" \(http:\/\/127\.0\.0\.1:\d+\): no answer within 100 ms/);
    expect(failedEvents).toHaveLength(1);
  });

  it('never throws into the emitter and never routes alert.failed back to a channel', async () => {
    const pager = await receiver({ status: 500 });
    const { bus, alerter, failedEvents } = setup({
      channels: { pager: pager.url },
      routes: [{ channels: ['pager'] }],
      retry: { attempts: 2, backoff: 5 },
      onFailure: () => {
        throw new Error('failure hook broke');
      },
    });
    expect(() => bus.emit(decision())).not.toThrow();
    await alerter.flush();
    await bus.idle();
    await alerter.flush();
    expect(failedEvents).toHaveLength(1);
    expect(pager.requests).toHaveLength(2);
    expect(bus.stats().subscriberErrors).toBe(0);
  });

  it('reports a refused connection without the URL path or the secret', async () => {
    const closed = await receiver();
    const url = `${closed.url}?token=query-token-abcdef`;
    // Closing the server leaves a port nothing listens on.
    await closed.close();
    const failures: AlertFailure[] = [];
    const { bus, alerter } = setup({
      channels: { gone: url },
      routes: [{ channels: ['gone'] }],
      retry: { attempts: 2, backoff: 5 },
      onFailure: (f) => failures.push(f),
    });
    bus.emit(decision());
    await alerter.flush();
    expect(failures).toHaveLength(1);
    expect(failures[0]?.message).toMatch(/request failed \(ECONNREFUSED\)/);
    expect(failures[0]?.message).not.toContain('hooks/palisade');
    expect(failures[0]?.message).not.toContain('query-token');
    expect(failures[0]?.message).not.toContain(secret);
    expect(alerter.stats().gone).toEqual({ sent: 0, failed: 1, retried: 1, suppressed: 0 });
  });

  it('does not delay the emitter while a channel hangs', async () => {
    const pager = await receiver('hang');
    const { bus, alerter } = setup({ channels: { pager: pager.url }, routes: [{ channels: ['pager'] }], timeout: 5000 });
    const event = decision();
    const started = performance.now();
    for (let index = 0; index < 50; index += 1) bus.emit(event);
    expect(performance.now() - started).toBeLessThan(50);
    await alerter.close({ timeoutMs: 50 });
  });
});

describe('createAlerter bounds', () => {
  it('drops alerts beyond the in-flight limit of a channel instead of queueing them without end', async () => {
    // A receiver that never answers, without opening a thousand sockets: the fetch waits for its signal.
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    const failures: AlertFailure[] = [];
    const config = parseSection('alerts', {
      channels: { pager: { type: 'webhook', url: 'https://pager.example/in', secret } },
      routes: [{ channels: ['pager'] }],
      cooldown: 0,
      timeout: 60_000,
    });
    const bus = createEventBus();
    const alerter = createAlerter({ config, bus, fetch: hanging, onFailure: (failure) => failures.push(failure) });
    for (let index = 0; index <= maxAlertsInFlight; index += 1) bus.emit(decision());
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      attempts: 0,
      message: `webhook channel "pager": ${maxAlertsInFlight} alerts already in flight; dropped`,
    });
    await alerter.close({ timeoutMs: 0 });
    expect(alerter.stats().pager?.failed).toBe(maxAlertsInFlight + 1);
  });
});

describe('createAlerter close', () => {
  it('waits for alerts in flight, then stops listening', async () => {
    const pager = await receiver();
    const { bus, alerter } = setup({ channels: { pager: pager.url }, routes: [{ channels: ['pager'] }] });
    bus.emit(decision());
    await new Promise((resolve) => setImmediate(resolve));
    await alerter.close();
    expect(pager.requests).toHaveLength(1);
    expect(alerter.stats().pager?.sent).toBe(1);

    bus.emit(decision({ tenantId: 'after-close' }));
    await bus.idle();
    expect(pager.requests).toHaveLength(1);
    expect(bus.subscriberCount).toBe(1); // only the test's alert.failed listener
  });

  it('cancels what is still in flight after the timeout and reports it as failed', async () => {
    const pager = await receiver('hang');
    const failures: AlertFailure[] = [];
    const { bus, alerter } = setup({
      channels: { pager: pager.url },
      routes: [{ channels: ['pager'] }],
      timeout: 10_000,
      onFailure: (f) => failures.push(f),
    });
    bus.emit(decision());
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = performance.now();
    await alerter.close({ timeoutMs: 50 });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(failures).toMatchObject([{ channel: 'pager', attempts: 1 }]);
    expect(failures[0]?.message).toContain('cancelled');
  });

  it('stops retrying when closed during a backoff', async () => {
    const pager = await receiver({ status: 500 });
    const failures: AlertFailure[] = [];
    const { bus, alerter } = setup({
      channels: { pager: pager.url },
      routes: [{ channels: ['pager'] }],
      retry: { attempts: 5, backoff: 10_000, max_backoff: 10_000 },
      onFailure: (f) => failures.push(f),
    });
    bus.emit(decision());
    await new Promise((resolve) => setTimeout(resolve, 50));
    await alerter.close({ timeoutMs: 20 });
    expect(pager.requests).toHaveLength(1);
    expect(failures[0]?.message).toContain('alerter closed before the next attempt');
  });
});
