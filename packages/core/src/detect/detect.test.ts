import { describe, expect, it } from 'vitest';
import { KeywordAutomaton } from './keyword-automaton.js';
import { iban, keywordInContext, luhn, minimumEntropy, shannonEntropy } from './validators.js';

const at = (value: string) => ({ value, view: value, start: 0, end: value.length });

describe('KeywordAutomaton', () => {
  it('marks every keyword present, including overlapping and suffix keywords', () => {
    const automaton = new KeywordAutomaton(
      new Map([
        ['he', [0]],
        ['she', [1]],
        ['hers', [2]],
        ['ignore', [3]],
      ]),
    );
    const hits = new Uint8Array(4);
    automaton.markMatches('ushers', hits);
    expect([...hits]).toEqual([1, 1, 1, 0]);
  });

  it('agrees with indexOf on every keyword (differential)', () => {
    const keywords = ['ab', 'abc', 'bca', 'cab', 'aaa', 'ba'];
    const automaton = new KeywordAutomaton(new Map(keywords.map((keyword, index) => [keyword, [index]])));
    let seed = 7;
    for (let round = 0; round < 500; round++) {
      let text = '';
      for (let index = 0; index < 12; index++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        text += 'abcé'[seed % 4];
      }
      const hits = new Uint8Array(keywords.length);
      automaton.markMatches(text, hits);
      expect([...hits], text).toEqual(keywords.map((keyword) => (text.includes(keyword) ? 1 : 0)));
    }
  });
});

describe('validators', () => {
  it('luhn accepts valid card numbers with separators and rejects the rest', () => {
    expect(luhn(at('4111 1111 1111 1111'))).toBe(true);
    expect(luhn(at('5500-0000-0000-0004'))).toBe(true);
    expect(luhn(at('4111 1111 1111 1112'))).toBe(false);
    expect(luhn(at('1234'))).toBe(false);
  });

  it('iban checks the mod-97 checksum', () => {
    expect(iban(at('GB82 WEST 1234 5698 7654 32'))).toBe(true);
    expect(iban(at('DE89370400440532013000'))).toBe(true);
    expect(iban(at('GB82 WEST 1234 5698 7654 33'))).toBe(false);
    expect(iban(at('not an iban'))).toBe(false);
  });

  it('entropy separates random tokens from words', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(minimumEntropy(3.5)(at('hY7#kQ2!pZ9@wX4$'))).toBe(true);
    expect(minimumEntropy(3.5)(at('passwordpassword'))).toBe(false);
  });

  it('keyword-in-context looks around the match only', () => {
    const view = 'my social security number is 078-05-1120 thanks';
    const start = view.indexOf('078');
    const validator = keywordInContext(['social security'], 40);
    expect(validator({ value: '078-05-1120', view, start, end: start + 11 })).toBe(true);
    expect(keywordInContext(['ssn'], 20)({ value: '078-05-1120', view, start, end: start + 11 })).toBe(false);
  });
});
