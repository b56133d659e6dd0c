import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyEntry } from './api-keys.js';

/** Checks presented bearer tokens against the configured key hashes. */
export interface KeyRing {
  /** The entry whose hash matches the token, or undefined. */
  verify(token: string): ApiKeyEntry | undefined;
  readonly size: number;
}

/** Longer tokens are refused before hashing: a generated key is 47 characters. */
const maxTokenLength = 512;

/**
 * A key ring over hashed API keys.
 *
 * INVARIANT: the presented token is hashed once and compared with every entry's hash with
 * `timingSafeEqual`, without stopping at a match, so the time taken tells nothing about which
 * entry (or how much of a hash) matched. The token itself is not kept.
 *
 * @example
 * const ring = createKeyRing(loadApiKeys('keys.json'));
 * const entry = ring.verify(bearerToken); // undefined: answer 401
 */
export function createKeyRing(entries: readonly ApiKeyEntry[]): KeyRing {
  const digests = entries.map((entry) => ({ entry, digest: Buffer.from(entry.hash.slice('sha256:'.length), 'hex') }));
  return {
    size: entries.length,
    verify(token) {
      if (token.length === 0 || token.length > maxTokenLength) return undefined;
      const presented = createHash('sha256').update(token, 'utf8').digest();
      let found: ApiKeyEntry | undefined;
      for (const { entry, digest } of digests) {
        if (digest.length === presented.length && timingSafeEqual(digest, presented) && found === undefined) found = entry;
      }
      return found;
    },
  };
}
