import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreFailedError } from '../errors/store-failed-error.js';

/**
 * Seals small secrets (token-vault values, the original arguments of an escalated call) with
 * AES-256-GCM before they reach the store, so the state file never holds them in clear text.
 * The tenant id is bound as additional data: a value sealed for one tenant does not open for
 * another.
 *
 * @example
 * const sealer = createSealer(loadSealKey({ file: '.palisade/vault.key' }));
 * const sealed = sealer.seal('acme', 'bob@example.com');
 * sealer.open('acme', sealed); // 'bob@example.com'
 */
export interface Sealer {
  seal(tenantId: string, plaintext: string): string;
  /** Throws StoreFailedError when the value was not sealed with this key for this tenant. */
  open(tenantId: string, sealed: string): string;
}

const version = 'v1';

export function createSealer(key: Buffer): Sealer {
  if (key.length !== 32) throw new TypeError('a seal key is 32 bytes');
  return {
    seal(tenantId, plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(tenantId, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `${version}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
    },
    open(tenantId, sealed) {
      const [prefix, payload] = sealed.split('.', 2);
      if (prefix !== version || !payload) throw unreadable('it is not a sealed value');
      const bytes = Buffer.from(payload, 'base64url');
      if (bytes.length < 28) throw unreadable('it is too short');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
        decipher.setAAD(Buffer.from(tenantId, 'utf8'));
        decipher.setAuthTag(bytes.subarray(12, 28));
        return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        throw unreadable('the key or tenant does not match');
      }
    },
  };
}

function unreadable(why: string): StoreFailedError {
  return new StoreFailedError({
    message: `A sealed value could not be opened: ${why}.`,
    hint: 'The seal key (store.vault_key or the key file) must be the one the value was sealed with.',
  });
}

/**
 * The 32-byte seal key: from `key` (base64 or hex, e.g. `${PALISADE_VAULT_KEY}`), else from
 * `file`, which is created with a random key (mode 0600) when it does not exist.
 */
export function loadSealKey({ key, file }: { key?: string; file: string }): Buffer {
  if (key !== undefined) {
    const bytes = /^[0-9a-f]{64}$/i.test(key) ? Buffer.from(key, 'hex') : Buffer.from(key, 'base64');
    if (bytes.length !== 32)
      throw new StoreFailedError({
        message: 'store.vault_key is not a 32-byte key.',
        hint: 'Give 64 hex characters or 44 base64 characters, e.g. from `openssl rand -base64 32`.',
      });
    return bytes;
  }
  try {
    return decodeKeyFile(readFileSync(file, 'utf8'), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dirname(file), { recursive: true });
  const fresh = randomBytes(32);
  try {
    // `wx`: two processes starting together cannot both write a key; the loser reads the winner's.
    const fd = openSync(file, 'wx', 0o600);
    writeSync(fd, `${fresh.toString('base64')}\n`);
    fsyncSync(fd);
    closeSync(fd);
    return fresh;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return decodeKeyFile(readFileSync(file, 'utf8'), file);
    throw new StoreFailedError({
      message: `Cannot create the seal key file ${file}: ${(error as Error).message}.`,
      hint: 'Make its folder writable, or set store.vault_key.',
      cause: error,
    });
  }
}

function decodeKeyFile(text: string, file: string): Buffer {
  const bytes = Buffer.from(text.trim(), 'base64');
  if (bytes.length !== 32)
    throw new StoreFailedError({
      message: `The seal key file ${file} does not hold a 32-byte base64 key.`,
      hint: 'Restore the file from backup; without it sealed values cannot be read.',
    });
  return bytes;
}
