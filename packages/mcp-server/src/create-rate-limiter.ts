import type { RateLimit } from './api-keys.js';

/** The server's default: 60 calls a second per key, bursts of up to 120. */
export const defaultRateLimit: RateLimit = { perSecond: 60, burst: 120 };

export interface RateLimiterOptions extends Partial<RateLimit> {
  /** Clock in milliseconds. Default `performance.now`-based monotonic time. */
  now?: () => number;
}

export type RateLimitVerdict = { ok: true } | { ok: false; retryAfterMs: number };

export interface RateLimiter {
  /** Takes one token from `key`'s bucket (`limit` overrides the limiter's own for this key). */
  take(key: string, limit?: RateLimit): RateLimitVerdict;
}

/**
 * Token buckets, one per key: a bucket starts full (`burst` tokens) and refills at `perSecond`.
 * A call that finds the bucket empty is refused with the time until the next token.
 *
 * @example
 * const limiter = createRateLimiter({ perSecond: 60, burst: 120 });
 * const verdict = limiter.take('support-bot');
 * if (!verdict.ok) return tooManyCalls(verdict.retryAfterMs);
 */
export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const base: RateLimit = { perSecond: options.perSecond ?? defaultRateLimit.perSecond, burst: options.burst ?? defaultRateLimit.burst };
  const now = options.now ?? (() => performance.now());
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key, limit = base) {
      const time = now();
      const bucket = buckets.get(key) ?? { tokens: limit.burst, at: time };
      bucket.tokens = Math.min(limit.burst, bucket.tokens + ((time - bucket.at) / 1000) * limit.perSecond);
      bucket.at = time;
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / limit.perSecond) * 1000) };
    },
  };
}
