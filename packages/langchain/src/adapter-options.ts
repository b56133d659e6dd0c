import { type Boundary, boundaries, PalisadeError, type Scope } from '@palisade/core';
import type { OnDecision, OnError } from './evaluate-event.js';
import type { EnforcementMode } from './to-langchain-outcome.js';

/** A fixed scope, or one worked out per call from what LangChain knows about the call. */
export type ScopeOption<TInput> = Scope | ((input: TInput) => Scope);

/** Options every LangChain seam of Palisade takes. */
export interface PalisadeAdapterOptions<TScopeInput> {
  /** `enforce` (default) acts on decisions; `shadow` records them and changes nothing. */
  mode?: EnforcementMode;
  /**
   * Tenant, app, user and session of the calls. When it names no `sessionId`, the LangGraph
   * thread id is used.
   */
  scope?: ScopeOption<TScopeInput>;
  /** Every decision, with LangChain's run and tool call ids. */
  onDecision?: OnDecision;
  /** What `onDecision` threw, and in shadow mode the guard's own failures. */
  onError?: OnError;
  /**
   * How long an escalated call waits for its approval before it is refused (the ticket stays
   * pending). Default: until the ticket is decided or expires (`approvals.timeout`).
   */
  approvalTimeoutMs?: number;
  /** The boundaries to check. Default: all four. */
  boundaries?: readonly Boundary[];
}

const modes = ['enforce', 'shadow'];

/**
 * Checks options shared by the seams; `choices` names the seam's own enumerated options with
 * their allowed values. Throws `PalisadeError` with code `INVALID_OPTIONS`.
 */
export function checkAdapterOptions(
  seam: string,
  options: PalisadeAdapterOptions<never> & Record<string, unknown>,
  choices: Record<string, readonly string[]> = {},
): void {
  const problem = (message: string, hint: string) => {
    throw new PalisadeError({ code: 'INVALID_OPTIONS', message: `${seam}: ${message}`, hint });
  };
  for (const [name, allowed] of Object.entries({ mode: modes, ...choices })) {
    const value = options[name];
    if (value !== undefined && !allowed.includes(value as string))
      problem(`${name} is ${JSON.stringify(value)}`, `Use one of ${allowed.map((item) => JSON.stringify(item)).join(', ')}.`);
  }
  for (const boundary of options.boundaries ?? [])
    if (!boundaries.includes(boundary))
      problem(
        `boundaries names ${JSON.stringify(boundary)}`,
        `Boundaries are ${boundaries.map((item) => JSON.stringify(item)).join(', ')}.`,
      );
  const timeout = options.approvalTimeoutMs;
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout >= 0))
    problem(
      `approvalTimeoutMs is ${JSON.stringify(timeout)}`,
      'Give a number of milliseconds (0 or more), or leave it out to wait until the ticket ends.',
    );
  for (const hook of ['onDecision', 'onError', 'scope'] as const) {
    const value = options[hook];
    if (value !== undefined && typeof value !== 'function' && !(hook === 'scope' && typeof value === 'object' && value !== null))
      problem(
        `${hook} is not a function`,
        hook === 'scope' ? 'Pass a Scope object or a function that returns one.' : `Pass a function for ${hook}.`,
      );
  }
}

/** The scope of one call: the option's, with the thread id as session when it names none. */
export function resolveScope<TInput>(option: ScopeOption<TInput> | undefined, input: TInput, threadId: string | undefined): Scope {
  const scope = typeof option === 'function' ? option(input) : (option ?? {});
  return threadId !== undefined && scope.sessionId === undefined ? { ...scope, sessionId: threadId } : scope;
}
