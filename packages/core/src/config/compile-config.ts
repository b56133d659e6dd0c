import { type ConfigIssue, InvalidConfigError } from '../errors/invalid-config-error.js';
import { CompiledPolicy, type CompiledPolicyRule, compilePolicyRule, RuleCompileError } from '../policy/compile-policy.js';
import { isPresetName, presetNames, presets } from '../policy/presets.js';
import type { PolicyMode, PolicyRuleDefinition, SuppressionDefinition } from '../policy/types.js';
import type { ConfigFile } from './config-schema.js';
import type { ConfigPath, LoadedConfig } from './load-config.js';

export interface CompiledApp {
  id: string;
  name: string | undefined;
  defaultPolicy: string | undefined;
  shadowPolicy: string | undefined;
}

export interface CompiledSuppression extends SuppressionDefinition {
  action: 'suppress' | 'flag' | 'log';
  /** Expiry in epoch milliseconds, if any. */
  expiresAt: number | undefined;
}

export interface CompiledTenant {
  id: string;
  name: string | undefined;
  defaultPolicy: string | undefined;
  shadowPolicy: string | undefined;
  apps: ReadonlyMap<string, CompiledApp>;
  suppressions: readonly CompiledSuppression[];
}

/** Everything a guard needs to decide, compiled once per (re)load and swapped atomically. */
export interface CompiledConfig {
  version: string;
  files: readonly string[];
  defaults: Required<NonNullable<ConfigFile['defaults']>>;
  platform: CompiledPolicy;
  /** Named policies, presets included. */
  policies: ReadonlyMap<string, CompiledPolicy>;
  tenants: ReadonlyMap<string, CompiledTenant>;
  scanner: NonNullable<ConfigFile['scanner']>;
  raw: ConfigFile;
}

/**
 * Compiles a loaded configuration: resolves `extends` chains (presets included), compiles every
 * rule and condition, checks every policy reference. Throws `InvalidConfigError`.
 */
export function compileConfig(loaded: LoadedConfig): CompiledConfig {
  const { config } = loaded;
  const issues: ConfigIssue[] = [];
  const report = (path: ConfigPath, message: string) => issues.push({ ...loaded.locate(path), path: path.join('.'), message });

  const compileRules = (
    definitions: readonly PolicyRuleDefinition[],
    policyId: string,
    firstOrder: number,
    inherited: boolean,
    path: ConfigPath,
  ) =>
    definitions.flatMap((definition, index) => {
      try {
        return [compilePolicyRule(definition, policyId, firstOrder + index, inherited)];
      } catch (error) {
        if (error instanceof RuleCompileError) {
          report([...path, index, ...error.path.split('.')], error.message);
          return [];
        }
        throw error;
      }
    });

  const policies = new Map<string, CompiledPolicy>();
  for (const name of presetNames) {
    policies.set(name, new CompiledPolicy(name, name, compileRules(presets[name], name, 0, false, ['presets', name]), 'log', 'block'));
  }
  for (const id of Object.keys(config.policies)) {
    if (isPresetName(id)) report(['policies', id], `"${id}" is a preset name; give your policy another id and write extends: ${id}`);
  }

  // Resolve extends chains depth first, detecting cycles.
  const resolving = new Set<string>();
  const resolvePolicy = (id: string, path: ConfigPath): CompiledPolicy | undefined => {
    const existing = policies.get(id);
    if (existing) return existing;
    const definition = config.policies[id];
    if (!definition) return undefined;
    if (resolving.has(id)) {
      report([...path], `policy "${id}" extends itself through ${[...resolving].join(' -> ')}`);
      return undefined;
    }
    resolving.add(id);
    let inherited: readonly CompiledPolicyRule[] = [];
    let mode: PolicyMode = 'custom';
    let parentPolicy: CompiledPolicy | undefined;
    if (definition.extends) {
      const parent = resolvePolicy(definition.extends, ['policies', id, 'extends']);
      if (!parent) {
        if (!config.policies[definition.extends] && !isPresetName(definition.extends)) {
          report(
            ['policies', id, 'extends'],
            `unknown policy "${definition.extends}"; known: ${[...presetNames, ...Object.keys(config.policies)].join(', ')}`,
          );
        }
      } else {
        inherited = parent.rules.map((rule, index) => ({ ...rule, order: index, specificity: rule.specificity % 100 }));
        mode = parent.mode;
        parentPolicy = parent;
      }
    }
    const own = compileRules(definition.rules, id, inherited.length, false, ['policies', id, 'rules']);
    // on_error and default_action are inherited from the parent unless the policy sets them.
    const policy = new CompiledPolicy(
      id,
      mode,
      [...inherited, ...own],
      definition.default_action ?? parentPolicy?.defaultAction ?? 'log',
      definition.on_error ?? parentPolicy?.onError ?? 'block',
    );
    resolving.delete(id);
    policies.set(id, policy);
    return policy;
  };
  for (const id of Object.keys(config.policies)) resolvePolicy(id, ['policies', id]);

  const defaults = {
    policy: config.defaults?.policy ?? 'balanced',
    require_tenant: config.defaults?.require_tenant ?? false,
    on_unknown_tenant: config.defaults?.on_unknown_tenant ?? 'block',
    on_unknown_app: config.defaults?.on_unknown_app ?? 'block',
  } as const;
  const checkReference = (id: string | undefined, path: ConfigPath) => {
    if (id !== undefined && !policies.has(id)) report(path, `unknown policy "${id}"; known: ${[...policies.keys()].join(', ')}`);
  };
  checkReference(defaults.policy, ['defaults', 'policy']);

  const tenants = new Map<string, CompiledTenant>();
  for (const [id, tenant] of Object.entries(config.tenants)) {
    checkReference(tenant.default_policy, ['tenants', id, 'default_policy']);
    checkReference(tenant.shadow_policy, ['tenants', id, 'shadow_policy']);
    const apps = new Map<string, CompiledApp>();
    for (const [appId, app] of Object.entries(tenant.apps)) {
      checkReference(app.default_policy, ['tenants', id, 'apps', appId, 'default_policy']);
      checkReference(app.shadow_policy, ['tenants', id, 'apps', appId, 'shadow_policy']);
      apps.set(appId, { id: appId, name: app.name, defaultPolicy: app.default_policy, shadowPolicy: app.shadow_policy });
    }
    const suppressions = tenant.suppressions.map((suppression, index) => {
      if (suppression.app !== undefined && !apps.has(suppression.app)) {
        report(['tenants', id, 'suppressions', index, 'app'], `tenant "${id}" has no app "${suppression.app}"`);
      }
      return { ...suppression, expiresAt: suppression.expires ? Date.parse(suppression.expires) : undefined };
    });
    tenants.set(id, {
      id,
      name: tenant.name,
      defaultPolicy: tenant.default_policy,
      shadowPolicy: tenant.shadow_policy,
      apps,
      suppressions,
    });
  }

  const platform = new CompiledPolicy(
    'platform',
    'custom',
    compileRules(config.platform?.rules ?? [], 'platform', 0, false, ['platform', 'rules']),
    'allow',
    'block',
  );
  if (issues.length > 0) throw new InvalidConfigError(issues);
  return {
    version: loaded.version,
    files: loaded.files,
    defaults,
    platform,
    policies,
    tenants,
    scanner: config.scanner ?? {},
    raw: config,
  };
}
