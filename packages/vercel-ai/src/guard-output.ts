import type { Decision, DecisionBlockedError, Detection } from '@palisade/core';
import type { CallContext } from './call-context.js';
import { callKey, callRegistryFor } from './call-registry.js';
import { evaluateEvent } from './evaluate-event.js';
import { type AiSdkOutcome, toAiSdkOutcome } from './to-ai-sdk-outcome.js';
import type { DecisionHook, ToolCallPart } from './types.js';

/** Decides about model text (`output`); the outcome says what to show. */
export async function checkOutputText(
  text: string,
  call: CallContext,
  hook: DecisionHook,
  extra: { detections?: Detection[]; stage?: 'segment' | 'final' } = {},
): Promise<AiSdkOutcome> {
  const decision = await evaluateEvent(call.guard, {
    boundary: 'output',
    text,
    scope: call.scope,
    ...(extra.detections !== undefined ? { detections: extra.detections } : {}),
  });
  const outcome = toAiSdkOutcome(decision, { canEscalate: false });
  call.report(decision, { hook, outcome: outcome.type, ...(extra.stage !== undefined ? { stage: extra.stage } : {}) });
  return outcome;
}

/** What the model's tool call becomes: sent on (maybe with redacted input), or refused. */
export type ToolCallVerdict = { part: ToolCallPart; decision: Decision } | { refused: DecisionBlockedError; decision: Decision };

/**
 * Decides about a tool call the model asks for. The tools `guardTools` wraps keep their call
 * whatever the decision: the tool guard holds or refuses it before `execute` runs (it reuses
 * this decision), and the model's loop goes on with a denial instead of an exception. For any
 * other tool this is the last seam before the SDK runs it, so a block or an escalation refuses.
 */
export async function checkModelToolCall(part: ToolCallPart, call: CallContext, hook: DecisionHook): Promise<ToolCallVerdict> {
  const args = parseInput(part.input);
  const tool = part.toolName;
  const guarded = call.guardedTools.has(tool);
  const decision = await evaluateEvent(call.guard, { boundary: 'tool_call', tool, args, scope: call.scope });
  const outcome = toAiSdkOutcome(decision, { canEscalate: guarded });
  call.report(decision, { hook, outcome: outcome.type, toolCallId: part.toolCallId });
  const enforce = call.mode === 'enforce';
  const rewritten = enforce && outcome.type === 'rewrite' ? (outcome.value ?? outcome.text) : undefined;
  callRegistryFor(call.guard).rememberCall(part.toolCallId, callKey(tool, rewritten ?? args, call.scope), {
    decision,
    ...(call.runId !== undefined ? { runId: call.runId } : {}),
    modelCallId: call.modelCallId,
  });
  if (!enforce) return { part, decision };
  if (outcome.type === 'refuse' && !guarded) return { refused: outcome.error, decision };
  if (rewritten !== undefined) return { part: { ...part, input: JSON.stringify(rewritten) }, decision };
  return { part, decision };
}

/** A provider's tool input is JSON text; one that is not JSON is judged as the raw string. */
function parseInput(input: unknown): unknown {
  if (typeof input !== 'string') return input;
  if (input.trim() === '') return {};
  try {
    return JSON.parse(input);
  } catch {
    return input;
  }
}
