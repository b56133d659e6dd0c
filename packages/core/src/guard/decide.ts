import { randomUUID } from 'node:crypto';
import type { CompiledConfig, CompiledTenant } from '../config/compile-config.js';
import { type CompiledPolicyRule, evaluatePolicyLayer, type LayerResult } from '../policy/compile-policy.js';
import { matchesAnyGlob } from '../policy/glob.js';
import {
  type Action,
  actionRank,
  type Boundary,
  type DecidingRule,
  type Decision,
  mostRestrictive,
  type Scope,
  type SuppressedDetection,
} from '../policy/types.js';
import { redact, redactValue } from '../redact/redact.js';
import type { Scanner } from '../scanner/create-scanner.js';
import type { Detection } from '../types.js';
import { resolvePolicy } from './resolve-policy.js';

/** One thing crossing the agent's boundary. */
export interface GuardEvent {
  boundary: Boundary;
  /** Prompt or model text (input, output), or a tool result given as text. */
  text?: string;
  tool?: string;
  /** Tool arguments (tool_call). */
  args?: unknown;
  /** Tool result (tool_result), text or structured. */
  result?: unknown;
  scope?: Scope;
  /** Detections computed already (skips scanning); tests and callers that scanned themselves. */
  detections?: Detection[];
  eventId?: string;
  /**
   * The approval ticket of an earlier escalation of this very call: when it is approved and the
   * call is the same (tool and arguments), the escalation becomes `allow`, once.
   */
  approvalId?: string;
}

/** Splits detections by the tenant's active suppressions (app-scoped ones only for that app). */
export function applySuppressions(
  tenant: CompiledTenant | undefined,
  appId: string | undefined,
  detections: readonly Detection[],
  now: number,
): { kept: Detection[]; caps: (Action | undefined)[]; suppressed: SuppressedDetection[] } {
  const kept: Detection[] = [];
  const caps: (Action | undefined)[] = [];
  const suppressed: SuppressedDetection[] = [];
  const active = (tenant?.suppressions ?? []).filter(
    (item) => (item.expiresAt === undefined || item.expiresAt > now) && (item.app === undefined || item.app === appId),
  );
  for (const detection of detections) {
    const suppression = active.find((item) => matchesAnyGlob([item.rule], detection.ruleId));
    if (!suppression) {
      kept.push(detection);
      caps.push(undefined);
      continue;
    }
    suppressed.push({
      detection,
      suppression: {
        rule: suppression.rule,
        reason: suppression.reason,
        action: suppression.action,
        ...(suppression.app ? { app: suppression.app } : {}),
      },
    });
    if (suppression.action !== 'suppress') {
      kept.push(detection);
      caps.push(suppression.action);
    }
  }
  return { kept, caps, suppressed };
}

const noRule = (policyId: string): DecidingRule => ({ layer: 'default', policyId, rule: 'no rule matched', priority: -1 });

function decidingRule(layer: 'platform' | 'policy', policyId: string, result: LayerResult): DecidingRule {
  if (!result.winner)
    return { layer: 'default', policyId, rule: result.action === 'allow' ? 'no rule matched' : 'default_action', priority: -1 };
  return { layer, policyId: result.winner.policyId, rule: result.winner.name, priority: result.winner.priority };
}

/**
 * The pipeline after detection: resolve the effective policy, apply suppressions, evaluate the
 * platform layer (on every detection: tenants cannot suppress what the platform enforces) and the
 * effective policy, take the most restrictive outcome, redact if that is the outcome.
 *
 * INVARIANT: never throws. Any failure becomes a blocking decision (or allowing, where the
 * effective policy says `on_error: allow`) with the error in diagnostics: this is the one place
 * Palisade fails closed.
 */
