import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidConfigError } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey, loadApiKeys, parseApiKeys } from './api-keys.js';

const hash = hashApiKey('psk_test');

describe('hashApiKey', () => {
  it('is sha256: and the hex SHA-256 of the key', () => {
    expect(hashApiKey('')).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('generateApiKey', () => {
  it('makes a 256-bit psk_ key and its hash, different every time', () => {
    const first = generateApiKey();
    expect(first.key).toMatch(/^psk_[A-Za-z0-9_-]{43}$/);
    expect(first.hash).toBe(hashApiKey(first.key));
    expect(generateApiKey().key).not.toBe(first.key);
  });
});

describe('parseApiKeys', () => {
  const entry = { id: 'ops', hash, tenant: 'acme', role: 'admin' };

  it('reads { keys: [...] } and a bare list, as JSON text or data', () => {
    expect(parseApiKeys(JSON.stringify({ keys: [entry] }))).toEqual([entry]);
    expect(parseApiKeys([{ ...entry, rateLimit: { perSecond: 5, burst: 10 }, policies: ['monitor'] }])).toEqual([
      { ...entry, rateLimit: { perSecond: 5, burst: 10 }, policies: ['monitor'] },
    ]);
  });

  it('refuses a plain key where the hash belongs, naming the field', () => {
    const attempt = () => parseApiKeys({ keys: [{ id: 'ops', key: 'psk_secret', tenant: 'acme', role: 'admin' }] }, 'keys.json');
    expect(attempt).toThrow(InvalidConfigError);
    expect(attempt).toThrow(/keys\.json at keys\.0\.key: a keys file holds hashes, never keys/);
  });

  it('lists every bad field: hash format, role, unknown keys, duplicate ids and hashes', () => {
    let error: unknown;
    try {
      parseApiKeys(
        [
          { id: 'a', hash: 'sha256:abc', tenant: 'acme', role: 'admin' },
          { id: 'b', hash, tenant: 'acme', role: 'root' },
          { id: 'c', hash, tenant: 'acme', role: 'viewer', extra: true },
          { id: 'd', hash, tenant: 'acme', role: 'viewer' },
          { id: 'd', hash: hashApiKey('other'), tenant: 'acme', role: 'viewer' },
          { id: 'e', hash, tenant: 'acme', role: 'viewer' },
        ],
        'keys.json',
      );
    } catch (caught) {
      error = caught;
    }
    expect(InvalidConfigError.isInstance(error)).toBe(true);
    const issues = (error as InvalidConfigError).issues.map((issue) => `${issue.path}: ${issue.message}`);
    expect(issues).toEqual([
      expect.stringMatching(/^0\.hash: must be "sha256:" and 64 lowercase hex digits/),
      expect.stringMatching(/^1\.role: /),
      expect.stringMatching(/^2: .*extra/),
      '4.id: id "d" is also used by entry 3',
      '5.hash: the same key is also entry 3',
    ]);
  });

  it('refuses text that is not JSON and a document of the wrong shape', () => {
    expect(() => parseApiKeys('keys:\n  - id: x', 'keys.yaml')).toThrow(/keys\.yaml at \(root\): not valid JSON/);
    expect(() => parseApiKeys({ key: [] })).toThrow(/expected \{ "keys": \[ … \] \} or a list/);
  });
});

describe('loadApiKeys', () => {
  it('reads a file, and names a file it cannot read', () => {
    const directory = mkdtempSync(join(tmpdir(), 'palisade-keys-'));
    const file = join(directory, 'keys.json');
    writeFileSync(file, JSON.stringify({ keys: [{ id: 'ops', hash, tenant: 'acme', role: 'viewer' }] }));
    expect(loadApiKeys(file)).toHaveLength(1);
    expect(() => loadApiKeys(join(directory, 'missing.json'))).toThrow(/missing\.json at \(root\): cannot read the keys file/);
    rmSync(directory, { recursive: true, force: true });
  });
});
