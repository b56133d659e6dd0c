import { canonicalJson } from '../audit/canonical-json.js';
import { type AuditRecord, sha256Hex } from '../audit/seal-receipt.js';
import type { Decision } from '../policy/types.js';
import { redact, redactValue } from '../redact/redact.js';
import type { ApprovalTicket } from '../store/store.js';
import type { Detection } from '../types.js';
import type { GuardEvent } from './decide.js';

/** What a decision receipt keeps of the content: its SHA-256 (default), the redacted text, or nothing. */
export type ReceiptContent = 'hash' | 'redacted' | 'none';

const sensitive = (detection: Detection) => detection.family === 'PII' || detection.family === 'SEC';

/**
 * The audit record of one decision: who, where, what was decided and by which rule, which
 * detections took part, under which policy version, and the content as a hash unless the
 * configuration asks for the redacted text. Never the raw content.
 *
 * @example
 * decisionReceipt(decision, event, 'hash').contentHash // 'sha256:9f86d0…'
 */
export function decisionReceipt(decision: Decision, event: GuardEvent, content: ReceiptContent, time: number): AuditRecord {
  const scope = decision.scope;
  const receipt: AuditRecord = {
    kind: 'decision',
    time: new Date(time).toISOString(),
    eventId: decision.eventId,
    tenantId: scope.tenantId ?? '',
    appId: scope.appId,
    userId: scope.userId,
    sessionId: scope.sessionId,
    boundary: decision.boundary,
    tool: decision.tool,
    action: decision.action,
    rule: `${decision.decidedBy.policyId}/${decision.decidedBy.rule}`,
    decidedBy: decision.decidedBy,
    reason: decision.reason,
    effectivePolicyId: decision.effectivePolicyId,
    resolutionSource: decision.resolutionSource,
    policyVersion: decision.policyVersion,
    detections: decision.detections.map((detection) => ({
      ruleId: detection.ruleId,
      family: detection.family,
      severity: detection.severity,
    })),
    suppressed: decision.suppressedDetections.length > 0 ? decision.suppressedDetections.map((item) => item.detection.ruleId) : undefined,
    flags: decision.flags.length > 0 ? decision.flags : undefined,
    approvalId: decision.approvalId,
    shadow: decision.shadow ? { policyId: decision.shadow.policyId, action: decision.shadow.action } : undefined,
  };
  const payload = event.text ?? event.args ?? event.result;
  if (payload !== undefined && content !== 'none') {
    if (content === 'hash') {
      receipt.contentHash = `sha256:${sha256Hex(typeof payload === 'string' ? payload : canonicalJson(payload))}`;
    } else {
      const shown = decision.detections.filter(sensitive);
      receipt.content = typeof payload === 'string' ? redact(payload, shown).text : redactValue(payload, shown);
    }
  }
  return receipt;
}

/** The audit record of an approval ticket's transition (requested, vote, approved, denied, expired). */
export function approvalReceipt(kind: string, ticket: ApprovalTicket, extra: Record<string, unknown>, time: number): AuditRecord {
  return {
    kind,
    time: new Date(time).toISOString(),
    eventId: ticket.eventId,
    tenantId: ticket.tenantId,
    appId: ticket.appId,
    userId: ticket.userId,
    boundary: ticket.boundary,
    tool: ticket.tool,
    approvalId: ticket.id,
    status: ticket.status,
    rule: ticket.rule,
    policyVersion: ticket.policyVersion,
    argsHash: ticket.argsHash,
    ...extra,
  };
}
