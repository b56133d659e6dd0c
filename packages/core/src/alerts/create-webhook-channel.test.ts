import { describe, expect, it, onTestFinished } from 'vitest';
import type { PalisadeEvent } from '../events/events.js';
import type { Decision } from '../policy/types.js';
import { type LocalHttpServer, type RecordedRequest, type ScriptedResponse, startLocalHttpServer } from '../test/index.js';
import type { Alert } from './alert-channel.js';
import { buildWebhookRequest, createWebhookChannel } from './create-webhook-channel.js';
import { verifyWebhookSignature } from './verify-webhook-signature.js';

const secret = 'whsec-0123456789abcdef';

async function receiver(response: ScriptedResponse = { status: 204 }): Promise<LocalHttpServer> {
  const server = await startLocalHttpServer(response);
  onTestFinished(server.close);
  return { ...server, url: `${server.url}/hooks/palisade` };
}

const event: PalisadeEvent = {
  type: 'decision',
  time: '2026-01-01T00:00:00.000Z',
  tenantId: 'acme',
  appId: 'chatbot',
  severity: 'CRITICAL',
  boundary: 'tool_call',
  action: 'block',
  decision: {
    action: 'block',
    eventId: 'evt-42',
    boundary: 'tool_call',
    tool: 'shell.exec',
    scope: { tenantId: 'acme', appId: 'chatbot', userId: 'u-7' },
    detections: [
      {
        ruleId: 'cmd-001',
        family: 'CMD',
        name: 'Destructive shell command',
        severity: 'CRITICAL',
        confidence: 0.97,
        tags: ['attack.command.destructive'],
        span: { start: 0, end: 8 },
        path: '$.args.command',
      },
    ],
    suppressedDetections: [],
    decidedBy: { layer: 'policy', policyId: 'strict', rule: 'block-destructive', priority: 900 },
    reason: 'Destructive shell command',
    redactedText: 'rm -rf / --no-preserve-root',
    redactedArgs: { command: 'rm -rf /' },
    effectivePolicyId: 'strict',
    effectivePolicyMode: 'strict',
    resolutionSource: 'app',
    policyVersion: 'v9',
    flags: [],
    diagnostics: { matchedRules: [], errors: [] },
    evaluationMs: 2,
  } satisfies Decision,
};

const alert: Alert = { id: 'alert-1', event, dedupKey: 'siem|decision|acme|strict/block-destructive', suppressed: 3 };

describe('createWebhookChannel', () => {
  it('posts the alert as signed JSON that the receiver verifies with verifyWebhookSignature', async () => {
    const siem = await receiver();
    const channel = createWebhookChannel('siem', {
      type: 'webhook',
      url: siem.url,
      secret,
      headers: { Authorization: 'Bearer siem-token' },
    });
    expect(await channel.send(alert)).toEqual({ ok: true, status: 204 });

    const [request] = siem.requests as [RecordedRequest];
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/hooks/palisade');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers.authorization).toBe('Bearer siem-token');
    expect(request.headers['x-palisade-delivery']).toBe('alert-1');
    expect(request.headers['x-palisade-event']).toBe('decision');
    expect(
      verifyWebhookSignature({
        secret,
        body: request.body,
        timestamp: request.headers['x-palisade-timestamp'] as string,
        signature: request.headers['x-palisade-signature'] as string,
      }),
    ).toBe(true);
    expect(JSON.parse(request.body)).toMatchObject({
      id: 'alert-1',
      type: 'decision',
      tenantId: 'acme',
      appId: 'chatbot',
      severity: 'CRITICAL',
      title: 'Blocked tool_call shell.exec: Destructive shell command',
      suppressed: 3,
      data: {
        eventId: 'evt-42',
        action: 'block',
        tool: 'shell.exec',
        decidedBy: { policyId: 'strict', rule: 'block-destructive' },
        detections: [{ ruleId: 'cmd-001', family: 'CMD', severity: 'CRITICAL', path: '$.args.command' }],
      },
    });
  });

  it('never sends the scanned content: no text, arguments or spans', () => {
    const { body } = buildWebhookRequest(alert, { type: 'webhook', url: 'https://siem.example/in', secret, headers: {} }, 0);
    expect(body).not.toContain('rm -rf');
    expect(body).not.toContain('"span"');
    expect(body).not.toContain('redacted');
  });

  it('keeps configured headers from replacing the signature, timestamp or content type', () => {
    const { headers } = buildWebhookRequest(
      alert,
      {
        type: 'webhook',
        url: 'https://siem.example/in',
        secret,
        headers: { 'X-Palisade-Signature': 'sha256=forged', 'x-palisade-timestamp': '1', 'Content-Type': 'text/plain' },
      },
      1_767_225_600_000,
    );
    expect(headers['x-palisade-timestamp']).toBe('1767225600');
    expect(headers['x-palisade-signature']).not.toBe('sha256=forged');
    expect(headers['content-type']).toBe('application/json');
  });

  it('classifies answers: 5xx and 429 retryable (with Retry-After), other 4xx permanent', async () => {
    const down = await receiver({ status: 503, headers: { 'retry-after': '7' }, body: 'maintenance' });
    const limited = await receiver({ status: 429, headers: { 'retry-after': 'Thu, 01 Jan 2099 00:00:00 GMT' } });
    const refused = await receiver({ status: 401, body: `{"error":"bad token ${secret}"}` });
    const send = (url: string) => createWebhookChannel('siem', { type: 'webhook', url, secret, headers: {} }).send(alert);

    expect(await send(down.url)).toMatchObject({ ok: false, retryable: true, status: 503, retryAfterMs: 7000 });
    expect(await send(limited.url)).toMatchObject({ ok: false, retryable: true, status: 429 });
    const result = await send(refused.url);
    expect(result).toMatchObject({ ok: false, retryable: false, status: 401 });
    expect(!result.ok && result.message).toContain('bad token [redacted]');
    expect(!result.ok && result.message).not.toContain(secret);
  });

  it('does not follow a redirect with a signed body', async () => {
    const target = await receiver();
    const moved = await receiver({ status: 307, headers: { location: target.url } });
    const result = await createWebhookChannel('siem', { type: 'webhook', url: moved.url, secret, headers: {} }).send(alert);
    expect(result).toMatchObject({ ok: false, retryable: false, status: 307 });
    expect(target.requests).toHaveLength(0);
  });

  it('gives up on an attempt after timeoutMs, as retryable', async () => {
    const slow = await receiver('hang');
    const channel = createWebhookChannel('siem', { type: 'webhook', url: slow.url, secret, headers: {} }, { timeoutMs: 80 });
    const result = await channel.send(alert);
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(!result.ok && result.message).toMatch(/no answer within 80 ms$/);
  });

  it('uses an injected fetch', async () => {
    const urls: string[] = [];
    const fetchStub: typeof fetch = async (input) => {
      urls.push(String(input));
      return new Response(null, { status: 200 });
    };
    const channel = createWebhookChannel(
      'siem',
      { type: 'webhook', url: 'https://siem.example/in', secret, headers: {} },
      { fetch: fetchStub },
    );
    expect(await channel.send(alert)).toEqual({ ok: true, status: 200 });
    expect(urls).toEqual(['https://siem.example/in']);
  });
});
