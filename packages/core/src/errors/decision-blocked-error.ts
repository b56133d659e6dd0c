import type { Decision } from '../policy/types.js';
import { PalisadeError } from './palisade-error.js';

const symbol: unique symbol = Symbol.for('palisade.error.decision-blocked');

/**
 * An adapter refused a call because the guard decided `block` (or an escalation was denied, expired
 * or not approved in time). The decision is attached, so callers can show the reason and rule.
 *
 * @example
 * try { await generateText({ model, prompt }) }
 * catch (error) { if (DecisionBlockedError.isInstance(error)) return { refused: error.decision.reason } }
 */
export class DecisionBlockedError extends PalisadeError {
  readonly [symbol] = true;
  readonly decision: Decision;
  /** Where the adapter stopped the call: `input`, `output`, `tool_call` or `tool_result`. */
  readonly boundary: Decision['boundary'];

  constructor({ decision, message }: { decision: Decision; message?: string }) {
    super({
      code: 'DECISION_BLOCKED',
      message:
        message ??
        `Palisade blocked the ${decision.boundary.replace('_', ' ')}${decision.tool ? ` to ${decision.tool}` : ''}: ${decision.reason} (rule ${decision.decidedBy.policyId}/${decision.decidedBy.rule}, event ${decision.eventId}).`,
      hint: 'See decision.reason and decision.decidedBy; `guard.explain(scope)` shows the rules that apply. Use mode: "shadow" to observe without enforcing.',
    });
    this.name = 'DecisionBlockedError';
    this.decision = decision;
    this.boundary = decision.boundary;
  }

  static override isInstance(error: unknown): error is DecisionBlockedError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[symbol] === true;
  }
}
