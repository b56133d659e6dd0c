import { describe, expect, it } from 'vitest';
import { signWebhookPayload } from './create-webhook-channel.js';
import { verifyWebhookSignature } from './verify-webhook-signature.js';

const secret = 'whsec-0123456789abcdef';
const now = 1_767_225_600_000;
const timestamp = String(now / 1000);
const body = '{"id":"a1","type":"decision"}';
const signature = signWebhookPayload({ secret, timestamp, body });

describe('verifyWebhookSignature', () => {
  it('accepts a delivery signed with the shared secret, as text or raw bytes', () => {
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature({ secret, timestamp, body, signature, now })).toBe(true);
    expect(verifyWebhookSignature({ secret, timestamp, body: Buffer.from(body), signature, now })).toBe(true);
  });

  it('rejects a changed body, another secret or a signature over another timestamp', () => {
    expect(verifyWebhookSignature({ secret, timestamp, body: body.replace('decision', 'budget'), signature, now })).toBe(false);
    expect(verifyWebhookSignature({ secret: 'another-secret-0123', timestamp, body, signature, now })).toBe(false);
    expect(verifyWebhookSignature({ secret, timestamp: String(now / 1000 + 1), body, signature, now })).toBe(false);
  });

  it('rejects a timestamp outside the tolerance, in the past or the future', () => {
    expect(verifyWebhookSignature({ secret, timestamp, body, signature, now: now + 5 * 60_000 })).toBe(true);
    expect(verifyWebhookSignature({ secret, timestamp, body, signature, now: now + 5 * 60_000 + 1 })).toBe(false);
    expect(verifyWebhookSignature({ secret, timestamp, body, signature, now: now - 10_000, toleranceMs: 5000 })).toBe(false);
  });

  it('rejects missing or malformed headers without throwing', () => {
    expect(verifyWebhookSignature({ secret, timestamp: undefined, body, signature, now })).toBe(false);
    expect(verifyWebhookSignature({ secret, timestamp: 'yesterday', body, signature, now })).toBe(false);
    expect(verifyWebhookSignature({ secret, timestamp, body, signature: null, now })).toBe(false);
    expect(verifyWebhookSignature({ secret, timestamp, body, signature: signature.slice(7), now })).toBe(false);
    expect(verifyWebhookSignature({ secret, timestamp, body, signature: `${signature}00`, now })).toBe(false);
    expect(verifyWebhookSignature({ secret, timestamp, body, signature: 'sha256=zz', now })).toBe(false);
    expect(verifyWebhookSignature({ secret: '', timestamp, body, signature, now })).toBe(false);
  });
});
