import { type FSWatcher, watch } from 'node:fs';
import { type CompiledConfig, compileConfig } from '../config/compile-config.js';
import { loadConfig } from '../config/load-config.js';
import type { PalisadeError } from '../errors/palisade-error.js';
import type { Action, Decision, PolicyMode, ResolutionSource, Scope } from '../policy/types.js';
import { createScanner, type Scanner, type ScannerOptions } from '../scanner/create-scanner.js';
import { decide, type GuardEvent } from './decide.js';
import { type ResolutionStep, resolvePolicy } from './resolve-policy.js';

export interface GuardOptions {
  /** Path of palisade.yaml; its includes are read relative to it. */
  configPath?: string;
  /** The configuration as YAML text or as an object (instead of a file). */
  config?: string | Record<string, unknown>;
  /** Environment for `${VAR}` interpolation. Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** A scanner to share; by default one is created from the shipped packs and `scanner:` in the config. */
  scanner?: Scanner;
  scannerOptions?: ScannerOptions;
  /** Watch the configuration files and reload on change (only with `configPath`). Default false. */
  watch?: boolean;
  /** Called after every reload attempt, successful or not. */
  onReload?: (result: ReloadResult) => void;
  /** Clock, for suppression expiry. Default Date.now. */
  now?: () => number;
}

export type ReloadResult =
  | { ok: true; version: string; previousVersion: string }
  | { ok: false; version: string; error: PalisadeError | Error };

/** What `explain` says about a scope. */
export interface Explanation {
  scope: Scope;
  ok: boolean;
  reason?: string;
  effectivePolicyId?: string;
  effectivePolicyMode?: PolicyMode;
  resolutionSource?: ResolutionSource;
  chain: ResolutionStep[];
  flags: string[];
  shadowPolicyId?: string;
  /** Platform rules, then the effective policy's rules (inherited first), highest priority first. */
  rules: { layer: 'platform' | 'policy'; policyId: string; name: string; priority: number; action: Action; reason: string }[];
  suppressions: { rule: string; reason: string; action: string; app?: string; expires?: string; active: boolean }[];
  policyVersion: string;
}

/**
 * The facade every adapter uses: evaluates events against the configured policies.
 *
 * @example
 * const guard = createGuard({ configPath: 'palisade.yaml' });
 * const decision = await guard.scanInput('Ignore all previous instructions', { tenantId: 'acme', appId: 'chatbot' });
 * if (decision.action === 'block') throw new Error(decision.reason);
 */
export interface Guard {
  evaluate(event: GuardEvent): Promise<Decision>;
  scanInput(text: string, scope?: Scope): Promise<Decision>;
  scanOutput(text: string, scope?: Scope): Promise<Decision>;
  checkToolCall(call: { tool: string; args: unknown }, scope?: Scope): Promise<Decision>;
  checkToolResult(result: { tool: string; result: unknown }, scope?: Scope): Promise<Decision>;
  /** The resolution chain for a scope and the rules that could apply. */
  explain(scope?: Scope): Explanation;
  /** Reloads the configuration; a failure keeps the last good one serving. */
  reload(): Promise<ReloadResult>;
  /** Hash of the configuration now serving. */
  readonly policyVersion: string;
  readonly scanner: Scanner;
  /** Stops watching files. */
  close(): void;
}

function load(options: GuardOptions): CompiledConfig {
  const env = options.env;
  if (options.config !== undefined) {
    const loaded =
      typeof options.config === 'string'
        ? loadConfig({
            text: options.config,
            ...(options.configPath ? { path: options.configPath } : { path: 'palisade.yaml' }),
            ...(env ? { env } : {}),
          })
        : loadConfig({ object: options.config, ...(env ? { env } : {}) });
    return compileConfig(loaded);
  }
  if (options.configPath) return compileConfig(loadConfig({ path: options.configPath, ...(env ? { env } : {}) }));
  // No configuration: the system default (balanced) for every event.
  return compileConfig(loadConfig({ object: {} }));
}

/**
 * Creates a guard. Throws `InvalidConfigError` when the configuration is invalid (file, line,
 * column and field path of every problem) and `InvalidRulePackError` for a bad rule pack.
 */
