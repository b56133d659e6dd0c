import type { Action, Decision } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { type RewriteKind, toLangChainOutcome } from './to-langchain-outcome.js';

const decision = (action: Action, extra: Partial<Decision> = {}): Decision => ({
  action,
  eventId: 'evt_1',
  boundary: 'tool_call',
  tool: 'email.send',
  scope: { tenantId: 'acme' },
  detections: [],
  suppressedDetections: [],
  decidedBy: { layer: 'policy', policyId: 'agent', rule: 'a rule', priority: 50 },
  reason: `decided ${action}`,
  effectivePolicyId: 'agent',
  effectivePolicyMode: 'custom',
  resolutionSource: 'tenant',
  policyVersion: 'v1',
  flags: [],
  diagnostics: { matchedRules: [], errors: [] },
  evaluationMs: 0,
  ...extra,
});

const kind = (action: Action, rewrite: RewriteKind, extra: Partial<Decision> = {}) =>
  toLangChainOutcome(decision(action, extra), { mode: 'enforce', rewrite }).kind;

describe('toLangChainOutcome', () => {
  it('lets allow, log and flag through unchanged', () => {
    expect(['allow', 'log', 'flag'].map((action) => kind(action as Action, 'text'))).toEqual(['proceed', 'proceed', 'proceed']);
  });

  it('refuses a block with the decision reason and asks for approval on an escalation', () => {
    expect(toLangChainOutcome(decision('block'), { mode: 'enforce', rewrite: 'value' })).toMatchObject({
      kind: 'refuse',
      reason: 'decided block',
    });
    expect(kind('escalate', 'value')).toBe('escalate');
  });

  it('rewrites a redaction with the redacted text or value the seam can use', () => {
    expect(
      toLangChainOutcome(decision('redact', { redactedText: 'mail [REDACTED:EMAIL]' }), { mode: 'enforce', rewrite: 'text' }),
    ).toMatchObject({
      kind: 'rewrite',
      replacement: 'mail [REDACTED:EMAIL]',
    });
    expect(
      toLangChainOutcome(decision('redact', { redactedArgs: { to: '[REDACTED:EMAIL]' } }), { mode: 'enforce', rewrite: 'value' }),
    ).toMatchObject({
      kind: 'rewrite',
      replacement: { to: '[REDACTED:EMAIL]' },
    });
  });

  it('refuses a redaction it cannot apply, instead of passing the content on unredacted (fail closed)', () => {
    expect(kind('redact', 'none', { redactedText: 'x' })).toBe('refuse');
    expect(kind('redact', 'text')).toBe('refuse');
    expect(kind('redact', 'text', { redactedArgs: { to: 'x' } })).toBe('refuse');
    expect(kind('redact', 'value')).toBe('refuse');
  });

  it('refuses an action it does not know (fail closed)', () => {
    expect(toLangChainOutcome(decision('quarantine' as Action), { mode: 'enforce', rewrite: 'text' })).toMatchObject({
      kind: 'refuse',
      reason: expect.stringContaining('Unknown action "quarantine"'),
    });
  });

  it('changes nothing in shadow mode, whatever the decision', () => {
    for (const action of ['block', 'escalate', 'redact', 'quarantine'] as Action[])
      expect(toLangChainOutcome(decision(action), { mode: 'shadow', rewrite: 'none' }).kind).toBe('proceed');
  });
});
