import { createHmac, randomBytes } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { type Alerter, createAlerter } from '../alerts/create-alerter.js';
import { type ApprovalOutcome, type ApprovalQueue, type ApprovalWaitResult, createApprovalQueue } from '../approvals/approval-queue.js';
import { type AuditLog, auditLogOptionsFromConfig, openAuditLog } from '../audit/audit-log.js';
import { canonicalJson } from '../audit/canonical-json.js';
import { drainAuditOutbox, openAuditOutbox } from '../audit/open-audit-outbox.js';
import { type AuditVerification, verifyAudit } from '../audit/verify-audit.js';
import {
  type BudgetCheck,
  type BudgetManager,
  type CostSummary,
  type CostSummaryQuery,
  createBudgetManager,
  type ModelUsage,
} from '../budgets/budget-manager.js';
import { type CompiledConfig, compileConfig } from '../config/compile-config.js';
import type { AlertsConfig, AuditConfig } from '../config/config-schema.js';
import { loadConfig } from '../config/load-config.js';
import { AuditLockedError } from '../errors/audit-locked-error.js';
import { PalisadeError } from '../errors/palisade-error.js';
import { createEventBus, type EventBus } from '../events/event-bus.js';
import type { PalisadeEvent } from '../events/events.js';
import type { Action, Decision, PolicyMode, ResolutionSource, Scope } from '../policy/types.js';
import { createScanner, type Scanner, type ScannerOptions } from '../scanner/create-scanner.js';
import { createMemoryStore } from '../store/memory-store.js';
import { createSealer, loadSealKey } from '../store/sealer.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { ApprovalStatus, ApprovalTicket, AuditIndexRow, AuditQuery, Store } from '../store/store.js';
import { createTokenVault, type TokenVault } from '../store/token-vault.js';
import { decide, type GuardEvent } from './decide.js';
import { approvalReceipt, decisionReceipt } from './receipts.js';
import { type ResolutionStep, resolvePolicy } from './resolve-policy.js';
import { decisionSeverity, type StateOptions, stateBase, statePath, stateSections } from './runtime-state.js';

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
  /** Clock, for suppression expiry, tickets, budgets and receipts. Default Date.now. */
  now?: () => number;
  /**
   * Runtime state: approval tickets, budgets, the token vault and the audit log, as the `store:`,
   * `audit:`, `approvals:` and `budgets:` sections say. Default: on when `configPath` is given
   * (under `.palisade/` beside the config file), off otherwise. Off means escalations get no
   * ticket, budgets are not enforced and no receipts are written.
   */
  state?: boolean | StateOptions;
  /** An event bus to publish on (one is created otherwise; see `guard.events`). */
  events?: EventBus;
  /** `fetch` for alert channels (tests). Default: the global one. */
  fetch?: typeof fetch;
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
  /**
   * Decides one event. With state: an input event is checked against the scope's budgets, an
   * escalation gets an approval ticket (`decision.approvalId`), and a receipt is appended to the
   * audit log (behind the decision unless `audit.await_durable`).
   */
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
  /** Decisions, approvals, budgets, reloads and audit health, for subscribers and alert channels. */
  readonly events: EventBus;
  /** The runtime state, or undefined when the guard keeps none. */
  readonly state: GuardState | undefined;

  /** Approves an escalated call (re-checked against the policy serving now). Unknown id: NotFoundError. */
  approve(id: string, options: { tenantId?: string; approver: string; note?: string }): Promise<ApprovalOutcome>;
  deny(id: string, options: { tenantId?: string; approver: string; reason: string }): Promise<ApprovalOutcome>;
  /** Waits until the ticket is decided or expires, or `timeoutMs` passes, or `signal` aborts. */
  waitForApproval(id: string, options?: { tenantId?: string; timeoutMs?: number; signal?: AbortSignal }): Promise<ApprovalWaitResult>;
  getApproval(id: string, options?: { tenantId?: string }): Promise<ApprovalTicket | undefined>;
  listApprovals(options?: {
    tenantId?: string;
    status?: ApprovalStatus | readonly ApprovalStatus[];
    appId?: string;
    limit?: number;
  }): Promise<ApprovalTicket[]>;

  /** Spending limits of a scope: limit, spent, remaining, period and reset of each. */
  checkBudget(scope?: Scope): Promise<BudgetCheck>;
  /** Records tokens a model call used (priced from the price table) against the scope's budgets. */
  recordUsage(usage: ModelUsage, scope?: Scope): Promise<BudgetCheck>;
  costSummary(query: CostSummaryQuery): Promise<CostSummary>;
  readonly budgets: BudgetManager | undefined;

  /** Receipts of one tenant (`tenantId` undefined: every tenant, for operators). */
  queryAudit(query: AuditQuery): Promise<AuditIndexRow[]>;
  /** Walks every audit file and reports the first broken link. */
  verifyAudit(): Promise<AuditVerification>;
  /** Resolves when every receipt so far is durable. */
  flushAudit(): Promise<void>;

  /** Stops watching files and timers, flushes the audit log, closes alert channels and the store. */
  close(): Promise<void>;
}

