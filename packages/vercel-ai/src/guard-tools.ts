import { type Decision, type Guard, type GuardEvent, PalisadeError, type Scope } from '@palisade/core';
import type { ToolSet } from 'ai';
import { providerKey, readScope } from './call-context.js';
import { callKey, callRegistryFor } from './call-registry.js';
import { evaluateEvent, toolResultEvent } from './evaluate-event.js';
import { type AiSdkOutcome, refuse, toAiSdkOutcome } from './to-ai-sdk-outcome.js';
import type { DecisionHook, DecisionInfo, OnDecision, OnError, PalisadeMode } from './types.js';

/** The tool call a scope is worked out for. */
export interface ToolCallInfo {
  toolName: string;
  toolCallId: string;
  /** The tool's context: `context` (ai@7) or `experimental_context` (ai@6); in `toolApproval`, the runtime context. */
  context: unknown;
}

export interface GuardToolsOptions {
  /** `enforce` (default) acts on decisions; `shadow` only records them (tools always run). */
  mode?: PalisadeMode;
  /** Scope of the calls: fixed, or worked out per call (from the tool context, say). */
  scope?: Scope | ((call: ToolCallInfo) => Scope | undefined);
  /**
   * Where an escalated call waits for a human:
   * - `'sdk'` (default): the AI SDK's own approval flow. The wrapped tools get `needsApproval`
   *   (ai@6; ai@7 still honours it), or pass `palisadeToolApproval(guard, options)` as ai@7's
   *   `toolApproval`. The run stops with a `tool-approval-request`; when the application sends
   *   the SDK's approval response, the Palisade ticket is approved (by `approver`, checked again
   *   against the policy serving then) and the call runs once.
   * - `'queue'`: `execute` waits on Palisade's approval queue (`guard.approve` from the CLI, a
   *   web page, another process) up to `approvalTimeoutMs`.
   * Either way a call nobody approved never runs. Approvals need a guard with state.
   */
  approval?: 'sdk' | 'queue';
  /** `'queue'`: how long `execute` waits (default: until the ticket expires, `approvals.timeout`). */
  approvalTimeoutMs?: number;
  /** `'sdk'`: who approved, as recorded on the Palisade ticket. Default `'ai-sdk'`. */
  approver?: string | ((call: ToolCallInfo) => string);
  /** Check what tools return (`tool_result`: indirect prompt injection, leaked secrets). Default true. */
  checkResults?: boolean;
  onDecision?: OnDecision;
  onError?: OnError;
}

interface ToolLike {
  execute?: (input: unknown, options: ExecutionOptionsLike) => unknown;
  needsApproval?: boolean | ((input: unknown, options: ApprovalOptionsLike) => boolean | PromiseLike<boolean>);
  providerOptions?: Record<string, Record<string, unknown> | undefined>;
  [key: string]: unknown;
}

interface ExecutionOptionsLike {
  toolCallId: string;
  messages?: unknown;
  abortSignal?: AbortSignal;
  context?: unknown;
  experimental_context?: unknown;
  [key: string]: unknown;
}

interface ApprovalOptionsLike {
  toolCallId: string;
  messages?: unknown;
  context?: unknown;
  experimental_context?: unknown;
  [key: string]: unknown;
}

/** What ai@7's `toolApproval` function may answer (a subset of its `ToolApprovalStatus`). */
export type PalisadeApprovalStatus = undefined | { type: 'user-approval'; reason?: string } | { type: 'denied'; reason?: string };

/** ai@7's generic `toolApproval` function, written structurally so it type-checks against ai@7 and builds against ai@6. */
export type PalisadeToolApproval = (options: {
  toolCall: { toolCallId: string; toolName: string; input: unknown };
  messages: readonly unknown[];
  runtimeContext?: unknown;
}) => Promise<PalisadeApprovalStatus>;

