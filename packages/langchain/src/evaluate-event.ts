import { type Decision, DecisionBlockedError, type Guard, type GuardEvent, type Scope } from '@palisade/core';
import { type EnforcementMode, type RewriteKind, toLangChainOutcome } from './to-langchain-outcome.js';

/** The LangChain hook or seam that produced a decision. */
export type DecisionHook =
  | 'beforeAgent'
  | 'wrapModelCall'
  | 'wrapToolCall'
  | 'handleLLMStart'
  | 'handleChatModelStart'
  | 'handleLLMEnd'
  | 'handleToolStart'
  | 'handleToolEnd'
  | 'handleRetrieverEnd'
  | 'guardTool';

/** Where in LangChain a decision was made: the second argument of `onDecision`. */
export interface DecisionContext {
  hook: DecisionHook;
  /**
   * LangChain run id: for the middleware, the run of the graph node the hook runs in (the
   * parent of the chat model or tool run in a trace); for the callback handler, the callback's
   * own run (the chat model, tool or retriever run).
   */
  runId?: string;
  parentRunId?: string;
  /** The model's tool call id (tool calls and their results). */
  toolCallId?: string;
  /** LangGraph `configurable.thread_id`, when the run has one. */
  threadId?: string;
  /** Id of the message the decision is about (input and output). */
  messageId?: string;
  /** False in shadow mode: the decision was recorded, not enforced. */
  enforced: boolean;
}

/**
 * Called with every decision (also those of shadow mode, and the `allow` that redeems an
 * approved escalation). It cannot change or delay the decision: its return value is ignored and
 * what it throws goes to `onError`.
 */
export type OnDecision = (decision: Decision, context: DecisionContext) => void | Promise<void>;

/** Receives what an `onDecision` hook threw, and in shadow mode the guard's own failures. */
export type OnError = (error: unknown, context: DecisionContext) => void;

/** What a human (or the approval queue) answered to an escalation. */
export interface ApprovalAnswer {
  status: 'approved' | 'denied' | 'expired' | 'pending' | 'timeout' | 'aborted' | 'unavailable';
  /** True when the call may go ahead. */
  allowed: boolean;
  /** The ticket's resolution (who denied, why), or why no approval could be asked for. */
  detail?: string | undefined;
}

/** Puts an escalated decision to a human and waits for the answer. */
export type AskApproval = (decision: Decision) => Promise<ApprovalAnswer>;

/** What the seam does in the end: the outcome after any approval. */
export type Verdict =
  | { kind: 'proceed'; decision: Decision | undefined }
  | { kind: 'rewrite'; decision: Decision; replacement: unknown }
  | { kind: 'refuse'; decision: Decision; reason: string };

/** A refused verdict. */
export type Refusal = Extract<Verdict, { kind: 'refuse' }>;

/**
 * The error a seam throws for a refusal: `DecisionBlockedError` (code `DECISION_BLOCKED`) with
 * the decision, and the verdict's reason when it says more than the decision (an escalation
 * that was denied, expired or not approved in time).
 *
 * @example
 * if (verdict.kind === 'refuse') throw refusalError(verdict);
 */
export function refusalError(refusal: Refusal): DecisionBlockedError {
  const { decision } = refusal;
  if (refusal.reason === decision.reason) return new DecisionBlockedError({ decision });
  const what = `${decision.boundary.replace('_', ' ')}${decision.tool !== undefined ? ` to ${decision.tool}` : ''}`;
  return new DecisionBlockedError({
    decision,
    message: `Palisade refused the ${what}: ${refusal.reason} (rule ${decision.decidedBy.policyId}/${decision.decidedBy.rule}, event ${decision.eventId}).`,
  });
}

export interface EvaluateEventOptions {
  mode: EnforcementMode;
  rewrite: RewriteKind;
  context: DecisionContext;
  askApproval: AskApproval;
  onDecision?: OnDecision | undefined;
  onError?: OnError | undefined;
}