/** The parts of a guard's runtime state. */
export interface GuardState {
  store: Store;
  approvals: ApprovalQueue;
  budgets: BudgetManager;
  /** Reversible redaction whose tokens restore after a restart (`tokenize`, `restore`). */
  vault: TokenVault;
  audit: AuditLog | undefined;
  /** The `audit:` section the log was opened with (it takes effect at start, not on reload). */
  auditSettings: AuditConfig;
  alerter: Alerter;
  alertSettings: AlertsConfig;
  /** Stops moving other processes' outbox receipts into this process's log. */
  stopOutbox: () => void;
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
    announceReload(result);
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

  const bus = options.events ?? createEventBus();
  const state = openState(
    options,
    () => config,
    bus,
    now,
    (event) => decide(config, scanner, event, now()),
  );

  const announceReload = (result: ReloadResult) => {
    const time = new Date(now()).toISOString();
    bus.emit(
      result.ok
        ? { type: 'policy.reloaded', time, tenantId: '', severity: 'LOW', version: result.version, previousVersion: result.previousVersion }
        : { type: 'policy.reload_failed', time, tenantId: '', severity: 'HIGH', version: result.version, error: result.error.message },
    );
    // Alert channels and routes follow the configuration; store and audit settings take effect at start.
    if (state && result.ok) {
      const alerts = stateSections(config).alerts;
      if (canonicalJson(alerts) !== canonicalJson(state.alertSettings)) {
        const previous = state.alerter;
        state.alerter = createAlerter({ config: alerts, bus, ...(options.fetch ? { fetch: options.fetch } : {}), now });
        state.alertSettings = alerts;
        void previous.close();
      }
    }
  };

  const publish = (decision: Decision) => {
    if (bus.subscriberCount === 0) return;
    bus.emit({
      type: 'decision',
      time: new Date(now()).toISOString(),
      tenantId: decision.scope.tenantId ?? '',
      ...(decision.scope.appId !== undefined ? { appId: decision.scope.appId } : {}),
      severity: decisionSeverity(
        decision.action,
        decision.detections.map((detection) => detection.severity),
      ),
      boundary: decision.boundary,
      action: decision.action,
      decision,
    });
  };

  const evaluate = async (event: GuardEvent): Promise<Decision> => {
    const decision = decide(config, scanner, event, now());
    if (state) await applyState(state, decision, event, now);
    publish(decision);
    return decision;
  };

