import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Decision } from '@palisade/core';

/**
 * Why the proxy refused, as `_meta["palisade/error"].code` says (the codes the governance server
 * uses where they mean the same):
 * - `POLICY_BLOCKED`: a rule (or the default for uncovered tools) blocks the call or its result.
 * - `APPROVAL_REQUIRED`: the call waits for a human; its ticket is in `approvalId`.
 * - `APPROVAL_DENIED`: the ticket was denied or expired.
 * - `TOOL_NOT_APPROVED`: the tool's definition changed since it was approved, or is poisoned.
 * - `NOT_FOUND`: the upstream server did not list the tool.
 * - `RATE_LIMITED`: the session's token bucket is empty; retry after `retryAfterMs`.
 * - `INVALID_INPUT`: the arguments do not match the tool's input schema.
 * - `INVALID_OUTPUT`: the upstream result does not match the tool's output schema.
 */
export type ProxyRefusalCode =
  | 'POLICY_BLOCKED'
  | 'APPROVAL_REQUIRED'
  | 'APPROVAL_DENIED'
  | 'TOOL_NOT_APPROVED'
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'INVALID_INPUT'
  | 'INVALID_OUTPUT';

/** A decision that stops a tool call (`tool_call`) or withholds its result (`tool_result`). */
export interface ProxyRefusal {
  decision: Decision;
  code: ProxyRefusalCode;
  /** Milliseconds until the rate limit lets a call through again. */
  retryAfterMs?: number;
}

/** The `_meta` key of a refusal's code and decision reference. */
export const proxyErrorMetaKey = 'palisade/error';

/**
 * The one place a refusal becomes an MCP `CallToolResult`.
 *
 * INVARIANT: a refusal is a normal result with `isError: true` and the reason in words the model
 * can act on (who decided, the event id, the ticket to approve), never a protocol error, so the
 * agent sees it and the host shows it. A withheld result says the tool did run: its side effects
 * happened, only its output is held back.
 *
 * @example
 * toMcpProxyOutcome({ decision, code: 'POLICY_BLOCKED' })
 * // { isError: true, content: [{ type: 'text', text: 'Palisade blocked this call to delete_file: … (rule acme/no-deletes, event 3f2…).' }],
 * //   _meta: { 'palisade/error': { code: 'POLICY_BLOCKED', eventId: '3f2…', rule: 'acme/no-deletes' } } }
 */
export function toMcpProxyOutcome(refusal: ProxyRefusal): CallToolResult {
  const { decision, code } = refusal;
  const tool = decision.tool ?? 'the tool';
  const rule = `${decision.decidedBy.policyId}/${decision.decidedBy.rule}`;
  const reference = `rule ${rule}, event ${decision.eventId}`;
  let text: string;
  switch (code) {
    case 'APPROVAL_REQUIRED':
      text =
        decision.boundary === 'tool_result'
          ? `Palisade held the result of ${tool} for approval: ${decision.reason}. The tool ran; ${decision.approvalId ? `ticket ${decision.approvalId} was not decided in time, so ` : ''}its output was not passed on (${reference}).`
          : decision.approvalId
            ? `Palisade is holding this call to ${tool} for approval: ${decision.reason}. Ticket ${decision.approvalId} was not decided in time; once an operator approves it, make the same call again (${reference}).`
            : `Palisade requires approval for this call to ${tool}: ${decision.reason}. This proxy has no approval queue, so the call was not made (${reference}).`;
      break;
    case 'RATE_LIMITED':
      text = `Palisade refused this call to ${tool}: too many tool calls in this session; retry in ${Math.ceil((refusal.retryAfterMs ?? 1000) / 1000)} s (${reference}).`;
      break;
    default:
      text =
        decision.boundary === 'tool_result'
          ? `Palisade withheld the result of ${tool}: ${decision.reason}. The tool ran; its output was not passed on (${reference}).`
          : `Palisade blocked this call to ${tool}: ${decision.reason} (${reference}${decision.approvalId ? `, ticket ${decision.approvalId}` : ''}).`;
  }
  return {
    isError: true,
    content: [{ type: 'text', text }],
    _meta: {
      [proxyErrorMetaKey]: {
        code,
        eventId: decision.eventId,
        rule,
        ...(decision.approvalId !== undefined ? { approvalId: decision.approvalId } : {}),
        ...(refusal.retryAfterMs !== undefined ? { retryAfterMs: refusal.retryAfterMs } : {}),
      },
    },
  };
}
