import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type ConfigIssue, InvalidConfigError } from '@palisade/core';
import { z } from 'zod';

/** What a key may do (see `roleTools`): admin everything, approver decides tickets, viewer reads, scanner scans. */
export const roles = ['admin', 'approver', 'viewer', 'scanner'] as const;
export type Role = (typeof roles)[number];

/** A token bucket: `perSecond` calls refill continuously, up to `burst` at once. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

/**
 * One API key as the keys file holds it: never the key itself, only its SHA-256.
 *
 * @example
 * { id: 'support-bot', hash: 'sha256:9f86d0…', tenant: 'acme', role: 'scanner' }
 */
export interface ApiKeyEntry {
  /** Names the key in audit receipts, approvals (`approver`) and rate limits. */
  id: string;
  /** `sha256:` and 64 lowercase hex digits: `hashApiKey(key)`. */
  hash: string;
  /** The tenant every call made with this key acts for (admin keys may name another). */
  tenant: string;
  role: Role;
  /** Overrides the server's rate limit for this key. */
  rateLimit?: RateLimit;
  /** Policies this key may request as an override (`policy` argument). Admin keys may request any. */
  policies?: string[];
}

const keyPrefix = 'psk_';
const hashPattern = /^sha256:[0-9a-f]{64}$/;

/**
 * The stored form of an API key: `sha256:` and the hex SHA-256 of its UTF-8 bytes. A key is 32
 * random bytes, so one unsalted hash is enough (there is nothing to guess a dictionary from).
 *
 * @example
 * hashApiKey('psk_live_…') // 'sha256:3a7bd3e2…'
 */
export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/**
 * A new random API key (`psk_` and 43 base64url characters: 256 bits) and its stored hash.
 * Show the key once to whoever needs it; put only the hash in the keys file.
 *
 * @example
 * const { key, hash } = generateApiKey();
 */
export function generateApiKey(): { key: string; hash: string } {
  const key = `${keyPrefix}${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashApiKey(key) };
}

const identifier = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:@-]+$/, 'letters, digits and . _ : @ - only');

const rateLimitSchema = z.strictObject({
  perSecond: z.number().positive(),
  burst: z.number().int().min(1),
});

const entrySchema = z.strictObject({
  id: identifier,
  hash: z.string().regex(hashPattern, 'must be "sha256:" and 64 lowercase hex digits (palisade-mcp hash-key prints it)'),
  tenant: z.string().min(1),
  role: z.enum(roles),
  rateLimit: rateLimitSchema.optional(),
  policies: z.array(z.string().min(1)).optional(),
});

const fileSchema = z.union([z.array(z.unknown()), z.strictObject({ keys: z.array(z.unknown()) })]);

/**
 * Validates a keys document: `{ keys: [...] }` or a bare list of entries, as JSON text or parsed.
 * Throws `InvalidConfigError` naming the file and field path of every problem: a plain key where
 * a hash belongs, an unknown role, two entries with the same id or hash.
 *
 * @example
 * const keys = parseApiKeys('{"keys":[{"id":"ops","hash":"sha256:…","tenant":"acme","role":"admin"}]}', 'keys.json');
 */
export function parseApiKeys(document: string | unknown, file = 'keys'): ApiKeyEntry[] {
  let value: unknown = document;
  if (typeof document === 'string') {
    try {
      value = JSON.parse(document);
    } catch (error) {
      throw new InvalidConfigError([{ file, path: '', message: `not valid JSON (${(error as Error).message})` }]);
    }
  }
  const shape = fileSchema.safeParse(value);
  if (!shape.success) {
    throw new InvalidConfigError([{ file, path: '', message: 'expected { "keys": [ … ] } or a list of key entries' }]);
  }
  const items = Array.isArray(shape.data) ? shape.data : shape.data.keys;
  const prefix = Array.isArray(shape.data) ? '' : 'keys.';
  const issues: ConfigIssue[] = [];
  const entries: ApiKeyEntry[] = [];
  const ids = new Map<string, number>();
  const hashes = new Map<string, number>();
  items.forEach((item, index) => {
    const at = `${prefix}${index}`;
    if (item !== null && typeof item === 'object' && 'key' in item) {
      issues.push({ file, path: `${at}.key`, message: 'a keys file holds hashes, never keys: replace "key" with "hash": hashApiKey(key)' });
      return;
    }
    const parsed = entrySchema.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        issues.push({ file, path: [at, ...issue.path.map(String)].join('.'), message: issue.message });
      return;
    }
    const entry = parsed.data as ApiKeyEntry;
    const sameId = ids.get(entry.id);
    if (sameId !== undefined) issues.push({ file, path: `${at}.id`, message: `id "${entry.id}" is also used by entry ${sameId}` });
    const sameHash = hashes.get(entry.hash);
    if (sameHash !== undefined) issues.push({ file, path: `${at}.hash`, message: `the same key is also entry ${sameHash}` });
    ids.set(entry.id, index);
    hashes.set(entry.hash, index);
    entries.push(entry);
  });
  if (issues.length > 0) throw new InvalidConfigError(issues);
  return entries;
}

/**
 * Reads and validates a keys file (JSON, see `parseApiKeys`).
 *
 * @example
 * const keys = loadApiKeys('/etc/palisade/mcp-keys.json');
 */
export function loadApiKeys(path: string): ApiKeyEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidConfigError([{ file: path, path: '', message: `cannot read the keys file (${(error as Error).message})` }]);
  }
  return parseApiKeys(text, path);
}