/**
 * Wraps each tool's `execute`: `checkToolCall` before it runs (block → the call is refused with a
 * `DecisionBlockedError`, which the SDK hands the model as a tool error; redact → it runs with
 * the redacted arguments; escalate → it waits for approval, see `approval`), `checkToolResult`
 * after (block → refused, redact → the model gets the redacted result). A blocked or unapproved
 * call never runs: the decision comes first, always.
 *
 * The tool name the policy sees is the key in `tools`. Tools without `execute` (provider tools,
 * client-side tools) are returned as they are. The wrapped tools carry a mark
 * (`providerOptions.palisade`) that `palisadeMiddleware` reads, so it leaves their tool-call
 * decisions to this guard (one decision per call, shared, and the loop goes on with a denial
 * instead of an exception); the middleware removes the mark before the provider sees it.
 *
 * @example
 * const tools = guardTools({ shell, sendEmail }, guard, { scope: { tenantId: 'acme' } });
 * const result = await generateText({ model, tools, prompt, stopWhen: stepCountIs(5) });
 */
export function guardTools<TOOLS extends ToolSet>(tools: TOOLS, guard: Guard, options: GuardToolsOptions = {}): TOOLS {
  const toolGuard = createToolGuard(guard, options);
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(tools as Record<string, ToolLike>)) {
    wrapped[name] = typeof value?.execute === 'function' ? toolGuard.wrap(name, value) : value;
  }
  return wrapped as TOOLS;
}

/**
 * The ai@7 `toolApproval` function for Palisade: escalated calls become `'user-approval'` (the
 * reason names the Palisade ticket), blocked calls `'denied'` (the tool does not run; the model
 * gets `execution-denied` and the loop goes on). When ai@7 checks an approved call again on
 * resumption, the Palisade ticket is approved and redeemed here. Use it with `guardTools` (same
 * options) or on its own.
 *
 * @example
 * const options = { scope: { tenantId: 'acme' } };
 * await generateText({ model, tools: guardTools(tools, guard, options), toolApproval: palisadeToolApproval(guard, options), prompt });
 */
export function palisadeToolApproval(guard: Guard, options: GuardToolsOptions = {}): PalisadeToolApproval {
  const toolGuard = createToolGuard(guard, options);
  return ({ toolCall, messages, runtimeContext }) =>
    toolGuard.approvalStatus(toolCall.toolName, toolCall.toolCallId, toolCall.input, messages, runtimeContext, 'toolApproval');
}

