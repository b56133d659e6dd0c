import { type Decision, DecisionBlockedError } from '@palisade/core';

/** What a decision means for the AI SDK call it was made about (see `toAiSdkOutcome`). */
export type AiSdkOutcome =
  | { type: 'continue'; decision: Decision }
  /** Substitute the redacted text (`text`) or the redacted structured value (`value`). */
  | { type: 'rewrite'; decision: Decision; text?: string; value?: unknown }
  /** Hold the tool call for a human: the ticket to approve. */
  | { type: 'approval'; decision: Decision; approvalId: string }
  | { type: 'refuse'; decision: Decision; error: DecisionBlockedError };

export interface ToAiSdkOutcomeOptions {
  /**
   * Whether the seam can hold the call for a human (a tool call, through the SDK's approval flow
   * or the approval queue). Where it cannot (a prompt, model text), an escalation refuses.
   */
  canEscalate: boolean;
}

/**
 * The one translation from a core decision to what the AI SDK does: let the call through,
 * rewrite it with the redacted content, hold it for approval, or refuse it with a typed error.
 * It is the enforcement outcome; in shadow mode callers report it and let the call through.
 *
 * Fails closed: a `redact` without redacted content, or an `escalate` that has no ticket (a guard
 * without state) or cannot be held at this seam, refuses.
 *
 * @example
 * const outcome = toAiSdkOutcome(await guard.scanOutput(text), { canEscalate: false });
 * if (outcome.type === 'refuse') throw outcome.error;
 * const shown = outcome.type === 'rewrite' ? outcome.text : text;
 */
export function toAiSdkOutcome(decision: Decision, { canEscalate }: ToAiSdkOutcomeOptions): AiSdkOutcome {
  switch (decision.action) {
    case 'allow':
    case 'log':
    case 'flag':
      return { type: 'continue', decision };
    case 'redact':
      if (decision.redactedText !== undefined) return { type: 'rewrite', decision, text: decision.redactedText };
      if (decision.redactedArgs !== undefined) return { type: 'rewrite', decision, value: decision.redactedArgs };
      return refuse(decision, 'The decision asked for redaction but carried no redacted content; blocked (fail closed).');
    case 'escalate':
      if (canEscalate && decision.approvalId !== undefined) return { type: 'approval', decision, approvalId: decision.approvalId };
      return refuse(
        decision,
        decision.approvalId === undefined
          ? `Palisade escalated the ${describe(decision)} (${decision.reason}), but the guard keeps no state, so there is no approval ticket to wait on; blocked. Create the guard with state to use approvals.`
          : `Palisade escalated the ${describe(decision)} (${decision.reason}; ticket ${decision.approvalId}), and this part of the call cannot be held for approval; blocked.`,
      );
    default:
      return refuse(decision);
  }
}

/** A refusal of `decision` with an optional message (the default names the reason, rule and event). */
export function refuse(decision: Decision, message?: string): AiSdkOutcome & { type: 'refuse' } {
  return { type: 'refuse', decision, error: new DecisionBlockedError(message === undefined ? { decision } : { decision, message }) };
}

const describe = (decision: Decision) => `${decision.boundary.replace('_', ' ')}${decision.tool ? ` to ${decision.tool}` : ''}`;
