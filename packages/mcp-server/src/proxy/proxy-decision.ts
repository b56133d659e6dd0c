import { randomUUID } from 'node:crypto';
import type { Action, DecidingRule, Decision, Detection, Guard, GuardEvent } from '@palisade/core';
import { decisionReceipt } from '@palisade/core';

/** The policy id proxy-made decisions name in `decidedBy.policyId` (and receipts in `rule`). */
export const proxyPolicyId = 'mcp-proxy';

/**
 * Rules the proxy itself applies, before or after the guard's policy:
 * - `rate_limited`: the session's token bucket is empty.
 * - `unknown_tool`: the upstream did not list the tool.
 * - `tool_definition_changed`, `tool_poisoned`: the tool is held until its definition is approved.
 * - `tool_pinned`: a definition was pinned (first sight, or approved).
 * - `invalid_arguments`, `invalid_output`: a value does not match the tool's schema.
 * - `uncovered_tool`: no rule names the tool; the proxy's default applies.
 * - `approved`, `approval_denied`, `approval_expired`, `approval_timeout`, `approval_aborted`,
 *   `no_approval_queue`: how an escalation ended.
 */
export type ProxyRule =
  | 'rate_limited'
  | 'unknown_tool'
  | 'tool_definition_changed'
  | 'tool_poisoned'
  | 'tool_pinned'
  | 'invalid_arguments'
  | 'invalid_output'
  | 'uncovered_tool'
  | 'approved'
  | 'approval_denied'
  | 'approval_expired'
  | 'approval_timeout'
  | 'approval_aborted'
  | 'no_approval_queue';

export interface ProxyDecisionInput {
  guard: Guard;
  event: GuardEvent;
  action: Action;
  rule: ProxyRule;
  reason: string;
  /** The guard's decision this one follows (same event id, detections and attribution). */
  base?: Decision;
  layer?: DecidingRule['layer'];
  approvalId?: string;
  detections?: Detection[];
}

/**
 * A decision the proxy makes itself, in core's `Decision` shape, so it is recorded, published and
 * shown like any other. It carries the flag `mcp_proxy`; following a guard decision it keeps that
 * decision's event id, detections and policy attribution and drops its redactions.
 *
 * @example
 * buildProxyDecision({ guard, event, action: 'block', rule: 'rate_limited', reason: 'Too many tool calls' }).decidedBy
 * // { layer: 'policy', policyId: 'mcp-proxy', rule: 'rate_limited', priority: 1001 }
 */
export function buildProxyDecision(input: ProxyDecisionInput): Decision {
  const { guard, event, base } = input;
  const scope = event.scope ?? {};
  const decidedBy: DecidingRule = {
    layer: input.layer ?? (input.rule === 'uncovered_tool' ? 'default' : input.rule === 'approved' ? 'approval' : 'policy'),
    policyId: proxyPolicyId,
    rule: input.rule,
    priority: 1001,
  };
  if (base) {
    const decision: Decision = {
      ...base,
      action: input.action,
      decidedBy,
      reason: input.reason,
      detections: input.detections ?? base.detections,
      flags: [...base.flags.filter((flag) => flag !== 'mcp_proxy'), 'mcp_proxy'],
    };
    delete decision.redactedArgs;
    delete decision.redactedText;
    delete decision.approvalId;
    if (input.approvalId !== undefined) decision.approvalId = input.approvalId;
    return decision;
  }
  const explanation = guard.explain(scope);
  const decision: Decision = {
    action: input.action,
    eventId: event.eventId ?? randomUUID(),
    boundary: event.boundary,
    scope,
    detections: input.detections ?? [],
    suppressedDetections: [],
    decidedBy,
    reason: input.reason,
    effectivePolicyId: explanation.effectivePolicyId ?? '',
    effectivePolicyMode: explanation.effectivePolicyMode ?? 'custom',
    resolutionSource: explanation.resolutionSource ?? 'system_default',
    policyVersion: guard.policyVersion,
    flags: ['mcp_proxy'],
    diagnostics: { matchedRules: [], errors: [] },
    evaluationMs: 0,
  };
  if (event.tool !== undefined) decision.tool = event.tool;
  if (input.approvalId !== undefined) decision.approvalId = input.approvalId;
  return decision;
}

/**
 * Writes a proxy decision's receipt to the guard's audit log (when it keeps one) and publishes it
 * on the guard's event bus, as the guard does for its own decisions. Returns the decision that
 * stands.
 *
 * INVARIANT (fail closed, as core): while the audit log cannot write and the configuration says
 * `audit.on_failure: fail_closed`, a decision that would let something through becomes `block`.
 */
export function recordProxyDecision(guard: Guard, decision: Decision, event: GuardEvent, now: number): Decision {
  const state = guard.state;
  let recorded = decision;
  const audit = state?.audit;
  if (state && audit) {
    if (!audit.healthy && state.auditSettings.on_failure === 'fail_closed' && decision.action !== 'block') {
      recorded = {
        ...decision,
        action: 'block',
        decidedBy: { layer: 'audit', policyId: decision.effectivePolicyId, rule: 'audit_unavailable', priority: 1001 },
        reason: 'The audit log cannot be written; blocked (fail closed)',
        flags: [...decision.flags, 'audit_unavailable'],
      };
    }
    audit.append(decisionReceipt(recorded, event, state.auditSettings.content, now));
  }
  if (guard.events.subscriberCount > 0) {
    guard.events.emit({
      type: 'decision',
      time: new Date(now).toISOString(),
      tenantId: recorded.scope.tenantId ?? '',
      ...(recorded.scope.appId !== undefined ? { appId: recorded.scope.appId } : {}),
      severity: severityOf(recorded),
      boundary: recorded.boundary,
      action: recorded.action,
      decision: recorded,
    });
  }
  return recorded;
}

const severityOrder = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;

function severityOf(decision: Decision): (typeof severityOrder)[number] {
  let top = -1;
  for (const detection of decision.detections) top = Math.max(top, severityOrder.indexOf(detection.severity));
  if (top >= 0) return severityOrder[top] ?? 'LOW';
  return decision.action === 'block' ? 'HIGH' : decision.action === 'escalate' ? 'MEDIUM' : 'LOW';
}