function createToolGuard(guard: Guard, options: GuardToolsOptions) {
  const mode = options.mode ?? 'enforce';
  if (mode !== 'enforce' && mode !== 'shadow') {
    throw new PalisadeError({ code: 'INVALID_OPTIONS', message: `mode must be 'enforce' or 'shadow'; got ${String(mode)}.` });
  }
  const approval = options.approval ?? 'sdk';
  if (approval !== 'sdk' && approval !== 'queue') {
    throw new PalisadeError({ code: 'INVALID_OPTIONS', message: `approval must be 'sdk' or 'queue'; got ${String(approval)}.` });
  }
  const fixedScope = typeof options.scope === 'function' ? undefined : readScope(options.scope, 'options.scope');
  const checkResults = options.checkResults ?? true;
  const enforce = mode === 'enforce';
  const registry = callRegistryFor(guard);

  const scopeOf = (call: ToolCallInfo): Scope =>
    typeof options.scope === 'function' ? readScope(options.scope(call), 'options.scope(call)') : (fixedScope ?? {});

  const approverOf = (call: ToolCallInfo) =>
    typeof options.approver === 'function' ? options.approver(call) : (options.approver ?? 'ai-sdk');

  const report = (decision: Decision, hook: DecisionHook, outcome: AiSdkOutcome['type'], toolCallId: string) => {
    if (!options.onDecision) return;
    const info: DecisionInfo = { hook, mode, outcome, enforced: enforce, toolCallId, ...registry.runOf(toolCallId) };
    try {
      options.onDecision(decision, info);
    } catch (error) {
      // INVARIANT: observers never change or delay a decision.
      try {
        options.onError?.(error, { hook });
      } catch {
        // ignored, as above
      }
    }
  };

  /** The decision about a call: the one an earlier seam made about this very call, or a new one. */
  const decideCall = async (call: ToolCallInfo, input: unknown, scope: Scope, hook: DecisionHook): Promise<Decision> => {
    const key = callKey(call.toolName, input, scope);
    const found = registry.findCall(call.toolCallId, key);
    if (found) return found.decision;
    const decision = await evaluateEvent(guard, { boundary: 'tool_call', tool: call.toolName, args: input, scope });
    registry.rememberCall(call.toolCallId, key, { decision, ...registry.runOf(call.toolCallId) });
    report(decision, hook, toAiSdkOutcome(decision, { canEscalate: true }).type, call.toolCallId);
    return decision;
  };

  /**
   * Turns an `approval` outcome into the outcome after the human: approved tickets are redeemed
   * (the same event again with `approvalId`, which the core lets through once); anything else
   * refuses. The guard decides every step; this only waits and asks again.
   */
  const settle = async (
    outcome: AiSdkOutcome & { type: 'approval' },
    event: GuardEvent,
    call: ToolCallInfo,
    how: { messages?: unknown; signal?: AbortSignal },
    hook: DecisionHook,
  ): Promise<AiSdkOutcome> => {
    const { decision, approvalId } = outcome;
    const tenantId = decision.scope.tenantId ?? '';
    const what = `${decision.boundary.replace('_', ' ')} to ${call.toolName}`;
    // Still waiting for the application's answer: the call keeps its decision (and ticket) for
    // when the SDK resumes. Otherwise the ticket is settled and a later call that repeats this
    // tool call id (some providers number calls per response) is decided afresh.
    let pending = false;
    try {
      if (approval === 'queue') {
        const waited = await guard.waitForApproval(approvalId, {
          tenantId,
          ...(options.approvalTimeoutMs !== undefined ? { timeoutMs: options.approvalTimeoutMs } : {}),
          ...(how.signal ? { signal: how.signal } : {}),
        });
        if (!waited.allowed) {
          return refuse(
            decision,
            `Palisade held the ${what} for approval (ticket ${approvalId}) and it was not approved: ${waited.status}.`,
          );
        }
        // An expired ticket whose policy says `on_timeout: allow` is the core's allow; there is nothing to redeem.
        if (waited.status !== 'approved') return { type: 'continue', decision };
      } else {
        const response = findSdkApproval(how.messages, call.toolCallId);
        if (!response) {
          pending = true;
          return refuse(
            decision,
            `Palisade holds the ${what} for approval (ticket ${approvalId}): ${decision.reason}. It runs once approved through the AI SDK's approval flow (needsApproval, or toolApproval: palisadeToolApproval(guard) in ai@7).`,
          );
        }
        if (!response.approved) {
          await guard.deny(approvalId, {
            tenantId,
            approver: approverOf(call),
            reason: response.reason ?? 'Denied in the AI SDK approval flow',
          });
          return refuse(decision, `The ${what} was denied in the AI SDK approval flow (ticket ${approvalId}).`);
        }
        const approved = await guard.approve(approvalId, {
          tenantId,
          approver: approverOf(call),
          ...(response.reason !== undefined ? { note: response.reason } : {}),
        });
        if (approved.ticket.status !== 'approved') {
          const why = approved.ticket.resolution?.reason ?? `the ticket is ${approved.ticket.status}`;
          return refuse(approved.reevaluation ?? decision, `Palisade did not approve the ${what} (ticket ${approvalId}): ${why}.`);
        }
      }
    } catch (error) {
      return refuse(decision, `Palisade could not settle the approval of the ${what} (ticket ${approvalId}): ${(error as Error).message}`);
    } finally {
      if (!pending) registry.forgetCall(call.toolCallId);
    }
    const redeemed = await evaluateEvent(guard, { ...event, approvalId });
    // A second escalation is not waited on again: only the ticket just approved lets the call through.
    const next = toAiSdkOutcome(redeemed, { canEscalate: false });
    report(redeemed, hook, next.type, call.toolCallId);
    // Settled before `execute` (ai@7's toolApproval): hand the redeemed allow to `execute`, once.
    if (hook === 'toolApproval') {
      registry.rememberCall(call.toolCallId, callKey(call.toolName, event.args, event.scope ?? {}), { decision: redeemed, once: true });
    }
    return next;
  };

  const authorize = async (call: ToolCallInfo, input: unknown, how: { messages?: unknown; signal?: AbortSignal }): Promise<unknown> => {
    const scope = scopeOf(call);
    const decision = await decideCall(call, input, scope, 'execute');
    if (!enforce) return input;
    let outcome = toAiSdkOutcome(decision, { canEscalate: true });
    if (outcome.type === 'approval') {
      outcome = await settle(outcome, { boundary: 'tool_call', tool: call.toolName, args: input, scope }, call, how, 'execute');
    }
    if (outcome.type === 'refuse') throw outcome.error;
    if (outcome.type === 'rewrite') return outcome.value ?? outcome.text;
    if (outcome.type === 'approval') throw refuse(outcome.decision).error;
    return input;
  };

  const checkResult = async (call: ToolCallInfo, value: unknown, signal: AbortSignal | undefined): Promise<unknown> => {
    if (!checkResults) return value;
    const scope = scopeOf(call);
    const event = toolResultEvent(call.toolName, value, scope);
    const decision = await evaluateEvent(guard, event);
    // The tool has run: only the queue can hold its result for a human (the SDK's flow gates calls, not results).
    let outcome = toAiSdkOutcome(decision, { canEscalate: approval === 'queue' });
    report(decision, 'execute', outcome.type, call.toolCallId);
    let effective = value;
    if (enforce) {
      if (outcome.type === 'approval') {
        outcome = await settle(outcome, event, call, { ...(signal ? { signal } : {}) }, 'execute');
      }
      if (outcome.type === 'refuse') throw outcome.error;
      if (outcome.type === 'approval') throw refuse(outcome.decision).error;
      if (outcome.type === 'rewrite') effective = outcome.text ?? outcome.value;
    }
    // The next prompt carries this result: the middleware need not decide on it again.
    registry.rememberResult(call.toolCallId, callKey(call.toolName, effective, scope));
    return effective;
  };

  const approvalStatus = async (
    toolName: string,
    toolCallId: string,
    input: unknown,
    messages: unknown,
    context: unknown,
    hook: 'needsApproval' | 'toolApproval',
  ): Promise<PalisadeApprovalStatus> => {
    const call: ToolCallInfo = { toolName, toolCallId, context };
    const response = findSdkApproval(messages, toolCallId);
    if (response && !response.approved) return undefined; // the SDK denies it itself
    // On resumption the SDK asks again about the calls the application approved. ai@6 treats a
    // `needsApproval` that now says false as a denial, so it keeps saying true and `execute`
    // settles the ticket; ai@7's `toolApproval` settles it here and answers not-applicable.
    if (response && hook === 'needsApproval') return { type: 'user-approval' };
    const scope = scopeOf(call);
    const decision = await decideCall(call, input, scope, hook);
    if (!enforce) return undefined;
    let outcome = toAiSdkOutcome(decision, { canEscalate: true });
    if (outcome.type === 'approval') {
      if (!response) return { type: 'user-approval', reason: `${decision.reason} (Palisade ticket ${outcome.approvalId})` };
      outcome = await settle(outcome, { boundary: 'tool_call', tool: toolName, args: input, scope }, call, { messages }, hook);
    }
    if (outcome.type === 'refuse') return { type: 'denied', reason: outcome.error.decision.reason };
    return undefined;
  };

  const wrap = (name: string, tool: ToolLike): ToolLike => {
    const execute = tool.execute as NonNullable<ToolLike['execute']>;
    const info = (options: ExecutionOptionsLike): ToolCallInfo => ({
      toolName: name,
      toolCallId: options.toolCallId,
      context: options.context ?? options.experimental_context,
    });
    const how = (executionOptions: ExecutionOptionsLike) => ({
      messages: executionOptions.messages,
      ...(executionOptions.abortSignal ? { signal: executionOptions.abortSignal } : {}),
    });
    // INVARIANT: the decision comes before the tool runs; a refused or pending call never reaches
    // the original `execute`. A streaming tool (an async generator) stays one, so the SDK still
    // sees its preliminary results; each is decided before it is yielded.
    const guardedExecute = isAsyncGeneratorFunction(execute)
      ? async function* (input: unknown, executionOptions: ExecutionOptionsLike) {
          const call = info(executionOptions);
          const args = await authorize(call, input, how(executionOptions));
          for await (const value of execute(args, executionOptions) as AsyncIterable<unknown>) {
            yield await checkResult(call, value, executionOptions.abortSignal);
          }
        }
      : async (input: unknown, executionOptions: ExecutionOptionsLike) => {
          const call = info(executionOptions);
          const args = await authorize(call, input, how(executionOptions));
          const output = await execute(args, executionOptions);
          if (!isAsyncIterable(output)) return checkResult(call, output, executionOptions.abortSignal);
          // An iterable from a plain function cannot stay a stream behind an async wrapper: its
          // values are decided in turn and the last one is the result.
          let last: unknown;
          for await (const value of output) last = await checkResult(call, value, executionOptions.abortSignal);
          return last;
        };
    const wrapped: ToolLike = { ...tool, execute: guardedExecute };
    if (enforce) {
      // The mark palisadeMiddleware reads (and removes): this guard enforces the tool's calls.
      wrapped.providerOptions = { ...tool.providerOptions, [providerKey]: { guarded: true } };
      if (approval === 'sdk') {
        const own = tool.needsApproval;
        wrapped.needsApproval = async (input: unknown, approvalOptions: ApprovalOptionsLike) => {
          if (own === true) return true;
          if (typeof own === 'function' && (await own(input, approvalOptions))) return true;
          const status = await approvalStatus(
            name,
            approvalOptions.toolCallId,
            input,
            approvalOptions.messages,
            info(approvalOptions).context,
            'needsApproval',
          );
          return status?.type === 'user-approval';
        };
      }
    }
    return wrapped;
  };

  return { wrap, approvalStatus };
}

