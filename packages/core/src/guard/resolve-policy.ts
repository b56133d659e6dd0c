import type { CompiledConfig, CompiledTenant } from '../config/compile-config.js';
import type { CompiledPolicy } from '../policy/compile-policy.js';
import type { ResolutionSource, Scope } from '../policy/types.js';

/** The chain from request to system default, as `explain` shows it. */
export interface ResolutionStep {
  level: ResolutionSource;
  policyId: string | undefined;
  /** The step was used (the first one with a policy). */
  chosen: boolean;
}

export type Resolution =
  | {
      ok: true;
      policy: CompiledPolicy;
      source: ResolutionSource;
      tenant: CompiledTenant | undefined;
      shadow: CompiledPolicy | undefined;
      flags: string[];
      chain: ResolutionStep[];
    }
  | { ok: false; reason: string; flags: string[]; chain: ResolutionStep[]; tenant: CompiledTenant | undefined };

/**
 * Finds the effective policy for a scope: request override -> app default -> tenant default ->
 * system default. An unknown tenant, app or policy is never silently replaced: it either fails
 * (the decision blocks) or, where the configuration allows it (`on_unknown_tenant:
 * system_default`, `on_unknown_app: tenant_default`), continues with a flag on the decision.
 */
export function resolvePolicy(config: CompiledConfig, scope: Scope): Resolution {
  const flags: string[] = [];
  const chain: ResolutionStep[] = [];
  const fail = (reason: string, tenant?: CompiledTenant): Resolution => ({ ok: false, reason, flags, chain, tenant });

  let tenant: CompiledTenant | undefined;
  if (scope.tenantId === undefined) {
    if (config.defaults.require_tenant) {
      flags.push('tenant_missing');
      return fail('No tenant given, and the configuration requires one (defaults.require_tenant)');
    }
  } else {
    tenant = config.tenants.get(scope.tenantId);
    if (!tenant) {
      flags.push('tenant_not_found');
      if (config.defaults.on_unknown_tenant === 'block') return fail(`Unknown tenant "${scope.tenantId}"`);
    }
  }
  let app = undefined as ReturnType<CompiledTenant['apps']['get']>;
  if (scope.appId !== undefined && scope.tenantId === undefined) {
    // Apps live under tenants: an app id alone names nothing.
    flags.push('app_not_found');
    if (config.defaults.on_unknown_app === 'block') return fail(`App "${scope.appId}" given without a tenant`);
  }
  if (scope.appId !== undefined && tenant) {
    app = tenant.apps.get(scope.appId);
    if (!app) {
      flags.push('app_not_found');
      if (config.defaults.on_unknown_app === 'block') return fail(`Unknown app "${scope.appId}" for tenant "${tenant.id}"`, tenant);
    }
  }

  const steps: [ResolutionSource, string | undefined][] = [
    ['request', scope.policyId],
    ['app', app?.defaultPolicy],
    ['tenant', tenant?.defaultPolicy],
    ['system_default', config.defaults.policy],
  ];
  let chosen: { source: ResolutionSource; policy: CompiledPolicy } | undefined;
  for (const [level, policyId] of steps) {
    const isChosen = chosen === undefined && policyId !== undefined;
    chain.push({ level, policyId, chosen: isChosen });
    if (!isChosen) continue;
    const policy = config.policies.get(policyId as string);
    if (!policy) {
      // Only a request can name a policy the configuration does not define (the rest is checked at load).
      flags.push('policy_not_found');
      return fail(`Unknown policy "${policyId}" requested`, tenant);
    }
    chosen = { source: level, policy };
  }
  if (!chosen) return fail('No policy resolved', tenant);
  const shadowId = app?.shadowPolicy ?? tenant?.shadowPolicy;
  const shadow = shadowId !== undefined ? config.policies.get(shadowId) : undefined;
  return { ok: true, policy: chosen.policy, source: chosen.source, tenant, shadow, flags, chain };
}
