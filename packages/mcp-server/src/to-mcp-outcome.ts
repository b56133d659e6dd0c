import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/**
 * Why a tool call did not succeed, as `_meta["palisade/error"].code` says:
 *
 * - `POLICY_BLOCKED`, `APPROVAL_REQUIRED`: the decision refused the content (block) or holds it
 *   for a human (escalate); the full decision is in `structuredContent`.
 * - `APPROVAL_DENIED`: `approve` was overruled: the policy serving now blocks the call.
 * - `RELOAD_FAILED`: the new configuration is invalid; the previous one still serves.
 * - `NOT_FOUND`: no such ticket, or a tenant the caller may not see (the two look the same).
 * - `FORBIDDEN`: the caller's role does not allow the tool, or the policy override.
 * - `RATE_LIMITED`: the key's token bucket is empty; retry after `retryAfterMs`.
 * - `UNAVAILABLE`: the guard keeps no state (approvals, budgets, audit) or the audit log is off.
 * - `INVALID_INPUT`: the arguments are well-formed but unusable (e.g. a time that is not a time).
 * - `INTERNAL`: anything else; the message says no more than the caller may know.
 */
export type ToolErrorCode =
  | 'POLICY_BLOCKED'
  | 'APPROVAL_REQUIRED'
  | 'APPROVAL_DENIED'
  | 'RELOAD_FAILED'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'INVALID_INPUT'
  | 'INTERNAL';

/** What a tool's work came to, before it is put in MCP's terms. */
export type ToolOutcome =
  | { ok: true; data: Record<string, unknown> }
  | {
      ok: false;
      code: ToolErrorCode;
      message: string;
      /** Structured data that matches the tool's output schema (a refusing decision, a failed reload). */
      data?: Record<string, unknown>;
      /** Extra machine-readable detail for `_meta` (e.g. `retryAfterMs`). */
      detail?: Record<string, unknown>;
    };

/** The `_meta` key of a failed call's code and detail. */
export const errorMetaKey = 'palisade/error';

/**
 * The one place a tool outcome becomes an MCP `CallToolResult`.
 *
 * INVARIANT: a refusal (by a policy, a role, a rate limit, a tenant boundary) is a normal result
 * with `isError: true` and the reason as text, so the model reads it and can act on it; nothing
 * here throws, so the client never sees a protocol error for a policy matter. Success carries the
 * data twice, as `structuredContent` and as its JSON text (for clients without structured output);
 * `structuredContent` is always plain JSON (no `undefined`, no class instances), so an in-process
 * client sees exactly what a stdio or HTTP client sees.
 *
 * @example
 * toMcpOutcome({ ok: false, code: 'NOT_FOUND', message: 'No approval "apr_1" for tenant "acme".' })
 * // { isError: true, content: [{ type: 'text', text: 'No approval …' }], _meta: { 'palisade/error': { code: 'NOT_FOUND' } } }
 */
export function toMcpOutcome(outcome: ToolOutcome): CallToolResult {
  if (outcome.ok) {
    const text = JSON.stringify(outcome.data);
    return { content: [{ type: 'text', text }], structuredContent: JSON.parse(text) };
  }
  const result: CallToolResult = {
    isError: true,
    content: [{ type: 'text', text: outcome.message }],
    _meta: { [errorMetaKey]: { code: outcome.code, ...outcome.detail } },
  };
  if (outcome.data) result.structuredContent = JSON.parse(JSON.stringify(outcome.data));
  return result;
}
