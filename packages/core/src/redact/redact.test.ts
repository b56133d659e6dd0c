import { describe, expect, it } from 'vitest';
import { buildDetection } from '../test/index.js';
import { redact, restoreTokens } from './redact.js';

const email = (start: number, end: number) =>
  buildDetection({ ruleId: 'pii-001', family: 'PII', tags: ['personal.pii.email'], span: { start, end } });
const card = (start: number, end: number) =>
  buildDetection({ ruleId: 'pii-010', family: 'PII', tags: ['personal.financial.card'], span: { start, end } });

describe('redact', () => {
  const text = 'mail bob@example.com or amy@example.org';

  it('replaces spans with labelled placeholders', () => {
    expect(redact(text, [email(5, 20), email(24, 39)]).text).toBe('mail [REDACTED:EMAIL] or [REDACTED:EMAIL]');
  });

  it('merges overlapping spans into one replacement', () => {
    const result = redact('card 4111 1111 1111 1111 end', [card(5, 24), card(10, 24), email(5, 9)]);
    expect(result.text).toBe('card [REDACTED:CARD] end');
    expect(result.spans).toEqual([{ start: 5, end: 24 }]);
  });

  it('tokenises reversibly, one token per distinct value, and restores', () => {
    const input = 'bob@example.com wrote to amy@example.org and bob@example.com';
    const result = redact(input, [email(0, 15), email(25, 40), email(45, 60)], { mode: 'tokenize' });
    expect(result.text).toBe('<PII_EMAIL_1> wrote to <PII_EMAIL_2> and <PII_EMAIL_1>');
    expect(restoreTokens(result.text, result.tokens)).toBe(input);
  });

  it('keeps numbering stable across calls that share a vault', () => {
    const vault = new Map<string, string>();
    redact('bob@example.com', [email(0, 15)], { mode: 'tokenize', vault });
    const second = redact('amy@example.org and bob@example.com', [email(0, 15), email(20, 35)], { mode: 'tokenize', vault });
    expect(second.text).toBe('<PII_EMAIL_2> and <PII_EMAIL_1>');
  });

  it('redacts only what the filter keeps and ignores spans outside the text', () => {
    const result = redact(text, [email(5, 20), card(24, 39), card(90, 99)], {
      filter: (detection) => detection.tags[0] === 'personal.pii.email',
    });
    expect(result.text).toBe('mail [REDACTED:EMAIL] or amy@example.org');
  });
});
