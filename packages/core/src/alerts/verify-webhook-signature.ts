import { createHmac, timingSafeEqual } from 'node:crypto';

export interface VerifyWebhookSignatureOptions {
  /** The channel's `secret`. */
  secret: string;
  /** The `X-Palisade-Timestamp` header (Unix seconds). */
  timestamp: string | null | undefined;
  /** The raw request body, exactly as received (not re-serialised JSON). */
  body: string | Uint8Array;
  /** The `X-Palisade-Signature` header, `sha256=<hex>`. */
  signature: string | null | undefined;
  /** How far the timestamp may be from `now`, either way. Default 5 minutes. */
  toleranceMs?: number;
  /** Default: Date.now(). */
  now?: number;
}

/**
 * Checks a Palisade webhook delivery: the signature must be the HMAC-SHA256 of
 * `<timestamp>.<body>` with the shared secret, and the timestamp within `toleranceMs` of now (so a
 * captured delivery cannot be replayed later). Compares in constant time. Returns false for any
 * missing or malformed input; never throws.
 *
 * @example
 * const ok = verifyWebhookSignature({
 *   secret: process.env.PALISADE_WEBHOOK_SECRET!,
 *   timestamp: request.headers['x-palisade-timestamp'],
 *   signature: request.headers['x-palisade-signature'],
 *   body: rawBody,
 * });
 * if (!ok) return response.writeHead(401).end();
 */
export function verifyWebhookSignature(options: VerifyWebhookSignatureOptions): boolean {
  const { secret, timestamp, body, signature } = options;
  if (typeof secret !== 'string' || secret.length === 0) return false;
  if (typeof timestamp !== 'string' || !/^\d{1,15}$/.test(timestamp)) return false;
  if (typeof signature !== 'string') return false;
  const match = /^sha256=([0-9a-f]{64})$/i.exec(signature.trim());
  if (!match) return false;

  const toleranceMs = options.toleranceMs ?? 5 * 60_000;
  const now = options.now ?? Date.now();
  if (Math.abs(now - Number(timestamp) * 1000) > toleranceMs) return false;

  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
  const given = Buffer.from(match[1] as string, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