export function createGuard(options: GuardOptions = {}): Guard {
  let config = load(options);
  const now = options.now ?? Date.now;
  const scanner =
    options.scanner ??
    createScanner({
      ...(config.scanner.disabled_rules ? { disabledRules: config.scanner.disabled_rules } : {}),
      ...(config.scanner.max_input_length ? { maxInputLength: config.scanner.max_input_length } : {}),
      ...(config.scanner.oversize ? { oversize: config.scanner.oversize } : {}),
      ...options.scannerOptions,
    });

  const reload = async (): Promise<ReloadResult> => {
    const previousVersion = config.version;
    let result: ReloadResult;
    try {
      // INVARIANT: the new configuration is fully loaded and compiled before it replaces the old
      // one in a single assignment, so no decision ever sees half of each.
      const next = load(options);
      config = next;
      result = { ok: true, version: next.version, previousVersion };
    } catch (error) {
      result = { ok: false, version: previousVersion, error: error as Error };
    }
    try {
      options.onReload?.(result);
    } catch {
      // A listener's failure never affects the guard.
    }
    if (result.ok) rewatch();
    return result;
  };

  let watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  const rewatch = () => {
    if (!options.watch || !options.configPath) return;
    for (const watcher of watchers) watcher.close();
    watchers = config.files.map((file) =>
      watch(file, () => {
        clearTimeout(timer);
        timer = setTimeout(() => void reload(), 50);
      }),
    );
  };
  rewatch();

  const evaluate = async (event: GuardEvent) => decide(config, scanner, event, now());
  return {
    evaluate,
    scanInput: (text, scope) => evaluate({ boundary: 'input', text, ...(scope ? { scope } : {}) }),
    scanOutput: (text, scope) => evaluate({ boundary: 'output', text, ...(scope ? { scope } : {}) }),
    checkToolCall: ({ tool, args }, scope) => evaluate({ boundary: 'tool_call', tool, args, ...(scope ? { scope } : {}) }),
    checkToolResult: ({ tool, result }, scope) =>
      evaluate({
        boundary: 'tool_result',
        tool,
        result,
        ...(typeof result === 'string' ? { text: result } : {}),
        ...(scope ? { scope } : {}),
      }),
    explain: (scope = {}) => explain(config, scope, now()),
    reload,
    get policyVersion() {
      return config.version;
    },
    scanner,
    close() {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
      watchers = [];
    },
  };
}

function explain(config: CompiledConfig, scope: Scope, now: number): Explanation {
  const resolution = resolvePolicy(config, scope);
  const rules: Explanation['rules'] = config.platform.rules.map((rule) => ({
    layer: 'platform',
    policyId: 'platform',
    name: rule.name,
    priority: rule.priority,
    action: rule.action,
    reason: rule.reason,
  }));
  if (resolution.ok) {
    for (const rule of resolution.policy.rules)
      rules.push({
        layer: 'policy',
        policyId: rule.policyId,
        name: rule.name,
        priority: rule.priority,
        action: rule.action,
        reason: rule.reason,
      });
  }
  rules.sort((left, right) => right.priority - left.priority);
  const suppressions = (resolution.tenant?.suppressions ?? []).map((item) => ({
    rule: item.rule,
    reason: item.reason,
    action: item.action,
    ...(item.app ? { app: item.app } : {}),
    ...(item.expires ? { expires: item.expires } : {}),
    active: (item.expiresAt === undefined || item.expiresAt > now) && (item.app === undefined || item.app === scope.appId),
  }));
  return {
    scope,
    ok: resolution.ok,
    ...(resolution.ok
      ? {
          effectivePolicyId: resolution.policy.id,
          effectivePolicyMode: resolution.policy.mode,
          resolutionSource: resolution.source,
          ...(resolution.shadow ? { shadowPolicyId: resolution.shadow.id } : {}),
        }
      : { reason: resolution.reason }),
    chain: resolution.chain,
    flags: resolution.flags,
    rules,
    suppressions,
    policyVersion: config.version,
  };
}
