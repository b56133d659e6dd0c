import { describe, expect, it } from 'vitest';
import { toMcpOutcome } from './to-mcp-outcome.js';

describe('toMcpOutcome', () => {
  it('puts success in structuredContent and as JSON text, as plain JSON', () => {
    const result = toMcpOutcome({ ok: true, data: { a: 1, gone: undefined, when: new Date(0) } });
    expect(result).toEqual({
      content: [{ type: 'text', text: '{"a":1,"when":"1970-01-01T00:00:00.000Z"}' }],
      structuredContent: { a: 1, when: '1970-01-01T00:00:00.000Z' },
    });
    expect(result.isError).toBeUndefined();
  });

  it('makes a refusal a normal result with isError, the reason as text and the code in _meta', () => {
    expect(toMcpOutcome({ ok: false, code: 'RATE_LIMITED', message: 'Too many calls', detail: { retryAfterMs: 20 } })).toEqual({
      isError: true,
      content: [{ type: 'text', text: 'Too many calls' }],
      _meta: { 'palisade/error': { code: 'RATE_LIMITED', retryAfterMs: 20 } },
    });
  });

  it('keeps the data of a refusal that has some (a refusing decision)', () => {
    const result = toMcpOutcome({ ok: false, code: 'POLICY_BLOCKED', message: 'Blocked by policy: x', data: { action: 'block' } });
    expect(result).toMatchObject({ isError: true, structuredContent: { action: 'block' } });
  });
});