export function decide(config: CompiledConfig, scanner: Scanner, event: GuardEvent, now: number): Decision {
  const started = performance.now();
  const scope = event.scope ?? {};
  const boundary = event.boundary;
  const resolution = resolvePolicy(config, scope);
  // Plain literals, no spreads: object spread with extra keys costs microseconds on Node 20,
  // which is most of a decision's budget.
  const eventId = event.eventId ?? randomUUID();
  const effectivePolicyId = resolution.ok ? resolution.policy.id : '';
  const effectivePolicyMode = resolution.ok ? resolution.policy.mode : 'custom';
  const resolutionSource = resolution.ok ? resolution.source : 'system_default';
  const make = (
    fields: Pick<Decision, 'action' | 'detections' | 'suppressedDetections' | 'decidedBy' | 'reason' | 'flags' | 'diagnostics'>,
  ): Decision => {
    const decision: Decision = {
      action: fields.action,
      eventId,
      boundary,
      scope,
      detections: fields.detections,
      suppressedDetections: fields.suppressedDetections,
      decidedBy: fields.decidedBy,
      reason: fields.reason,
      effectivePolicyId,
      effectivePolicyMode,
      resolutionSource,
      policyVersion: config.version,
      flags: fields.flags,
      diagnostics: fields.diagnostics,
      evaluationMs: 0,
    };
    if (event.tool !== undefined) decision.tool = event.tool;
    return decision;
  };
  let detections: Detection[] = [];
  let suppressed: SuppressedDetection[] = [];
  try {
    detections = event.detections ?? scanEvent(scanner, event);
    const context = {
      tenantId: scope.tenantId,
      appId: scope.appId,
      userId: scope.userId,
      sessionId: scope.sessionId,
      policyId: scope.policyId,
      boundary,
      tool: event.tool,
    };
    const data = { args: event.args, result: event.result, context };
    const platform = evaluatePolicyLayer(config.platform, boundary, event.tool, data, detections);
    const matchedRules: Decision['diagnostics']['matchedRules'] = [];
    for (const { rule, action, detection } of platform.matched) matchedRules.push(matchedRule('platform', rule, action, detection));
    if (!resolution.ok) {
      const refused = make({
        action: 'block',
        detections,
        suppressedDetections: [],
        decidedBy: { layer: 'resolution', policyId: '', rule: resolution.flags[0] ?? 'resolution', priority: 1001 },
        reason: resolution.reason,
        flags: resolution.flags,
        diagnostics: { matchedRules, errors: [] },
      });
      refused.evaluationMs = performance.now() - started;
      return refused;
    }
    const split = applySuppressions(resolution.tenant, scope.appId, detections, now);
    suppressed = split.suppressed;
    const tenantLayer = evaluatePolicyLayer(resolution.policy, boundary, event.tool, data, split.kept, split.caps);
    for (const { rule, action, detection } of tenantLayer.matched) {
      matchedRules.push({
        layer: 'policy',
        policyId: rule.policyId,
        rule: rule.name,
        priority: rule.priority,
        action,
        ...(detection ? { ruleId: detection.ruleId } : {}),
      });
    }
    // INVARIANT: what the platform blocks or escalates, no tenant policy relaxes (the most
    // restrictive outcome wins; on a tie the platform is named).
    const platformDecides = actionRank(platform.action) >= actionRank(tenantLayer.action) && platform.winner !== undefined;
    const action = mostRestrictive(platform.action, tenantLayer.action);
    const decidedBy = platformDecides
      ? decidingRule('platform', 'platform', platform)
      : decidingRule('policy', resolution.policy.id, tenantLayer);
    const winner = platformDecides ? platform.winner : tenantLayer.winner;
    const reason = winner?.reason ?? (action === 'allow' ? 'No rule matched' : `Default action of policy ${resolution.policy.id}`);

    const decision = make({
      action,
      detections: split.kept,
      suppressedDetections: suppressed,
      decidedBy: decidedBy.layer === 'default' && action === 'allow' ? noRule(resolution.policy.id) : decidedBy,
      reason,
      flags: resolution.flags,
      diagnostics: { matchedRules, errors: [] },
    });
    if (action === 'redact') {
      const toRedact = split.kept.filter(
        (_, index) =>
          tenantLayer.perDetection[index] === 'redact' ||
          platform.perDetection[detections.indexOf(split.kept[index] as Detection)] === 'redact',
      );
      if (event.text !== undefined) decision.redactedText = redact(event.text, toRedact).text;
      if (event.args !== undefined) decision.redactedArgs = redactValue(event.args, toRedact);
      else if (event.result !== undefined && event.text === undefined) decision.redactedArgs = redactValue(event.result, toRedact);
    }
    if (resolution.shadow) {
      const shadowLayer = evaluatePolicyLayer(resolution.shadow, boundary, event.tool, data, split.kept, split.caps);
      const shadowAction = mostRestrictive(platform.action, shadowLayer.action);
      decision.shadow = {
        policyId: resolution.shadow.id,
        action: shadowAction,
        decidedBy:
          actionRank(platform.action) >= actionRank(shadowLayer.action) && platform.winner
            ? decidingRule('platform', 'platform', platform)
            : decidingRule('policy', resolution.shadow.id, shadowLayer),
        differs: shadowAction !== action,
      };
    }
    decision.evaluationMs = performance.now() - started;
    return decision;
  } catch (error) {
    const onError = resolution.ok ? resolution.policy.onError : 'block';
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const failed = make({
      action: onError === 'allow' ? 'allow' : 'block',
      detections,
      suppressedDetections: suppressed,
      decidedBy: { layer: 'error', policyId: effectivePolicyId, rule: 'evaluation error', priority: 1001 },
      reason:
        onError === 'allow' ? `Evaluation failed; policy ${effectivePolicyId} allows on error` : 'Evaluation failed; blocked (fail closed)',
      flags: [...resolution.flags, 'evaluation_error'],
      diagnostics: { matchedRules: [], errors: [message] },
    });
    failed.evaluationMs = performance.now() - started;
    return failed;
  }
}

function matchedRule(
  layer: 'platform' | 'policy',
  rule: CompiledPolicyRule,
  action: Action,
  detection: Detection | undefined,
): Decision['diagnostics']['matchedRules'][number] {
  const entry: Decision['diagnostics']['matchedRules'][number] = {
    layer,
    policyId: rule.policyId,
    rule: rule.name,
    priority: rule.priority,
    action,
  };
  if (detection) entry.ruleId = detection.ruleId;
  return entry;
}

function scanEvent(scanner: Scanner, event: GuardEvent): Detection[] {
  if (event.boundary === 'tool_call') return event.args === undefined ? [] : scanner.scan(event.args).detections;
  if (event.boundary === 'tool_result') {
    const payload = event.result ?? event.text;
    return payload === undefined ? [] : scanner.scan(payload).detections;
  }
  return event.text === undefined ? [] : scanner.scan(event.text).detections;
}
