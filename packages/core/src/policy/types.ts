import type { Detection, Family, Severity } from '../types.js';

/** Actions, least to most restrictive. */
export const actions = ['allow', 'log', 'flag', 'redact', 'escalate', 'block'] as const;
export type Action = (typeof actions)[number];

/** Rank of an action: allow 0 … block 5. */
export function actionRank(action: Action): number {
  return actions.indexOf(action);
}

/** The more restrictive of two actions. */
export function mostRestrictive(left: Action, right: Action): Action {
  return actionRank(left) >= actionRank(right) ? left : right;
}

/** Where an event crosses into or out of the agent. */
export const boundaries = ['input', 'output', 'tool_call', 'tool_result'] as const;
export type Boundary = (typeof boundaries)[number];

/**
 * Who an event belongs to. `tenantId` selects the tenant's policies and suppressions;
 * `policyId` is a per-request override of the effective policy.
 */
export interface Scope {
  tenantId?: string;
  appId?: string;
  userId?: string;
  sessionId?: string;
  policyId?: string;
}

/** Where the effective policy came from. */
export type ResolutionSource = 'request' | 'app' | 'tenant' | 'system_default';

/** Preset a policy is built on, or `custom` when it extends none. */
export type PolicyMode = 'monitor' | 'balanced' | 'strict' | 'custom';

/** A policy rule as written in palisade.yaml (after validation). */
export interface PolicyRuleDefinition {
  name: string;
  priority: number;
  action: Action;
  reason?: string;
  match?: RuleMatchDefinition;
}

export interface RuleMatchDefinition {
  boundary?: Boundary | Boundary[];
  tool?: string | string[];
  family?: Family | Family[];
  severity?: Severity | Severity[] | string;
  rule_id?: string | string[];
  min_confidence?: number;
  tags?: string[];
  when?: ConditionDefinition;
}

/**
 * A `when` condition: a map of paths to operators (`args.to: { ends_with: '@acme.com' }`), or
 * `all` / `any` of conditions, or `not` of one. Checked when compiled (see compileCondition).
 */
export type ConditionDefinition = Readonly<Record<string, unknown>>;

/** Operators on one value; a bare scalar means `eq`. */
export type OperatorDefinition = string | number | boolean | null | { [operator: string]: unknown };

/** A suppression of detections for a tenant (optionally one app). */
export interface SuppressionDefinition {
  /** Rule id or glob on rule ids (`pi-*`); a bare `*` is refused. */
  rule: string;
  reason: string;
  app?: string;
  /** ISO date-time after which the suppression no longer applies. */
  expires?: string;
  /** `suppress` removes the detection; `flag` and `log` cap the action it can cause. */
  action?: 'suppress' | 'flag' | 'log';
}

/** A detection a suppression removed or downgraded. */
export interface SuppressedDetection {
  detection: Detection;
  suppression: { rule: string; reason: string; action: 'suppress' | 'flag' | 'log'; app?: string };
}

/** The rule that decided an event. */
export interface DecidingRule {
  /**
   * `budget`: a spending limit blocked the call; `audit`: the audit log could not record it and
   * the configuration fails closed; `approval`: an approved ticket let an escalated call through.
   */
  layer: 'platform' | 'policy' | 'default' | 'resolution' | 'error' | 'budget' | 'audit' | 'approval';
  policyId: string;
  rule: string;
  priority: number;
}

/** What the guard decided about one event: data, never an exception. */
export interface Decision {
  action: Action;
  eventId: string;
  boundary: Boundary;
  tool?: string;
  scope: Scope;
  /** Detections that took part in the decision. */
  detections: Detection[];
  /** Detections a suppression removed (or downgraded: those are also in `detections`). */
  suppressedDetections: SuppressedDetection[];
  decidedBy: DecidingRule;
  reason: string;
  /** The text with redacted spans replaced, when the action is `redact`. */
  redactedText?: string;
  /** The tool arguments or result with redacted strings replaced, when the action is `redact`. */
  redactedArgs?: unknown;
  effectivePolicyId: string;
  effectivePolicyMode: PolicyMode;
  resolutionSource: ResolutionSource;
  /** Hash of the loaded configuration that decided. */
  policyVersion: string;
  /**
   * Typed outcomes such as `tenant_not_found`, `app_not_found`, `policy_not_found`,
   * `evaluation_error`, `budget_exceeded`, `budget_warning`, `audit_unavailable`, `approved`.
   */
  flags: string[];
  diagnostics: {
    /** Every rule that matched, per layer, with the action it asked for. */
    matchedRules: { layer: 'platform' | 'policy'; policyId: string; rule: string; priority: number; action: Action; ruleId?: string }[];
    errors: string[];
  };
  /** The approval ticket of an `escalate` (created when the guard has state), or the ticket that let the call through. */
  approvalId?: string;
  /** Budget state when a limit applies to the scope (input events). */
  budget?: { action: 'allow' | 'warn' | 'block'; scope?: string; period?: string; limitUsd?: number; spentUsd?: number; resetsAt?: string };
  /** Set when a shadow policy ran beside the enforced one. */
  shadow?: { policyId: string; action: Action; decidedBy: DecidingRule; differs: boolean };
  /** Time spent deciding, in milliseconds (scanning included). */
  evaluationMs: number;
}
