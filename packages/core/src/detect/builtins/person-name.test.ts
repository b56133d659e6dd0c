import { describe, expect, it } from 'vitest';
import { detectPersonNames } from './person-name.js';

const spans = (text: string) => detectPersonNames(text).map(({ start, end }) => text.slice(start, end));

describe('detectPersonNames', () => {
  it('finds a known given name followed by a capitalised surname', () => {
    expect(spans('Please add Katarzyna Wiśniewska as a second account holder.')).toEqual(['Katarzyna Wiśniewska']);
  });

  it('accepts a middle initial and reports offsets into the view', () => {
    const text = 'Signed: Oskar K. Brenner, 3 May';
    const [hit] = detectPersonNames(text);
    expect(hit).toBeDefined();
    expect(text.slice(hit!.start, hit!.end)).toBe('Oskar K. Brenner');
    expect(hit!.confidence).toBeGreaterThan(0.5);
  });

  it('finds an unknown given name before a known family name', () => {
    expect(spans('The parcel is for Ottilie Kowalski.')).toEqual(['Ottilie Kowalski']);
  });

  it('finds lower-case names only when both parts are known', () => {
    expect(spans('i spoke with piotr kowalski yesterday')).toEqual(['piotr kowalski']);
    expect(spans('we will mark this as done')).toEqual([]);
  });

  it('ignores capitalised phrases that are not names', () => {
    expect(spans('The Golden Gate Bridge opened in 1937.')).toEqual([]);
    expect(spans('Click Save Changes to continue.')).toEqual([]);
    expect(spans('CAN I SPEAK TO A REAL PERSON?')).toEqual([]);
    expect(spans('Hi David, your invoice is ready.')).toEqual([]);
  });

  it('does not read months or street words as surnames', () => {
    expect(spans('Maria Street is closed until May.')).toEqual([]);
  });

  it('runs in linear time on long inputs', () => {
    const text = 'Anna Kowalski and '.repeat(20000);
    const started = performance.now();
    const found = detectPersonNames(text);
    expect(found.length).toBe(20000);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
