import { describe, expect, it, onTestFinished } from 'vitest';
import type { PalisadeEvent } from '../events/events.js';
import { type LocalHttpServer, type RecordedRequest, type ScriptedResponse, startLocalHttpServer } from '../test/index.js';
import type { Alert } from './alert-channel.js';
import { buildSlackMessage, createSlackChannel } from './create-slack-channel.js';

async function receiver(response: ScriptedResponse): Promise<LocalHttpServer> {
  const server = await startLocalHttpServer(response);
  onTestFinished(server.close);
  return server;
}

const event: PalisadeEvent = {
  type: 'budget.exceeded',
  time: '2026-01-01T00:00:00.000Z',
  tenantId: 'acme',
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
const alert: Alert = { id: 'alert-1', event, dedupKey: 'ops|budget.exceeded|acme|tenant:day', suppressed: 2 };
const hookPath = '/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX';

describe('createSlackChannel', () => {
  it('posts text and Block Kit blocks to the incoming webhook, which answers 200 ok', async () => {
    const slack = await receiver({ status: 200, body: 'ok' });
    const channel = createSlackChannel('ops', { type: 'slack', webhook_url: `${slack.url}${hookPath}` });
    expect(await channel.send(alert)).toEqual({ ok: true, status: 200 });

    const [request] = slack.requests as [RecordedRequest];
    expect(request.path).toBe(hookPath);
    expect(request.headers['content-type']).toBe('application/json');
    const message = JSON.parse(request.body);
    expect(message.text).toBe('[HIGH] Budget exceeded: tenant day $52.10 of $50.00 (104%) (tenant acme) · 2 similar alerts suppressed');
    expect(message.blocks.map((block: { type: string }) => block.type)).toEqual(['header', 'section', 'context']);
    expect(message.blocks[0].text).toEqual({
      type: 'plain_text',
      text: ':rotating_light: Budget exceeded: tenant day $52.10 of $50.00 (104%)',
      emoji: true,
    });
    expect(message.blocks[1].fields).toContainEqual({ type: 'mrkdwn', text: '*Tenant*\nacme' });
    expect(message.blocks[2].elements[0].text).toContain('2 similar alerts suppressed');
  });

  it('escapes event text so it cannot mention @channel or forge links', () => {
    const shouting: PalisadeEvent = {
      ...event,
      type: 'policy.reload_failed',
      version: 'v1',
      error: '<!channel> see <https://evil.example|docs> & more',
    } as PalisadeEvent;
    const message = buildSlackMessage({ ...alert, event: shouting });
    const mrkdwn = JSON.stringify([message.text, message.blocks[1], message.blocks[2]]);
    expect(mrkdwn).not.toContain('<!channel>');
    expect(mrkdwn).not.toContain('<https://evil.example');
    expect(message.text).toContain('&lt;!channel&gt; see &lt;https://evil.example|docs&gt; &amp; more');
  });

  it('keeps every block within the Block Kit limits', () => {
    const long: PalisadeEvent = {
      type: 'audit.failed',
      time: event.time,
      tenantId: 'acme',
      severity: 'CRITICAL',
      message: 'x'.repeat(5000),
    };
    const message = buildSlackMessage({ ...alert, event: long });
    const blocks = message.blocks as { text?: { text: string }; fields?: { text: string }[] }[];
    expect(blocks[0]?.text?.text.length).toBeLessThanOrEqual(150);
    expect(blocks[1]?.fields?.length).toBeLessThanOrEqual(10);
    for (const field of blocks[1]?.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(2000);
  });

  it('passes on Retry-After from a 429 and never names the secret webhook path', async () => {
    const slack = await receiver({ status: 429, headers: { 'retry-after': '30' }, body: 'rate_limited' });
    const result = await createSlackChannel('ops', { type: 'slack', webhook_url: `${slack.url}${hookPath}` }).send(alert);
    expect(result).toMatchObject({ ok: false, retryable: true, status: 429, retryAfterMs: 30_000 });

    const gone = await receiver({ status: 404, body: `no_service ${hookPath}` });
    const missing = await createSlackChannel('ops', { type: 'slack', webhook_url: `${gone.url}${hookPath}` }).send(alert);
    expect(missing).toMatchObject({ ok: false, retryable: false, status: 404 });
    expect(!missing.ok && missing.message).toBe(`slack channel "ops" (${gone.url}): answered 404: "no_service [redacted]"`);
  });
});
