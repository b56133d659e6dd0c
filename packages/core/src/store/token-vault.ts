import { createHmac } from 'node:crypto';
import { redact } from '../redact/redact.js';
import type { Detection } from '../types.js';
import type { Sealer } from './sealer.js';
import type { Store } from './store.js';

export interface TokenVaultOptions {
  store: Store;
  sealer: Sealer;
  /** Key for naming tokens (an HMAC of tenant and value, so one value keeps one token). */
  tokenKey: Buffer;
  /** How long a token can be restored. Default: forever. */
  ttlMs?: number;
  now?: () => number;
}

/**
 * Reversible redaction that survives restarts: `tokenize` replaces detected spans with tokens
 * such as `<PII_EMAIL_483920174455>` and keeps each original value sealed in the store, under the
 * tenant; `restore` puts the values back into text that carries the tokens (a model's answer,
 * say). A token is the same for the same value and tenant, and restores only for that tenant.
 *
 * @example
 * const { text } = await vault.tokenize('acme', 'mail bob@example.com', detections);
 * // 'mail <PII_EMAIL_483920174455>'
 * await vault.restore('acme', 'Sent to <PII_EMAIL_483920174455>'); // 'Sent to bob@example.com'
 */
export interface TokenVault {
  tokenize(tenantId: string, text: string, detections: readonly Detection[]): Promise<{ text: string; tokens: string[] }>;
  /** Replaces the tenant's tokens in `text`; unknown tokens (or another tenant's) stay as they are. */
  restore(tenantId: string, text: string): Promise<string>;
}

const tokenPattern = /<[A-Z]+_[A-Z0-9_]+?_\d+>/g;

export function createTokenVault(options: TokenVaultOptions): TokenVault {
  const now = options.now ?? Date.now;
  const tokenFor = (tenantId: string) => (kind: string, value: string) => {
    const digest = createHmac('sha256', options.tokenKey).update(`${tenantId}\u0000${value}`).digest();
    // 12 decimal digits from 40 bits: collisions inside one tenant's vault are negligible.
    const number = digest.readUIntBE(0, 5) % 1_000_000_000_000;
    return `<${kind}_${String(number).padStart(12, '0')}>`;
  };
  return {
    async tokenize(tenantId, text, detections) {
      const result = redact(text, detections, { mode: 'tokenize', tokenFor: tokenFor(tenantId) });
      const expiresAt = options.ttlMs === undefined ? undefined : now() + options.ttlMs;
      await options.store.putVaultEntries(
        tenantId,
        [...result.tokens].map(([token, value]) => ({
          token,
          sealed: options.sealer.seal(tenantId, value),
          ...(expiresAt !== undefined ? { expiresAt } : {}),
        })),
      );
      return { text: result.text, tokens: [...result.tokens.keys()] };
    },
    async restore(tenantId, text) {
      const tokens = [...new Set(text.match(tokenPattern) ?? [])];
      if (tokens.length === 0) return text;
      const entries = await options.store.getVaultEntries(tenantId, tokens, now());
      const values = new Map(entries.map((entry) => [entry.token, options.sealer.open(tenantId, entry.sealed)]));
      return text.replace(tokenPattern, (token) => values.get(token) ?? token);
    },
  };
}