  const need = (): GuardState => {
    if (state) return state;
    throw new PalisadeError({
      code: 'INVALID_OPTIONS',
      message: 'This guard keeps no runtime state, so it has no approvals, budgets or audit log.',
      hint: 'Create it with `state: true` (or a `configPath`, which turns state on), or pass `state: { store }`.',
    });
  };

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
    events: bus,
    state,
    approve: async (id, { tenantId = '', ...rest }) => need().approvals.approve(id, { tenantId, ...rest }),
    deny: async (id, { tenantId = '', ...rest }) => need().approvals.deny(id, { tenantId, ...rest }),
    waitForApproval: async (id, { tenantId = '', ...rest } = {}) => need().approvals.wait(id, { tenantId, ...rest }),
    getApproval: async (id, { tenantId = '' } = {}) => need().approvals.get(id, { tenantId }),
    listApprovals: async ({ tenantId = '', ...rest } = {}) => need().approvals.list({ tenantId, ...rest }),
    checkBudget: async (scope = {}) => need().budgets.checkBudget(budgetScope(scope)),
    recordUsage: async (usage, scope = {}) => need().budgets.recordUsage(usage, budgetScope(scope)),
    costSummary: async (query) => need().budgets.costSummary(query),
    get budgets() {
      return state?.budgets;
    },
    queryAudit: async (query) => need().store.queryReceipts(query),
    verifyAudit: async () => {
      const audit = need().audit;
      if (!audit)
        throw new PalisadeError({
          code: 'INVALID_OPTIONS',
          message: 'The audit log is off (audit.enabled: false).',
          hint: 'Turn it on in palisade.yaml.',
        });
      await audit.flush();
      return verifyAudit({ directory: audit.directory, index: need().store });
    },
    flushAudit: async () => {
      await state?.audit?.flush();
    },
    async close() {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
      watchers = [];
      if (!state) return;
      state.approvals.close();
      state.budgets.close();
      state.stopOutbox();
      await state.alerter.close();
      await state.audit?.close();
      if (!options.state || typeof options.state !== 'object' || !options.state.store) await state.store.close();
    },
  };
}

const budgetScope = (scope: Scope) => ({
  tenantId: scope.tenantId ?? '',
  ...(scope.appId !== undefined ? { appId: scope.appId } : {}),
  ...(scope.userId !== undefined ? { userId: scope.userId } : {}),
});

/** Opens the store, the audit log, the approval queue, the budget manager and the alert channels. */
function openState(
  options: GuardOptions,
  current: () => CompiledConfig,
  bus: EventBus,
  now: () => number,
  reevaluate: (event: GuardEvent) => Decision,
): GuardState | undefined {
  const wanted = options.state ?? options.configPath !== undefined;
  if (wanted === false) return undefined;
  const stateOptions: StateOptions = typeof wanted === 'object' ? wanted : {};
  const sections = stateSections(current());
  const base = stateBase(stateOptions, options.configPath);
  const emit = (event: PalisadeEvent) => bus.emit(event);
  const store =
    stateOptions.store ??
    (sections.store.kind === 'memory' ? createMemoryStore() : openSqliteStore({ path: statePath(base, sections.store.path) }));
  // A memory store forgets everything at exit, so its seal key need not outlive the process.
  const sealKey =
    store.kind === 'memory' && sections.store.vault_key === undefined
      ? randomBytes(32)
      : loadSealKey({
          ...(sections.store.vault_key !== undefined ? { key: sections.store.vault_key } : {}),
          file: statePath(base, sections.store.vault_key_file),
        });
  const sealer = createSealer(sealKey);
  const vault = createTokenVault({ store, sealer, tokenKey: createHmac('sha256', sealKey).update('palisade token names').digest(), now });
  const auditOn = stateOptions.audit ?? sections.audit.enabled;
  const auditDirectory = statePath(base, sections.audit.directory);
  let audit: AuditLog | undefined;
  let outboxTimer: NodeJS.Timeout | undefined;
  if (auditOn) {
    try {
      audit = openAuditLog({
        ...auditLogOptionsFromConfig(sections.audit),
        directory: auditDirectory,
        index: store,
        onEvent: emit,
        now,
        ...(stateOptions.auditFileSystem ? { fileSystem: stateOptions.auditFileSystem } : {}),
      });
      // Receipts other processes (the CLI approving a ticket) left in the store's outbox.
      const writer = audit;
      let draining = false;
      const drain = () => {
        if (draining) return;
        draining = true;
        void drainAuditOutbox(writer, store)
          .catch(() => undefined)
          .finally(() => {
            draining = false;
          });
      };
      drain();
      outboxTimer = setInterval(drain, 500);
      outboxTimer.unref();
    } catch (error) {
      // Another process writes this log: this one's receipts go through the store's outbox,
      // which only a shared store can carry.
      if (!AuditLockedError.isInstance(error) || store.kind === 'memory') throw error;
      audit = openAuditOutbox({ directory: auditDirectory, store });
    }
  }
  const approvals = createApprovalQueue({
    store,
    sealer,
    config: () => stateSections(current()).approvals,
    reevaluate,
    emit,
    record: (kind, ticket, extra) => {
      audit?.append(approvalReceipt(kind, ticket, extra, now()));
    },
    now,
  });
  const budgets = createBudgetManager({ store, getConfig: () => current(), now, emit });
  const alerter = createAlerter({
    config: sections.alerts,
    bus,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    now,
  });
  return {
    store,
    approvals,
    budgets,
    vault,
    audit,
    auditSettings: sections.audit,
    alerter,
    alertSettings: sections.alerts,
    stopOutbox: () => clearInterval(outboxTimer),
  };
}

