import { AIMessage, type BaseMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { type Boundary, boundaries, type Decision, type Guard, type GuardEvent, type Scope } from '@palisade/core';
import { createMiddleware, type ToolCallRequest } from 'langchain';
import { checkAdapterOptions, type PalisadeAdapterOptions, resolveScope } from './adapter-options.js';
import {
  type ApprovalAnswer,
  type AskApproval,
  approvalQueue,
  type DecisionContext,
  type DecisionHook,
  evaluateEvent,
  type Refusal,
  refusalError,
  reportError,
} from './evaluate-event.js';
import { currentRunIds } from './langchain-run-context.js';
import { contentText, jsonOrText, replaceContentText } from './message-text.js';
import { recordModelUsage } from './record-model-usage.js';

/** What the scope function of the middleware receives. */
export interface MiddlewareScopeInput {
  /** The agent's `context` of this invocation (`agent.invoke(input, { context })`). */
  context: unknown;
  threadId: string | undefined;
}

export interface PalisadeMiddlewareOptions extends PalisadeAdapterOptions<MiddlewareScopeInput> {
  /**
   * How an escalated tool call waits for a human. `approval-queue` (default): the run waits in
   * place for the guard's approval queue (a ticket someone approves with `guard.approve`, the
   * CLI or another process sharing the state store). `interrupt`: LangGraph's human-in-the-loop
   * interrupt (needs a checkpointer and a thread id; resume with
   * `new Command({ resume: { decisions: [{ type: 'approve' }] } })`). Input, output and tool
   * result escalations always use the approval queue.
   */
  escalation?: 'approval-queue' | 'interrupt';
  /**
   * A blocked prompt or model reply: `throw` (default) rejects the run with
   * `DecisionBlockedError`; `reply` ends the run with an AI message that gives the reason.
   * Blocked tool calls and results always become an error `ToolMessage` the model sees.
   */
  onBlocked?: 'throw' | 'reply';
  /**
   * `buffer` (default, enforce mode): the chat model's token stream is hidden from
   * `streamMode: 'messages'`, which then receives each checked (and redacted) reply whole.
   * `passthrough`: tokens stream as the model produces them, before Palisade has seen the reply.
   */
  streaming?: 'buffer' | 'passthrough';
  /** Model id for pricing token usage when the response does not name its model. */
  model?: string;
}

const blockedText = (reason: string) => `Blocked by Palisade: ${reason}`;

/**
 * Palisade as `createAgent` middleware.
 *
 * - The prompt of each invocation (`beforeAgent`): refused before the model is called, or
 *   redacted in the agent state, so the model and later turns see the redacted text.
 * - Every model call (`wrapModelCall`): refused once a budget is exhausted; the reply is checked
 *   before anything else sees it (redacted, or replaced by a refusal without its tool calls) and
 *   its token usage is charged to budgets.
 * - Every tool call and result (`wrapToolCall`): a refused call returns a `ToolMessage` with
 *   `status: 'error'` and the reason, and the tool never runs; an escalated call waits for
 *   approval first; a refused result is withheld from the model.
 * - A refused prompt or reply rejects the run with `DecisionBlockedError` (thrown from
 *   `beforeAgent` or `afterAgent`, so it is not wrapped), or ends it with a reply
 *   (`onBlocked: 'reply'`).
 *
 * Hooks that are graph nodes cost LangGraph about a millisecond each on every pass, so the
 * prompt is checked once per invocation (beforeAgent) rather than before every model call.
 *
 * @example
 * const guard = createGuard({ configPath: 'palisade.yaml' });
 * const agent = createAgent({
 *   model, tools,
 *   middleware: [palisadeMiddleware(guard, { scope: ({ context }) => ({ tenantId: 'acme', userId: context.userId }) })],
 * });
 */
export function palisadeMiddleware(guard: Guard, options: PalisadeMiddlewareOptions = {}) {
  checkAdapterOptions('palisadeMiddleware', options as PalisadeAdapterOptions<never> & Record<string, unknown>, {
    escalation: ['approval-queue', 'interrupt'],
    onBlocked: ['throw', 'reply'],
    streaming: ['buffer', 'passthrough'],
  });
  const mode = options.mode ?? 'enforce';
  const enforced = mode === 'enforce';
  const checks = new Set<Boundary>(options.boundaries ?? boundaries);
  const onBlocked = options.onBlocked ?? 'throw';
  const hideTokens = enforced && checks.has('output') && (options.streaming ?? 'buffer') === 'buffer';
  // Refusal messages written by wrapModelCall, by id, for afterAgent to throw (onBlocked: throw).
  const refusedReplies = new Map<string, Refusal>();
  // Interrupt mode: the ticket of the first pass through an interrupted tool call, by thread and
  // tool call id. LangGraph re-runs the node on resume, which asks the guard (and opens a ticket)
  // again; the first ticket is then closed as superseded.
  const interruptedTickets = new Map<string, string>();

  const prepare = (hook: DecisionHook, runtime: { context?: unknown } | undefined, extra: Partial<DecisionContext> = {}) => {
    const ids = currentRunIds();
    const scope = resolveScope(options.scope, { context: runtime?.context, threadId: ids.threadId }, ids.threadId);
    const context: DecisionContext = { hook, enforced, ...ids, ...extra };
    return { scope, context };
  };

  const evaluate = (
    event: GuardEvent,
    scope: Scope,
    context: DecisionContext,
    rewrite: 'text' | 'value',
    ask?: AskApproval,
    signal?: AbortSignal,
  ) =>
    evaluateEvent(
      guard,
      { ...event, scope },
      {
        mode,
        rewrite,
        context,
        askApproval: ask ?? approvalQueue(guard, scope, { timeoutMs: options.approvalTimeoutMs, signal }),
        onDecision: options.onDecision,
        onError: options.onError,
      },
    );

  const shadowSafe = async (context: DecisionContext, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      if (enforced) throw error;
      reportError(options.onError, error, context);
    }
  };

  return createMiddleware({
    name: 'PalisadeMiddleware',

    beforeAgent: {
      canJumpTo: ['end'],
      hook: async (state, runtime) => {
        if (!checks.has('input')) return undefined;
        const { scope, context } = prepare('beforeAgent', runtime);
        const messages = state.messages;
        // The prompt of this invocation: the human messages after the last AI message. Earlier
        // ones were checked on their own turn, AI and tool messages at their own boundaries.
        let start = messages.length;
        while (start > 0 && !AIMessage.isInstance(messages[start - 1])) start--;
        const updates: BaseMessage[] = [];
        for (const message of messages.slice(start)) {
          if (!HumanMessage.isInstance(message)) continue;
          const text = contentText(message.content);
          if (text === '') continue;
          const messageContext = message.id !== undefined ? { ...context, messageId: message.id } : context;
          const verdict = await evaluate({ boundary: 'input', text }, scope, messageContext, 'text', undefined, runtime.signal);
          if (verdict.kind === 'rewrite')
            updates.push(withContent(message, replaceContentText(message.content, verdict.replacement as string)));
          if (verdict.kind === 'refuse') {
            if (onBlocked === 'throw') throw refusalError(verdict);
            // The refused prompt is replaced in the state too, so a later turn does not send it on.
            const replaced = withContent(message, `[${blockedText(verdict.reason)}]`);
            return { messages: [...updates, replaced, new AIMessage(blockedText(verdict.reason))], jumpTo: 'end' as const };
          }
        }
        return updates.length > 0 ? { messages: updates } : undefined;
      },
    },

    wrapModelCall: async (request, handler) => {
      const { scope, context } = prepare('wrapModelCall', request.runtime);
      const signal = request.runtime.signal;
      if (checks.has('input') && guard.state) {
        // Every model call spends, also the later steps of a tool loop, which bring no new
        // prompt: once a budget is exhausted the guard decides an (empty) input event, which
        // blocks, and the model is not called.
        let exhausted = false;
        await shadowSafe(context, async () => {
          exhausted = (await guard.checkBudget(scope)).action === 'block';
        });
        if (exhausted) {
          const verdict = await evaluate({ boundary: 'input', text: '' }, scope, context, 'text', undefined, signal);
          if (verdict.kind === 'refuse') return refusalReply(verdict, undefined);
        }
      }
      const model = request.model as { withConfig?: (config: { tags: string[] }) => typeof request.model };
      // INVARIANT (streaming: buffer): the 'nostream' tag keeps LangGraph's messages stream
      // from relaying this model run's raw tokens; the stream gets the reply this hook returns.
      const response = await handler(
        hideTokens && typeof model.withConfig === 'function' ? { ...request, model: model.withConfig({ tags: ['nostream'] }) } : request,
      );
      await shadowSafe(context, () => recordModelUsage(guard, response, scope, { model: options.model, instance: request.model }));
      if (!checks.has('output')) return response;
      const text = contentText(response.content);
      if (text === '') return response;
      const replyContext = response.id !== undefined ? { ...context, messageId: response.id } : context;
      const verdict = await evaluate({ boundary: 'output', text }, scope, replyContext, 'text', undefined, signal);
      if (verdict.kind === 'proceed') return response;
      if (verdict.kind === 'rewrite') return copyReply(response, replaceContentText(response.content, verdict.replacement as string));
      // Refused: neither the text nor the tool calls of the reply go any further.
      return refusalReply(verdict, response);
    },

    // Registered only to throw: a throw inside wrapModelCall would reach the caller wrapped in
    // LangChain's MiddlewareError, one from afterAgent reaches it as it is.
    ...(onBlocked === 'throw'
      ? {
          afterAgent: (state: { messages: BaseMessage[] }) => {
            const id = state.messages.at(-1)?.id;
            const refusal = id === undefined ? undefined : refusedReplies.get(id);
            if (id === undefined || refusal === undefined) return undefined;
            refusedReplies.delete(id);
            throw refusalError(refusal);
          },
        }
      : {}),

    wrapToolCall: async (request, handler) => {
      const call = request.toolCall;
      const { scope, context } = prepare('wrapToolCall', request.runtime, call.id !== undefined ? { toolCallId: call.id } : {});
      const signal = request.runtime.signal;
      let effective = request;
      if (checks.has('tool_call')) {
        const ask = options.escalation === 'interrupt' ? interruptApproval(request, scope, context) : undefined;
        const verdict = await evaluate({ boundary: 'tool_call', tool: call.name, args: call.args }, scope, context, 'value', ask, signal);
        if (verdict.kind === 'refuse') return toolError(request, blockedText(verdict.reason));
        if (verdict.kind === 'rewrite') {
          if (!isRecord(verdict.replacement)) return toolError(request, blockedText('the redacted arguments are not an object'));
          effective = { ...request, toolCall: { ...call, args: verdict.replacement } };
        }
      }
      const result = await handler(effective);
      // A tool that returns a Command updates the graph directly; only ToolMessages are checked.
      if (!checks.has('tool_result') || !ToolMessage.isInstance(result)) return result;
      const value = jsonOrText(result.content);
      const event: GuardEvent =
        typeof value === 'string'
          ? { boundary: 'tool_result', tool: call.name, result: value, text: value }
          : { boundary: 'tool_result', tool: call.name, result: value };
      const verdict = await evaluate(event, scope, context, typeof value === 'string' ? 'text' : 'value', undefined, signal);
      if (verdict.kind === 'proceed') return result;
      if (verdict.kind === 'refuse') return toolError(request, `Palisade withheld the result of ${call.name}: ${verdict.reason}`);
      return new ToolMessage({
        content: typeof verdict.replacement === 'string' ? verdict.replacement : JSON.stringify(verdict.replacement),
        tool_call_id: result.tool_call_id,
        ...(result.name !== undefined ? { name: result.name } : {}),
        status: result.status ?? 'success',
        artifact: result.artifact,
        ...(result.id !== undefined ? { id: result.id } : {}),
      });
    },
  });

  /** The AI message that stands in for a refused model call or reply (the run then ends). */
  function refusalReply(verdict: Refusal, response: AIMessage | undefined): AIMessage {
    const id = response?.id ?? `palisade-${verdict.decision.eventId}`;
    if (onBlocked === 'throw') refusedReplies.set(id, verdict);
    return new AIMessage({
      id,
      content: blockedText(verdict.reason),
      ...(response ? { response_metadata: response.response_metadata } : {}),
      ...(response?.usage_metadata ? { usage_metadata: response.usage_metadata } : {}),
    });
  }

  function interruptApproval(request: ToolCallRequest, scope: Scope, context: DecisionContext): AskApproval {
    return async (decision) => {
      const key = `${context.threadId ?? ''}\u0000${request.toolCall.id ?? ''}`;
      const earlier = interruptedTickets.get(key);
      if (decision.approvalId !== undefined) interruptedTickets.set(key, decision.approvalId);
      // First pass: throws LangGraph's GraphInterrupt, which pauses the run. On resume: returns
      // the answer given to `Command({ resume })`.
      const interrupt = request.runtime.interrupt;
      if (typeof interrupt !== 'function')
        return {
          status: 'unavailable',
          allowed: false,
          detail: 'escalation "interrupt" needs LangGraph\'s interrupt, which this run does not offer',
        };
      const answer = readResume(interrupt(humanReviewRequest(request, decision)));
      interruptedTickets.delete(key);
      if (!guard.state || decision.approvalId === undefined)
        return answer.approved ? { status: 'approved', allowed: true } : { status: 'denied', allowed: false, detail: answer.reason };
      const tenant = scope.tenantId !== undefined ? { tenantId: scope.tenantId } : {};
      if (earlier !== undefined && earlier !== decision.approvalId)
        await guard
          .deny(earlier, {
            ...tenant,
            approver: 'palisade',
            reason: `Superseded by ticket ${decision.approvalId} when LangGraph resumed the run`,
          })
          .catch(() => undefined);
      const outcome = answer.approved
        ? await guard.approve(decision.approvalId, {
            ...tenant,
            approver: answer.approver,
            ...(answer.reason ? { note: answer.reason } : {}),
          })
        : await guard.deny(decision.approvalId, { ...tenant, approver: answer.approver, reason: answer.reason ?? 'Rejected on resume' });
      const ticket = outcome.ticket;
      return { status: ticket.status, allowed: ticket.status === 'approved', detail: ticket.resolution?.reason } satisfies ApprovalAnswer;
    };
  }
}

