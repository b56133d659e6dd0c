import { createHmac } from 'node:crypto';
import type { Alert, AlertChannel, ChannelConfigOf, ChannelOptions } from './alert-channel.js';
import { alertPayload } from './describe-event.js';
import { type JsonRequest, postJson } from './post-json.js';

export type WebhookChannelConfig = ChannelConfigOf<'webhook'>;

/**
 * The signature of a webhook body: `sha256=` and the hex HMAC-SHA256, keyed with the secret, of
 * `<timestamp>.<body>` (the scheme of Stripe and Slack request signing). Signing the timestamp
 * with the body lets a receiver refuse replays of an old delivery.
 *
 * @example
 * signWebhookPayload({ secret, timestamp: '1767225600', body: '{"id":"…"}' }) // 'sha256=5f0c…'
 */
export function signWebhookPayload({ secret, timestamp, body }: { secret: string; timestamp: string; body: string | Uint8Array }): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

/**
 * The request a generic webhook receives for an alert: a JSON body (see `alertPayload`) and the
 * headers `X-Palisade-Timestamp` (Unix seconds), `X-Palisade-Signature`, `X-Palisade-Delivery`
 * (the alert id, the same on retries) and `X-Palisade-Event`, after the configured headers.
 *
 * INVARIANT: configured headers cannot replace the signature, timestamp, delivery id or content type.
 *
 * @example
 * const { url, headers, body } = buildWebhookRequest(alert, { type: 'webhook', url, secret, headers: {} });
 */
export function buildWebhookRequest(alert: Alert, config: WebhookChannelConfig, now: number = Date.now()): JsonRequest {
  const body = JSON.stringify(alertPayload(alert));
  const timestamp = String(Math.floor(now / 1000));
  const headers = new Headers(config.headers);
  headers.set('content-type', 'application/json');
  headers.set('user-agent', 'palisade-alerts');
  headers.set('x-palisade-event', alert.event.type);
  headers.set('x-palisade-delivery', alert.id);
  headers.set('x-palisade-timestamp', timestamp);
  headers.set('x-palisade-signature', signWebhookPayload({ secret: config.secret, timestamp, body }));
  return { url: config.url, headers: Object.fromEntries(headers), body };
}

/**
 * A channel that POSTs signed JSON to any HTTPS endpoint. Each attempt is signed afresh, so a
 * retry after a long backoff still carries a current timestamp. Receivers check deliveries with
 * `verifyWebhookSignature`.
 *
 * @example
 * const channel = createWebhookChannel('siem', { type: 'webhook', url: 'https://siem.example/palisade', secret, headers: {} });
 * const result = await channel.send({ id: randomUUID(), event, dedupKey: 'siem|decision|acme|', suppressed: 0 });
 */
export function createWebhookChannel(name: string, config: WebhookChannelConfig, options: ChannelOptions = {}): AlertChannel {
  const now = options.now ?? Date.now;
  const label = `webhook channel "${name}" (${new URL(config.url).origin})`;
  const secrets = [config.secret, ...Object.values(config.headers)];
  return {
    name,
    type: 'webhook',
    send: (alert, sendOptions = {}) =>
      postJson(buildWebhookRequest(alert, config, now()), {
        fetch: options.fetch,
        timeoutMs: options.timeoutMs,
        signal: sendOptions.signal,
        label,
        secrets,
      }),
  };
}