/**
 * The adapter's pipeline for one event: the guard decides, `onDecision` hears about it, the
 * outcome is worked out (`toLangChainOutcome`), and an escalation waits for its answer; an
 * approved one is redeemed, so the guard lets exactly this call through once and records it.
 *
 * In enforce mode a failure of the guard propagates (the LangChain call fails: fail closed);
 * in shadow mode it goes to `onError` and the call proceeds.
 *
 * @example
 * const verdict = await evaluateEvent(guard, { boundary: 'tool_call', tool: 'shell', args, scope }, options);
 * if (verdict.kind === 'refuse') return toolError(verdict.reason);
 */
export async function evaluateEvent(guard: Guard, event: GuardEvent, options: EvaluateEventOptions): Promise<Verdict> {
  let decision: Decision;
  try {
    decision = await guard.evaluate(event);
  } catch (error) {
    if (options.mode === 'enforce') throw error;
    report(options, error);
    return { kind: 'proceed', decision: undefined };
  }
  notify(options, decision);
  const outcome = toLangChainOutcome(decision, options);
  if (outcome.kind !== 'escalate') return outcome;

  const answer = await options.askApproval(decision);
  if (!answer.allowed) {
    const ticket = decision.approvalId ? ` (ticket ${decision.approvalId})` : '';
    const detail = answer.detail ? `: ${answer.detail}` : '';
    return { kind: 'refuse', decision, reason: `${decision.reason}; approval ${answer.status}${ticket}${detail}` };
  }
  if (answer.status === 'approved' && decision.approvalId !== undefined && guard.state) {
    const redeemed = await guard.evaluate({ ...event, approvalId: decision.approvalId });
    notify(options, redeemed);
    const after = toLangChainOutcome(redeemed, options);
    if (after.kind === 'escalate')
      return {
        kind: 'refuse',
        decision: redeemed,
        reason: `${decision.reason}; the approval of ticket ${decision.approvalId} could not be redeemed (already used, or the call changed)`,
      };
    return after;
  }
  // Allowed without a ticket to redeem: an interrupt approval on a guard without state, or an
  // expired ticket whose policy says `on_timeout: allow`.
  return { kind: 'proceed', decision };
}

/**
 * Asks the guard's approval queue: waits until the ticket is approved, denied or expired (or
 * `timeoutMs` passes, or `signal` aborts). Decisions made in another process that shares the
 * state store are seen too.
 *
 * @example
 * const ask = approvalQueue(guard, { tenantId: 'acme' }, { timeoutMs: 60_000 });
 * const answer = await ask(decision); // { status: 'approved', allowed: true }
 */
export function approvalQueue(guard: Guard, scope: Scope, options: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined }) {
  return async (decision: Decision): Promise<ApprovalAnswer> => {
    if (!guard.state || decision.approvalId === undefined)
      return {
        status: 'unavailable',
        allowed: false,
        detail: 'this guard keeps no approval queue (create it with a configPath or `state`), so nobody can approve the call',
      };
    const result = await guard.waitForApproval(decision.approvalId, {
      ...(scope.tenantId !== undefined ? { tenantId: scope.tenantId } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { status: result.status, allowed: result.allowed, detail: result.ticket.resolution?.reason };
  };
}

function notify(options: EvaluateEventOptions, decision: Decision): void {
  if (!options.onDecision) return;
  // INVARIANT: a hook can neither change nor delay a decision.
  try {
    const returned = options.onDecision(decision, options.context);
    if (returned && typeof (returned as Promise<void>).then === 'function')
      (returned as Promise<void>).then(undefined, (error) => report(options, error));
  } catch (error) {
    report(options, error);
  }
}

function report(options: EvaluateEventOptions, error: unknown): void {
  reportError(options.onError, error, options.context);
}

/** Hands an error to `onError`; what `onError` itself throws is dropped (reporting never fails a call). */
export function reportError(onError: OnError | undefined, error: unknown, context: DecisionContext): void {
  try {
    onError?.(error, context);
  } catch {
    // Reporting a failure never fails the call.
  }
}
