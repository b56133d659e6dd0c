import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createScanner } from '../scanner/create-scanner.js';
import { createMemoryStore } from './memory-store.js';
import { createSealer } from './sealer.js';
import { openSqliteStore } from './sqlite-store.js';
import { createTokenVault } from './token-vault.js';

const scanner = createScanner();
const text = 'Please email bob@example.com and call +1 415 555 0100 about the invoice.';
const pii = scanner.scan(text).detections.filter((detection) => detection.family === 'PII');

describe('createTokenVault', () => {
  it('replaces values with tokens and restores them for the same tenant only', async () => {
    const vault = createTokenVault({ store: createMemoryStore(), sealer: createSealer(randomBytes(32)), tokenKey: randomBytes(32) });
    const { text: tokenized, tokens } = await vault.tokenize('acme', text, pii);
    expect(tokenized).not.toContain('bob@example.com');
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokenized).toMatch(/<PII_EMAIL_\d{12}>/);
    const answer = `I wrote to ${tokens[0]} as asked.`;
    expect(await vault.restore('acme', answer)).toBe('I wrote to bob@example.com as asked.');
    expect(await vault.restore('globex', answer)).toBe(answer);
    expect(await vault.restore('acme', 'nothing to restore <PII_EMAIL_000000000001>')).toBe('nothing to restore <PII_EMAIL_000000000001>');
  });

  it('gives one value one token per tenant, and different tokens across tenants', async () => {
    const vault = createTokenVault({ store: createMemoryStore(), sealer: createSealer(randomBytes(32)), tokenKey: randomBytes(32) });
    const first = await vault.tokenize('acme', text, pii);
    const second = await vault.tokenize('acme', text, pii);
    const other = await vault.tokenize('globex', text, pii);
    expect(second.text).toBe(first.text);
    expect(other.text).not.toBe(first.text);
  });

  it('restores after a restart on SQLite, and never stores the value in clear', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'palisade-vault-'));
    try {
      const key = randomBytes(32);
      const tokenKey = randomBytes(32);
      const path = join(folder, 'state.db');
      const store = openSqliteStore({ path });
      const { tokens } = await createTokenVault({ store, sealer: createSealer(key), tokenKey }).tokenize('acme', text, pii);
      await store.close();
      const { readFileSync } = await import('node:fs');
      expect(readFileSync(path).includes('bob@example.com')).toBe(false);
      const reopened = openSqliteStore({ path });
      const vault = createTokenVault({ store: reopened, sealer: createSealer(key), tokenKey });
      expect(await vault.restore('acme', `to ${tokens[0]}`)).toBe('to bob@example.com');
      await reopened.close();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('stops restoring a token after its time to live', async () => {
    let clock = 0;
    const vault = createTokenVault({
      store: createMemoryStore(),
      sealer: createSealer(randomBytes(32)),
      tokenKey: randomBytes(32),
      ttlMs: 1000,
      now: () => clock,
    });
    const { tokens } = await vault.tokenize('acme', text, pii);
    clock = 1000;
    expect(await vault.restore('acme', tokens[0] as string)).toBe(tokens[0]);
  });
});
