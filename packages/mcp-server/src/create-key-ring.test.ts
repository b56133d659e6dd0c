import { describe, expect, it } from 'vitest';
import { type ApiKeyEntry, generateApiKey } from './api-keys.js';
import { createKeyRing } from './create-key-ring.js';

describe('createKeyRing', () => {
  const keys = ['a', 'b', 'c'].map((id) => {
    const { key, hash } = generateApiKey();
    return { key, entry: { id, hash, tenant: `tenant-${id}`, role: 'scanner' } satisfies ApiKeyEntry };
  });
  const ring = createKeyRing(keys.map((item) => item.entry));

  it('finds the entry of each key', () => {
    for (const { key, entry } of keys) expect(ring.verify(key)).toBe(entry);
    expect(ring.size).toBe(3);
  });

  it('finds nothing for a wrong, truncated, empty or oversized token', () => {
    const [first] = keys;
    expect(ring.verify(`${first?.key}x`)).toBeUndefined();
    expect(ring.verify(first?.key.slice(0, -1) ?? '')).toBeUndefined();
    expect(ring.verify('')).toBeUndefined();
    expect(ring.verify('x'.repeat(10_000))).toBeUndefined();
    // The hash itself is not a key.
    expect(ring.verify(first?.entry.hash ?? '')).toBeUndefined();
  });
});
