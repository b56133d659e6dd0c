import { describe, expect, it } from 'vitest';
import { matchesAnyGlob } from './glob.js';

describe('matchesAnyGlob', () => {
  it('matches * and ? in tool globs, and nothing else specially', () => {
    expect(matchesAnyGlob(['email.*'], 'email.send')).toBe(true);
    expect(matchesAnyGlob(['email.*'], 'emailXsend')).toBe(false);
    expect(matchesAnyGlob(['db.?et'], 'db.get')).toBe(true);
    expect(matchesAnyGlob(['a+b'], 'a+b')).toBe(true);
    expect(matchesAnyGlob(['*'], 'anything')).toBe(true);
  });

  it('matches when any one of the globs does', () => {
    expect(matchesAnyGlob(['shell', 'email.*'], 'email.send')).toBe(true);
    expect(matchesAnyGlob(['shell', 'email.*'], 'db.get')).toBe(false);
    expect(matchesAnyGlob([], 'shell')).toBe(false);
  });
});