/**
 * The state effects of a decision, in order: budgets (input events), the approval ticket of an
 * escalation (or redeeming an approved one), then the audit receipt. Mutates `decision`.
 */
async function applyState(state: GuardState, decision: Decision, event: GuardEvent, now: () => number): Promise<void> {
  const scope = decision.scope;
  if (decision.boundary === 'input' && decision.action !== 'block') {
    const check = await state.budgets.checkBudget(budgetScope(scope));
    if (check.limit) {
      const limit = check.limit;
      decision.budget = {
        action: check.action,
        scope: limit.scope,
        period: limit.period,
        limitUsd: limit.limitUsd,
        spentUsd: limit.spentUsd,
        resetsAt: limit.resetsAt,
      };
    }
    if (check.action === 'block') {
      const limit = check.limit;
      decision.action = 'block';
      decision.decidedBy = { layer: 'budget', policyId: decision.effectivePolicyId, rule: 'budget_exceeded', priority: 1001 };
      decision.reason = limit
        ? `Budget exceeded: ${limit.scope} ${limit.period} limit of $${limit.limitUsd.toFixed(2)} reached ($${limit.spentUsd.toFixed(2)} spent); resets ${limit.resetsAt}`
        : 'Budget exceeded';
      decision.flags = [...decision.flags, 'budget_exceeded'];
      delete decision.redactedText;
    } else if (check.action === 'warn') {
      decision.flags = [...decision.flags, 'budget_warning'];
    }
  }
  if (decision.action === 'escalate') {
    if (event.approvalId !== undefined && (await state.approvals.redeem(event.approvalId, scope.tenantId ?? '', event))) {
      decision.action = 'allow';
      decision.approvalId = event.approvalId;
      decision.decidedBy = { layer: 'approval', policyId: decision.effectivePolicyId, rule: 'approved', priority: 1001 };
      decision.reason = `Approved (ticket ${event.approvalId})`;
      decision.flags = [...decision.flags, 'approved'];
    } else {
      decision.approvalId = (await state.approvals.request(decision, event)).id;
    }
  }
  const audit = state.audit;
  if (!audit) return;
  const config = state.auditSettings;
  // INVARIANT (fail closed): while the audit log cannot write, a guard configured to fail closed
  // lets nothing through that it could not record.
  if (!audit.healthy && config.on_failure === 'fail_closed' && decision.action !== 'block') {
    decision.action = 'block';
    decision.decidedBy = { layer: 'audit', policyId: decision.effectivePolicyId, rule: 'audit_unavailable', priority: 1001 };
    decision.reason = 'The audit log cannot be written; blocked (fail closed)';
    decision.flags = [...decision.flags, 'audit_unavailable'];
    delete decision.redactedText;
    delete decision.redactedArgs;
  }
  const appended = audit.append(decisionReceipt(decision, event, config.content, now()));
  if (config.on_failure !== 'drop' && audit.stats().pending >= config.max_pending) await audit.waitForCapacity();
  if (config.await_durable) await appended.durable;
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
