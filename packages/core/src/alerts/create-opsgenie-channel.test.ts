import { describe, expect, it, onTestFinished } from 'vitest';
import type { PalisadeEvent } from '../events/events.js';
import type { ApprovalTicket } from '../store/store.js';
import { type LocalHttpServer, type RecordedRequest, type ScriptedResponse, startLocalHttpServer } from '../test/index.js';
import type { Alert } from './alert-channel.js';
import { buildOpsgenieAlert, createOpsgenieChannel, opsgenieAlertsUrls } from './create-opsgenie-channel.js';

async function receiver(response: ScriptedResponse): Promise<LocalHttpServer> {
  const server = await startLocalHttpServer(response);
  onTestFinished(server.close);
  return server;
}

const apiKey = 'eb243592-faa2-4ba2-a551q-1afdf565c889';

const ticket: ApprovalTicket = {
  id: 'apr-1',
  tenantId: 'acme',
  eventId: 'evt-9',
  boundary: 'tool_call',
  tool: 'email.send',
  args: { to: 'ceo@rival.example', body: 'the quarterly numbers' },
  sealedEvent: 'sealed-opaque-payload',
  reason: 'External emails need approval',
  rule: 'strict/external-email-needs-approval',
  policyVersion: 'v1',
  createdAt: 1_767_225_600_000,
  expiresAt: 1_767_226_500_000,
  requiredApprovals: 1,
  onTimeout: 'deny',
  status: 'pending',
  approvals: [],
};
const event: PalisadeEvent = { type: 'approval.requested', time: '2026-01-01T00:00:00.000Z', tenantId: 'acme', severity: 'MEDIUM', ticket };
const alert: Alert = {
  id: 'alert-1',
  event,
  dedupKey: 'oncall|approval.requested|acme|strict/external-email-needs-approval',
  suppressed: 1,
};

describe('createOpsgenieChannel', () => {
  it('creates an alert with the GenieKey, which Opsgenie accepts with 202', async () => {
    const opsgenie = await receiver({ status: 202, body: '{"result":"Request will be processed","took":0.1,"requestId":"r-1"}' });
    const channel = createOpsgenieChannel('oncall', {
      type: 'opsgenie',
      api_key: apiKey,
      region: 'us',
      url: `${opsgenie.url}/v2/alerts`,
    });
    expect(await channel.send(alert)).toEqual({ ok: true, status: 202 });

    const [request] = opsgenie.requests as [RecordedRequest];
    expect(request.path).toBe('/v2/alerts');
    expect(request.headers.authorization).toBe(`GenieKey ${apiKey}`);
    const body = JSON.parse(request.body);
    expect(body).toMatchObject({
      message: '[acme] Approval requested: tool_call email.send: External emails need approval',
      alias: alert.dedupKey,
      priority: 'P3',
      tags: ['palisade', 'approval.requested', 'severity:medium', 'tenant:acme'],
      entity: 'acme',
      source: 'Palisade',
      details: { ticket: 'apr-1', rule: 'strict/external-email-needs-approval', alert_id: 'alert-1', suppressed: '1' },
    });
    expect(body.description).toContain('Suppressed since the previous alert: 1');
    for (const value of Object.values(body.details)) expect(typeof value).toBe('string');
    expect(request.body).not.toContain('quarterly numbers');
    expect(request.body).not.toContain('sealed-opaque-payload');
  });

  it('keeps the message within 130 characters and maps severities to priorities', () => {
    const long = buildOpsgenieAlert({ ...alert, event: { ...event, ticket: { ...ticket, reason: 'r'.repeat(500) } } as PalisadeEvent });
    expect(long.message).toHaveLength(130);
    const priorities = (['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const).map(
      (severity) => buildOpsgenieAlert({ ...alert, event: { ...event, severity } }).priority,
    );
    expect(priorities).toEqual(['P4', 'P3', 'P2', 'P1']);
  });

  it('posts to the regional API by default', async () => {
    const urls: string[] = [];
    const fetchStub: typeof fetch = async (input) => {
      urls.push(String(input));
      return new Response(null, { status: 202 });
    };
    await createOpsgenieChannel('us', { type: 'opsgenie', api_key: apiKey, region: 'us' }, { fetch: fetchStub }).send(alert);
    await createOpsgenieChannel('eu', { type: 'opsgenie', api_key: apiKey, region: 'eu' }, { fetch: fetchStub }).send(alert);
    expect(urls).toEqual(['https://api.opsgenie.com/v2/alerts', 'https://api.eu.opsgenie.com/v2/alerts']);
    expect(opsgenieAlertsUrls.eu).toBe(urls[1]);
  });

  it('treats 422 as permanent without repeating the key', async () => {
    const opsgenie = await receiver({ status: 422, body: `{"message":"Key ${apiKey} is not valid"}` });
    const result = await createOpsgenieChannel('oncall', {
      type: 'opsgenie',
      api_key: apiKey,
      region: 'us',
      url: `${opsgenie.url}/v2/alerts`,
    }).send(alert);
    expect(result).toMatchObject({ ok: false, retryable: false, status: 422 });
    expect(!result.ok && result.message).not.toContain(apiKey);
  });
});
