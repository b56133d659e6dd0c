import { describe, expect, it, onTestFinished } from 'vitest';
import type { PalisadeEvent } from '../events/events.js';
import type { Decision } from '../policy/types.js';
import { type LocalHttpServer, type RecordedRequest, type ScriptedResponse, startLocalHttpServer } from '../test/index.js';
import type { Alert } from './alert-channel.js';
import { buildPagerDutyEvent, createPagerDutyChannel, pagerDutyEventsUrl } from './create-pagerduty-channel.js';

async function receiver(response: ScriptedResponse): Promise<LocalHttpServer> {
  const server = await startLocalHttpServer(response);
  onTestFinished(server.close);
  return server;
}

const routingKey = 'R0UT1NGKEY0123456789ABCDEFGHIJKL';

function decisionAlert(reason = 'Prompt injection'): Alert {
  const event: PalisadeEvent = {
    type: 'decision',
    time: '2026-01-01T00:00:00.000Z',
    tenantId: 'acme',
    appId: 'chatbot',
    severity: 'CRITICAL',
    boundary: 'input',
    action: 'block',
    decision: {
      action: 'block',
      eventId: 'evt-1',
      boundary: 'input',
      scope: { tenantId: 'acme', appId: 'chatbot' },
      detections: [],
      suppressedDetections: [],
      decidedBy: { layer: 'policy', policyId: 'balanced', rule: 'block-injection', priority: 100 },
      reason,
      redactedText: 'ignore previous instructions',
      effectivePolicyId: 'balanced',
      effectivePolicyMode: 'balanced',
      resolutionSource: 'tenant',
      policyVersion: 'v1',
      flags: [],
      diagnostics: { matchedRules: [], errors: [] },
      evaluationMs: 1,
    } satisfies Decision,
  };
  return { id: 'alert-1', event, dedupKey: 'oncall|decision|acme|balanced/block-injection', suppressed: 0 };
}

describe('createPagerDutyChannel', () => {
  it('triggers an Events API v2 event, which PagerDuty accepts with 202', async () => {
    const pagerduty = await receiver({ status: 202, body: '{"status":"success","message":"Event processed","dedup_key":"x"}' });
    const channel = createPagerDutyChannel('oncall', { type: 'pagerduty', routing_key: routingKey, url: `${pagerduty.url}/v2/enqueue` });
    expect(await channel.send(decisionAlert())).toEqual({ ok: true, status: 202 });

    const [request] = pagerduty.requests as [RecordedRequest];
    expect(request.path).toBe('/v2/enqueue');
    expect(request.headers['content-type']).toBe('application/json');
    const body = JSON.parse(request.body);
    expect(body).toMatchObject({
      routing_key: routingKey,
      event_action: 'trigger',
      dedup_key: 'oncall|decision|acme|balanced/block-injection',
      payload: {
        summary: '[CRITICAL] Blocked input: Prompt injection (tenant acme)',
        source: 'palisade/acme',
        severity: 'critical',
        timestamp: '2026-01-01T00:00:00.000Z',
        component: 'input',
        group: 'acme/chatbot',
        class: 'decision',
        custom_details: { eventId: 'evt-1', action: 'block', alert_id: 'alert-1', suppressed: 0 },
      },
    });
    expect(request.body).not.toContain('ignore previous instructions');
  });

  it('maps severities and keeps the summary within 1024 characters and dedup_key within 255', () => {
    const alert = decisionAlert('r'.repeat(3000));
    const event = buildPagerDutyEvent({ ...alert, dedupKey: 'k'.repeat(400) }, { type: 'pagerduty', routing_key: routingKey });
    expect(event.payload.summary).toHaveLength(1024);
    expect(event.dedup_key).toMatch(/^[0-9a-f]{64}$/);
    const severities = (['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const).map(
      (severity) =>
        buildPagerDutyEvent({ ...alert, event: { ...alert.event, severity } }, { type: 'pagerduty', routing_key: routingKey }).payload
          .severity,
    );
    expect(severities).toEqual(['info', 'warning', 'error', 'critical']);
  });

  it('posts to events.pagerduty.com by default', async () => {
    const urls: string[] = [];
    const fetchStub: typeof fetch = async (input) => {
      urls.push(String(input));
      return new Response(null, { status: 202 });
    };
    await createPagerDutyChannel('oncall', { type: 'pagerduty', routing_key: routingKey }, { fetch: fetchStub }).send(decisionAlert());
    expect(urls).toEqual([pagerDutyEventsUrl]);
    expect(pagerDutyEventsUrl).toBe('https://events.pagerduty.com/v2/enqueue');
  });

  it('treats 400 as permanent and never repeats the routing key in the message', async () => {
    const pagerduty = await receiver({ status: 400, body: `{"status":"invalid event","errors":["bad routing_key ${routingKey}"]}` });
    const result = await createPagerDutyChannel('oncall', {
      type: 'pagerduty',
      routing_key: routingKey,
      url: `${pagerduty.url}/v2/enqueue`,
    }).send(decisionAlert());
    expect(result).toMatchObject({ ok: false, retryable: false, status: 400 });
    expect(!result.ok && result.message).toContain('invalid event');
    expect(!result.ok && result.message).not.toContain(routingKey);
  });
});