/** The interrupt value: LangChain's HITL request shape (so its review UIs work), plus Palisade's ticket. */
function humanReviewRequest(request: ToolCallRequest, decision: Decision) {
  return {
    actionRequests: [{ name: request.toolCall.name, args: request.toolCall.args, description: `Palisade: ${decision.reason}` }],
    reviewConfigs: [{ actionName: request.toolCall.name, allowedDecisions: ['approve', 'reject'] }],
    palisade: {
      eventId: decision.eventId,
      reason: decision.reason,
      rule: `${decision.decidedBy.policyId}/${decision.decidedBy.rule}`,
      ...(decision.approvalId !== undefined ? { approvalId: decision.approvalId } : {}),
    },
  };
}

/**
 * The resume answer: LangChain's `{ decisions: [{ type: 'approve' | 'reject', message? }] }` or
 * one such decision, optionally with `approver`. Anything else (including `edit`, which would
 * be a different call needing its own decision) is a rejection.
 */
function readResume(value: unknown): { approved: boolean; approver: string; reason?: string } {
  const decisions = isRecord(value) && Array.isArray(value.decisions) ? value.decisions : [value];
  const first = decisions[0];
  const choice = isRecord(first) ? first : {};
  const approver = typeof choice.approver === 'string' && choice.approver !== '' ? choice.approver : 'langgraph-resume';
  const reason = typeof choice.message === 'string' ? choice.message : undefined;
  if (choice.type === 'approve') return { approved: true, approver, ...(reason !== undefined ? { reason } : {}) };
  return { approved: false, approver, reason: reason ?? `Not approved (resume answer ${JSON.stringify(choice.type ?? null)})` };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toolError(request: ToolCallRequest, content: string): ToolMessage {
  return new ToolMessage({ content, tool_call_id: request.toolCall.id ?? '', name: request.toolCall.name, status: 'error' });
}

/** The same message (same id, so the state replaces it) with other content. */
function withContent(message: BaseMessage, content: BaseMessage['content']): BaseMessage {
  return new HumanMessage({
    content,
    ...(message.id !== undefined ? { id: message.id } : {}),
    ...(message.name !== undefined ? { name: message.name } : {}),
    additional_kwargs: message.additional_kwargs,
    response_metadata: message.response_metadata,
  });
}

function copyReply(reply: AIMessage, content: AIMessage['content']): AIMessage {
  return new AIMessage({
    content,
    ...(reply.id !== undefined ? { id: reply.id } : {}),
    ...(reply.name !== undefined ? { name: reply.name } : {}),
    tool_calls: reply.tool_calls ?? [],
    invalid_tool_calls: reply.invalid_tool_calls ?? [],
    ...(reply.usage_metadata ? { usage_metadata: reply.usage_metadata } : {}),
    additional_kwargs: reply.additional_kwargs,
    response_metadata: reply.response_metadata,
  });
}