/**
 * The application's answer in the AI SDK's approval flow for one tool call, read from the
 * messages the SDK hands `execute`: the `tool-approval-request` parts of the assistant (automatic
 * ones, from a blanket `toolApproval` status, are not a human's) and the `tool-approval-response`
 * that answers one of them. The last answer wins.
 */
function findSdkApproval(messages: unknown, toolCallId: string): { approved: boolean; reason?: string } | undefined {
  if (!Array.isArray(messages)) return undefined;
  const requests = new Set<string>();
  for (const message of messages as { role?: unknown; content?: unknown }[]) {
    if (message?.role !== 'assistant' || !Array.isArray(message.content)) continue;
    for (const part of message.content as Record<string, unknown>[]) {
      if (part?.type === 'tool-approval-request' && part.toolCallId === toolCallId && part.isAutomatic !== true) {
        requests.add(String(part.approvalId));
      }
    }
  }
  if (requests.size === 0) return undefined;
  let answer: { approved: boolean; reason?: string } | undefined;
  for (const message of messages as { role?: unknown; content?: unknown }[]) {
    if (message?.role !== 'tool' || !Array.isArray(message.content)) continue;
    for (const part of message.content as Record<string, unknown>[]) {
      if (part?.type === 'tool-approval-response' && requests.has(String(part.approvalId))) {
        answer = { approved: part.approved === true, ...(typeof part.reason === 'string' ? { reason: part.reason } : {}) };
      }
    }
  }
  return answer;
}

const isAsyncGeneratorFunction = (value: unknown): boolean => Object.prototype.toString.call(value) === '[object AsyncGeneratorFunction]';

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as Record<symbol, unknown>)[Symbol.asyncIterator] === 'function';
