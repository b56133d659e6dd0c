import type { Decision } from '@palisade/core';

/** `enforce` acts on decisions; `shadow` records them (onDecision, audit) and changes nothing. */
export type EnforcementMode = 'enforce' | 'shadow';

/**
 * What a seam can put in place of the original when a decision redacts: the text (a prompt, a
 * model reply, a textual tool result), a structured value (tool arguments, a JSON tool result),
 * or nothing (LangChain callbacks observe; they cannot rewrite what flows past them).
 */
export type RewriteKind = 'text' | 'value' | 'none';

export interface ToLangChainOutcomeOptions {
  mode: EnforcementMode;
  rewrite: RewriteKind;
}

/**
 * A decision in LangChain terms. `proceed`: let the call through unchanged; `rewrite`: let it
 * through with `replacement` (redacted text or value) instead; `escalate`: ask for approval
 * first; `refuse`: stop it (a thrown `DecisionBlockedError`, an error `ToolMessage`, or a
 * refusal `AIMessage`, depending on the seam).
 */
export type LangChainOutcome =
  | { kind: 'proceed'; decision: Decision }
  | { kind: 'rewrite'; decision: Decision; replacement: unknown }
  | { kind: 'escalate'; decision: Decision }
  | { kind: 'refuse'; decision: Decision; reason: string };

/**
 * Translates a core decision into what the LangChain seam does with it. This is the one place
 * the adapter fails closed: a redaction the seam cannot apply, or one the guard produced no
 * replacement for, is refused rather than passed on unredacted.
 *
 * @example
 * const outcome = toLangChainOutcome(decision, { mode: 'enforce', rewrite: 'value' });
 * if (outcome.kind === 'refuse') return toolError(outcome.reason);
 */
export function toLangChainOutcome(decision: Decision, options: ToLangChainOutcomeOptions): LangChainOutcome {
  // INVARIANT: shadow mode never changes, delays or stops a call.
  if (options.mode === 'shadow') return { kind: 'proceed', decision };
  switch (decision.action) {
    case 'allow':
    case 'log':
    case 'flag':
      return { kind: 'proceed', decision };
    case 'escalate':
      return { kind: 'escalate', decision };
    case 'block':
      return { kind: 'refuse', decision, reason: decision.reason };
    case 'redact': {
      if (options.rewrite === 'none')
        return {
          kind: 'refuse',
          decision,
          reason: `${decision.reason} (redaction required, and a LangChain callback cannot rewrite content: refused instead)`,
        };
      const replacement = options.rewrite === 'text' ? decision.redactedText : (decision.redactedArgs ?? decision.redactedText);
      if (replacement === undefined || (options.rewrite === 'text' && typeof replacement !== 'string'))
        return { kind: 'refuse', decision, reason: `${decision.reason} (redaction required, but the guard returned no redacted content)` };
      return { kind: 'rewrite', decision, replacement };
    }
    default:
      return { kind: 'refuse', decision, reason: `Unknown action ${JSON.stringify(decision.action)}: refused (fail closed)` };
  }
}
