import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './create-rate-limiter.js';

describe('createRateLimiter', () => {
  it('lets a burst through, then refuses with the time until the next token, then refills', () => {
    let time = 0;
    const limiter = createRateLimiter({ perSecond: 10, burst: 3, now: () => time });
    expect([limiter.take('k'), limiter.take('k'), limiter.take('k')].every((verdict) => verdict.ok)).toBe(true);
    expect(limiter.take('k')).toEqual({ ok: false, retryAfterMs: 100 });
    time += 50;
    expect(limiter.take('k')).toEqual({ ok: false, retryAfterMs: 50 });
    time += 50;
    expect(limiter.take('k')).toEqual({ ok: true });
    time += 10_000;
    // Refills up to the burst, never beyond.
    expect([1, 2, 3, 4].map(() => limiter.take('k').ok)).toEqual([true, true, true, false]);
  });

  it('keeps one bucket per key and honours a per-key limit', () => {
    const limiter = createRateLimiter({ perSecond: 1, burst: 1, now: () => 0 });
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
    expect(limiter.take('b').ok).toBe(true);
    const generous = { perSecond: 1, burst: 5 };
    expect([1, 2, 3, 4, 5, 6].map(() => limiter.take('c', generous).ok)).toEqual([true, true, true, true, true, false]);
  });

  it('defaults to 60 calls a second in bursts of 120', () => {
    const limiter = createRateLimiter({ now: () => 0 });
    const verdicts = Array.from({ length: 121 }, () => limiter.take('k').ok);
    expect(verdicts.filter(Boolean)).toHaveLength(120);
    expect(limiter.take('k')).toEqual({ ok: false, retryAfterMs: 17 });
  });
});
