import { randomUUID } from 'node:crypto';
import type { Decision, Guard, GuardEvent, Scope } from '@palisade/core';

/**
 * Asks the guard about one event. This is the adapter's fail-closed invariant in one place: the
 * core never throws from a decision, but its state effects can (a store that cannot be written,
 * an audit log that refuses), and then the call is blocked, with the error in
 * `diagnostics.errors` and the flag `evaluation_error`, exactly as the core reports its own
 * evaluation failures. Nothing that calls the guard in this package calls it any other way.
 *
 * @example
 * const decision = await evaluateEvent(guard, { boundary: 'tool_call', tool: 'shell', args: { command: 'ls' } });
 * decision.action; // 'allow' | … | 'block' — never a rejection
 */
export async function evaluateEvent(guard: Guard, event: GuardEvent): Promise<Decision> {
  try {
    return await guard.evaluate(event);
  } catch (error) {
    return failedDecision(guard, event, error);
  }
}

function failedDecision(guard: Guard, event: GuardEvent, error: unknown): Decision {
  let policyVersion = '';
  try {
    policyVersion = guard.policyVersion;
  } catch {
    // A guard broken enough to throw here still gets a blocking decision.
  }
  const decision: Decision = {
    action: 'block',
    eventId: event.eventId ?? randomUUID(),
    boundary: event.boundary,
    scope: event.scope ?? {},
    detections: [],
    suppressedDetections: [],
    decidedBy: { layer: 'error', policyId: '', rule: 'evaluation error', priority: 1001 },
    reason: 'Evaluation failed; blocked (fail closed)',
    effectivePolicyId: '',
    effectivePolicyMode: 'custom',
    resolutionSource: 'system_default',
    policyVersion,
    flags: ['evaluation_error'],
    diagnostics: { matchedRules: [], errors: [error instanceof Error ? `${error.name}: ${error.message}` : String(error)] },
    evaluationMs: 0,
  };
  if (event.tool !== undefined) decision.tool = event.tool;
  return decision;
}

/** A tool result as `guard.checkToolResult` shapes it: a string result is also the event's text (redacted as text). */
export function toolResultEvent(tool: string, result: unknown, scope: Scope): GuardEvent {
  return { boundary: 'tool_result', tool, result, ...(typeof result === 'string' ? { text: result } : {}), scope };
}
