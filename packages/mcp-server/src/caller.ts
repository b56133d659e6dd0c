import type { ApiKeyEntry, RateLimit, Role } from './api-keys.js';

/**
 * Who is calling: an API key (HTTP), or the local user (stdio, in-process). Tools never take the
 * caller from their arguments.
 */
export interface Caller {
  /** Key id, or `stdio` / `local`: named in receipts, approvals and rate limits. */
  id: string;
  role: Role;
  /** The tenant the caller acts for; admins may name another per call. */
  tenant?: string;
  transport: 'stdio' | 'http' | 'memory';
  rateLimit?: RateLimit;
  /** Policies a non-admin caller may request as an override. */
  policies?: readonly string[];
}

/**
 * The caller an API key authenticates.
 *
 * @example
 * callerFromKey({ id: 'bot', hash, tenant: 'acme', role: 'scanner' }) // { id: 'bot', role: 'scanner', tenant: 'acme', transport: 'http' }
 */
export function callerFromKey(entry: ApiKeyEntry): Caller {
  return {
    id: entry.id,
    role: entry.role,
    tenant: entry.tenant,
    transport: 'http',
    ...(entry.rateLimit ? { rateLimit: entry.rateLimit } : {}),
    ...(entry.policies ? { policies: entry.policies } : {}),
  };
}

/**
 * The local user of a stdio or in-process server: an admin, optionally with a default tenant.
 *
 * @example
 * localCaller({ tenant: 'acme', transport: 'stdio' }) // { id: 'stdio', role: 'admin', transport: 'stdio', tenant: 'acme' }
 */
export function localCaller(options: { tenant?: string | undefined; transport?: Caller['transport'] } = {}): Caller {
  return {
    id: options.transport === 'stdio' ? 'stdio' : 'local',
    role: 'admin',
    transport: options.transport ?? 'memory',
    ...(options.tenant !== undefined ? { tenant: options.tenant } : {}),
  };
}

/** `'*'` in `query_audit`: every tenant (admins only). */
export const allTenants = '*';

/**
 * The tenant a call acts for.
 *
 * INVARIANT: a caller bound to a tenant (every key but an admin's) acts for that tenant only. A
 * `tenant` argument naming any other tenant is answered "not found", exactly like a tenant that
 * does not exist, so a key learns nothing about other tenants, not even their names.
 *
 * @example
 * resolveTenant(acmeViewer, 'globex') // { ok: false }: answer "not found"
 */
export function resolveTenant(caller: Caller, requested: string | undefined): { ok: true; tenantId: string | undefined } | { ok: false } {
  if (caller.role === 'admin') return { ok: true, tenantId: requested ?? caller.tenant };
  if (requested !== undefined && requested !== caller.tenant) return { ok: false };
  return { ok: true, tenantId: caller.tenant };
}
