import { type Decision, DecisionBlockedError } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { toAiSdkOutcome } from './to-ai-sdk-outcome.js';

const decision = (overrides: Partial<Decision>): Decision => ({
  action: 'allow',
  eventId: 'evt-1',
  boundary: 'tool_call',
  tool: 'email.send',
  scope: { tenantId: 'acme' },
  detections: [],
  suppressedDetections: [],
  decidedBy: { layer: 'policy', policyId: 'support', rule: 'a rule', priority: 50 },
  reason: 'Because',
  effectivePolicyId: 'support',
  effectivePolicyMode: 'custom',
  resolutionSource: 'tenant',
  policyVersion: 'v1',
  flags: [],
  diagnostics: { matchedRules: [], errors: [] },
  evaluationMs: 0,
  ...overrides,
});

describe('toAiSdkOutcome', () => {
  it.each(['allow', 'log', 'flag'] as const)('lets %s through', (action) => {
    expect(toAiSdkOutcome(decision({ action }), { canEscalate: false }).type).toBe('continue');
  });

  it('rewrites with the redacted text, or else the redacted value', () => {
    expect(toAiSdkOutcome(decision({ action: 'redact', redactedText: 'mail [REDACTED:EMAIL]' }), { canEscalate: false })).toMatchObject({
      type: 'rewrite',
      text: 'mail [REDACTED:EMAIL]',
    });
    expect(toAiSdkOutcome(decision({ action: 'redact', redactedArgs: { to: '[REDACTED:EMAIL]' } }), { canEscalate: false })).toMatchObject({
      type: 'rewrite',
      value: { to: '[REDACTED:EMAIL]' },
    });
  });

  it('refuses a redaction that carries no redacted content (fail closed)', () => {
    const outcome = toAiSdkOutcome(decision({ action: 'redact' }), { canEscalate: false });
    expect(outcome.type).toBe('refuse');
    expect(outcome.type === 'refuse' && outcome.error.message).toMatch(/no redacted content/);
  });

  it('holds an escalation for approval only where the seam can wait and a ticket exists', () => {
    expect(toAiSdkOutcome(decision({ action: 'escalate', approvalId: 'apr_1' }), { canEscalate: true })).toMatchObject({
      type: 'approval',
      approvalId: 'apr_1',
    });
    const cannotWait = toAiSdkOutcome(decision({ action: 'escalate', approvalId: 'apr_1' }), { canEscalate: false });
    expect(cannotWait.type === 'refuse' && cannotWait.error.message).toMatch(/ticket apr_1.*cannot be held for approval/);
    const noTicket = toAiSdkOutcome(decision({ action: 'escalate' }), { canEscalate: true });
    expect(noTicket.type === 'refuse' && noTicket.error.message).toMatch(/keeps no state/);
  });

  it('refuses a block with a DecisionBlockedError that carries the decision', () => {
    const blocked = decision({ action: 'block', reason: 'Shell execution is disabled' });
    const outcome = toAiSdkOutcome(blocked, { canEscalate: true });
    expect(outcome.type).toBe('refuse');
    if (outcome.type !== 'refuse') return;
    expect(DecisionBlockedError.isInstance(outcome.error)).toBe(true);
    expect(outcome.error).toMatchObject({ code: 'DECISION_BLOCKED', decision: blocked, boundary: 'tool_call' });
    expect(outcome.error.message).toContain('Shell execution is disabled');
  });
});
