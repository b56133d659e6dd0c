import { createGuard } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { buildProxyDecision } from './proxy-decision.js';
import { toMcpProxyOutcome } from './to-mcp-proxy-outcome.js';

const guard = createGuard({ config: { tenants: { acme: { default_policy: 'balanced' } } } });
const event = { boundary: 'tool_call' as const, tool: 'send_email', args: { to: 'eve@example.com' }, scope: { tenantId: 'acme' } };

describe('toMcpProxyOutcome', () => {
  it('turns a refusal into an isError result the model can read, with the code, event and rule in _meta', () => {
    const decision = buildProxyDecision({
      guard,
      event,
      action: 'block',
      rule: 'uncovered_tool',
      reason: 'No policy rule covers tool send_email',
    });
    const result = toMcpProxyOutcome({ decision, code: 'POLICY_BLOCKED' });
    expect(result).toEqual({
      isError: true,
      content: [
        {
          type: 'text',
          text: `Palisade blocked this call to send_email: No policy rule covers tool send_email (rule mcp-proxy/uncovered_tool, event ${decision.eventId}).`,
        },
      ],
      _meta: { 'palisade/error': { code: 'POLICY_BLOCKED', eventId: decision.eventId, rule: 'mcp-proxy/uncovered_tool' } },
    });
    expect(decision).toMatchObject({
      effectivePolicyId: 'balanced',
      resolutionSource: 'tenant',
      flags: ['mcp_proxy'],
      decidedBy: { layer: 'default' },
    });
  });

  it('names the ticket of a call held for approval, and says a withheld result ran', () => {
    const held = buildProxyDecision({
      guard,
      event,
      action: 'escalate',
      rule: 'uncovered_tool',
      reason: 'needs approval',
      approvalId: 'apr_7',
    });
    const pending = toMcpProxyOutcome({ decision: held, code: 'APPROVAL_REQUIRED' });
    expect(pending.content[0]).toMatchObject({ text: expect.stringContaining('Ticket apr_7 was not decided in time') });
    expect(pending._meta?.['palisade/error']).toMatchObject({ code: 'APPROVAL_REQUIRED', approvalId: 'apr_7' });
    const withheld = buildProxyDecision({
      guard,
      event: { ...event, boundary: 'tool_result' },
      action: 'block',
      rule: 'invalid_output',
      reason: 'bad output',
    });
    expect(toMcpProxyOutcome({ decision: withheld, code: 'INVALID_OUTPUT' }).content[0]).toMatchObject({
      text: expect.stringContaining('The tool ran; its output was not passed on'),
    });
  });
});
