import { type CompiledConfig, compileConfig, type Guard, loadConfig, matchesAnyGlob, PalisadeError, type Scope } from '@palisade/core';

/** Whether some policy rule names a tool. */
export interface ToolCoverage {
  /**
   * True when a rule of the platform layer or of the scope's effective policy names the tool in
   * `match.tool` (a glob) and applies to tool calls. Its `when` conditions do not matter: a rule
   * that escalates `send_email` to outside addresses covers internal mail too, which it lets through
   * on purpose.
   */
  covers(tool: string, scope: Scope): boolean;
}

export interface ToolCoverageOptions {
  guard: Guard;
  /** The palisade.yaml the guard was created from (read again when the guard reloads). */
  configPath?: string;
  /** Or the configuration it was created from, as YAML text or an object. */
  config?: string | Record<string, unknown>;
  /** Environment for `${VAR}` in the configuration, as given to the guard. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

type CompiledRule = CompiledConfig['platform']['rules'][number];

/**
 * Tells which tools a rule covers. Core's `guard.explain(scope)` lists the rules that apply to a
 * scope by name but not what they match, and the guard keeps its compiled configuration to itself,
 * so this reads the same configuration again (`configPath` or `config`) and looks the listed rules
 * up in it. Throws `PalisadeError` (`INVALID_OPTIONS`) when that configuration is not the one the
 * guard serves (its version differs): coverage would be guessed.
 *
 * INVARIANT (fail closed): when the guard later serves a configuration this cannot read (a reload
 * of an inline config, or a file changed again since), no tool counts as covered, so every tool
 * gets the proxy's default for uncovered tools rather than a silent allow.
 *
 * @example
 * const coverage = createToolCoverage({ guard, configPath: 'palisade.yaml' });
 * coverage.covers('email.send', { tenantId: 'acme' }); // true when a rule says `tool: "email.*"`
 */
export function createToolCoverage(options: ToolCoverageOptions): ToolCoverage {
  const { guard } = options;
  const read = (): CompiledConfig => {
    const env = options.env ? { env: options.env } : {};
    if (options.config !== undefined) {
      return compileConfig(
        typeof options.config === 'string'
          ? loadConfig({ text: options.config, path: options.configPath ?? 'palisade.yaml', ...env })
          : loadConfig({ object: options.config, ...env }),
      );
    }
    if (options.configPath !== undefined) return compileConfig(loadConfig({ path: options.configPath, ...env }));
    return compileConfig(loadConfig({ object: {} }));
  };
  let compiled = read();
  if (compiled.version !== guard.policyVersion) {
    throw new PalisadeError({
      code: 'INVALID_OPTIONS',
      message: `The configuration given to the proxy (version ${compiled.version}) is not the one the guard serves (version ${guard.policyVersion}), so the proxy cannot tell which tools a rule covers.`,
      hint: 'Pass the proxy the same `configPath` or `config` the guard was created from.',
    });
  }
  const memo = new Map<string, boolean>();

  const current = (): CompiledConfig | undefined => {
    if (compiled.version === guard.policyVersion) return compiled;
    if (options.configPath === undefined || options.config !== undefined) return undefined;
    try {
      const next = read();
      if (next.version !== guard.policyVersion) return undefined;
      compiled = next;
      memo.clear();
      return compiled;
    } catch {
      return undefined;
    }
  };

  return {
    covers(tool, scope) {
      const config = current();
      if (!config) return false;
      const key = `${tool}\u0000${scope.tenantId ?? ''}\u0000${scope.appId ?? ''}\u0000${scope.policyId ?? ''}`;
      const known = memo.get(key);
      if (known !== undefined) return known;
      const explanation = guard.explain(scope);
      let covered = false;
      if (explanation.ok) {
        for (const listed of explanation.rules) {
          const rules: readonly CompiledRule[] =
            listed.layer === 'platform' ? config.platform.rules : (config.policies.get(listed.policyId)?.rules ?? []);
          const rule = rules.find((candidate) => candidate.name === listed.name && candidate.policyId === listed.policyId);
          if (rule && namesTool(rule, tool)) {
            covered = true;
            break;
          }
        }
      }
      if (memo.size >= 10_000) memo.clear();
      memo.set(key, covered);
      return covered;
    },
  };
}

function namesTool(rule: CompiledRule, tool: string): boolean {
  if (!rule.tools) return false;
  if (rule.boundaries && !rule.boundaries.has('tool_call')) return false;
  return matchesAnyGlob(rule.tools, tool);
}
