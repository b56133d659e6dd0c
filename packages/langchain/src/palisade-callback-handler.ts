import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import type { DocumentInterface } from '@langchain/core/documents';
import type { Serialized } from '@langchain/core/load/serializable';
import { AIMessage, type BaseMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import type { LLMResult } from '@langchain/core/outputs';
import { type Boundary, boundaries, type Guard, type GuardEvent, type Scope } from '@palisade/core';
import { checkAdapterOptions, type PalisadeAdapterOptions, resolveScope } from './adapter-options.js';
import { approvalQueue, type DecisionContext, type DecisionHook, evaluateEvent, refusalError, reportError } from './evaluate-event.js';
import { contentText, jsonOrText } from './message-text.js';
import { type ModelResponseLike, recordModelUsage } from './record-model-usage.js';

/** What the scope function of the callback handler receives: the callback's run. */
export interface CallbackScopeInput {
  runId: string;
  parentRunId: string | undefined;
  metadata: Record<string, unknown> | undefined;
  tags: string[] | undefined;
}

export interface PalisadeCallbackHandlerOptions extends PalisadeAdapterOptions<CallbackScopeInput> {
  /**
   * A callback observes; it cannot rewrite a prompt, a reply, tool arguments or documents. When
   * a decision redacts: `block` (default) refuses the call, fail closed; `allow` records the
   * decision and lets the content through unredacted.
   */
  onRedact?: 'block' | 'allow';
  /** Model id for pricing token usage when the response does not name its model. */
  model?: string;
}

interface RunRecord {
  scope: Scope;
  input: CallbackScopeInput;
  /** `metadata.thread_id`, which LangGraph puts on the runs of a thread. */
  threadId?: string | undefined;
  /** Tool name, retriever tool name, or model id from the run's metadata. */
  name?: string | undefined;
}

/**
 * Palisade as a LangChain callback handler, for chains and agents built without `createAgent`
 * middleware. It is always constructed with `raiseError: true` (LangChain's default only logs a
 * handler's error, which fails open), so a refusal is a `DecisionBlockedError` thrown from the
 * callback, and LangChain awaits the handler before the call goes on:
 *
 * - chat model / LLM start: the prompt (human messages of the current turn) is checked; a
 *   refusal rejects the model call before it is made;
 * - LLM end: the reply is checked and its token usage charged to budgets; a refusal rejects the
 *   call, so the reply never reaches the caller;
 * - tool start: the call is checked (escalations wait for the approval queue); a refusal means
 *   the tool never runs;
 * - tool end: the result is checked; a refusal keeps it from the caller;
 * - retriever end: each document is checked as RAG content, boundary `tool_result`, tool
 *   `retriever.<name>`.
 *
 * Not covered: tokens streamed before LLM end, and redaction (see `onRedact`). Inside
 * `createAgent`, a throw at tool start becomes an error ToolMessage (LangChain's ToolNode
 * catches it); use `palisadeMiddleware` there.
 *
 * @example
 * const palisade = new PalisadeCallbackHandler(guard, { scope: { tenantId: 'acme' } });
 * await chain.invoke(input, { callbacks: [palisade] });
 */
export class PalisadeCallbackHandler extends BaseCallbackHandler {
  name = 'PalisadeCallbackHandler';
  readonly #guard: Guard;
  readonly #options: PalisadeCallbackHandlerOptions;
  readonly #checks: Set<Boundary>;
  readonly #runs = new Map<string, RunRecord>();

  constructor(guard: Guard, options: PalisadeCallbackHandlerOptions = {}) {
    // INVARIANT: raiseError goes to the base constructor, which then also sets awaitHandlers;
    // set later (a class field) the error would be logged and the call would go ahead.
    super({ raiseError: true });
    checkAdapterOptions('PalisadeCallbackHandler', options as PalisadeAdapterOptions<never> & Record<string, unknown>, {
      onRedact: ['block', 'allow'],
    });
    this.#guard = guard;
    this.#options = options;
    this.#checks = new Set(options.boundaries ?? boundaries);
  }

  /** LangChain copies handlers in some paths; the copy must be this handler, with its options and guard. */
  override copy(): PalisadeCallbackHandler {
    return this;
  }

  override async handleLLMStart(_llm: Serialized, prompts: string[], ...rest: ModelStartArguments): Promise<void> {
    await this.#checkPrompts(
      'handleLLMStart',
      rest,
      prompts.map((text) => ({ text })),
    );
  }

  override async handleChatModelStart(_llm: Serialized, messages: BaseMessage[][], ...rest: ModelStartArguments): Promise<void> {
    await this.#checkPrompts('handleChatModelStart', rest, messages.flatMap(currentTurnPrompts));
  }

  override async handleLLMEnd(output: LLMResult, runId: string, parentRunId?: string, tags?: string[]): Promise<void> {
    const run = this.#finish(runId, parentRunId, tags);
    const first = output.generations[0]?.[0] as { message?: ModelResponseLike } | undefined;
    const tokenUsage = (output.llmOutput as { tokenUsage?: { promptTokens?: number; completionTokens?: number } } | undefined)?.tokenUsage;
    const response: ModelResponseLike | undefined =
      first?.message ??
      (tokenUsage
        ? {
            usage_metadata: { input_tokens: tokenUsage.promptTokens, output_tokens: tokenUsage.completionTokens },
            response_metadata: (output.llmOutput ?? {}) as Record<string, unknown>,
          }
        : undefined);
    if (response) {
      const context = this.#context('handleLLMEnd', run, runId);
      try {
        await recordModelUsage(this.#guard, response, run.scope, { model: this.#options.model ?? run.name });
      } catch (error) {
        if (this.#options.mode !== 'shadow') throw error;
        reportError(this.#options.onError, error, context);
      }
    }
    if (!this.#checks.has('output')) return;
    for (const generations of output.generations)
      for (const generation of generations) {
        const message = (generation as { message?: BaseMessage }).message;
        const text = message ? contentText(message.content) : generation.text;
        if (text === '') continue;
        await this.#enforce('handleLLMEnd', run, runId, { boundary: 'output', text }, message?.id);
      }
  }

  override handleLLMError(_error: Error, runId: string): void {
    this.#runs.delete(runId);
  }

  override async handleToolStart(
    _tool: Serialized,
    input: string,
    runId: string,
    parentRunId?: string,
    tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
    toolCallId?: string,
  ): Promise<void> {
    const name = runName ?? 'tool';
    const run = this.#start(runId, parentRunId, metadata, tags, name);
    if (!this.#checks.has('tool_call')) return;
    // The callback gets the arguments as the JSON text LangChain made of them.
    await this.#enforce(
      'handleToolStart',
      run,
      runId,
      { boundary: 'tool_call', tool: name, args: jsonOrText(input) },
      undefined,
      toolCallId,
    );
  }

  override async handleToolEnd(output: unknown, runId: string, parentRunId?: string, tags?: string[]): Promise<void> {
    const run = this.#finish(runId, parentRunId, tags);
    if (!this.#checks.has('tool_result')) return;
    const message = ToolMessage.isInstance(output) ? output : undefined;
    const value = message ? jsonOrText(message.content) : output;
    const event: GuardEvent =
      typeof value === 'string'
        ? { boundary: 'tool_result', tool: run.name ?? 'tool', result: value, text: value }
        : { boundary: 'tool_result', tool: run.name ?? 'tool', result: value };
    await this.#enforce('handleToolEnd', run, runId, event, undefined, message?.tool_call_id);
  }

  override handleToolError(_error: Error, runId: string): void {
    this.#runs.delete(runId);
  }

  override handleRetrieverStart(
    retriever: Serialized,
    _query: string,
    runId: string,
    parentRunId?: string,
    tags?: string[],
    metadata?: Record<string, unknown>,
    name?: string,
  ): void {
    this.#start(runId, parentRunId, metadata, tags, `retriever.${name ?? retriever.id.at(-1) ?? 'default'}`);
  }

  override async handleRetrieverEnd(documents: DocumentInterface[], runId: string, parentRunId?: string, tags?: string[]): Promise<void> {
    const run = this.#finish(runId, parentRunId, tags);
    if (!this.#checks.has('tool_result')) return;
    // Retrieved documents are indirect input, like a tool's result: boundary tool_result.
    for (const document of documents) {
      if (document.pageContent === '') continue;
      await this.#enforce('handleRetrieverEnd', run, runId, {
        boundary: 'tool_result',
        tool: run.name ?? 'retriever.default',
        result: document.pageContent,
        text: document.pageContent,
      });
    }
  }

  override handleRetrieverError(_error: Error, runId: string): void {
    this.#runs.delete(runId);
  }

  #start(
    runId: string,
    parentRunId: string | undefined,
    metadata: Record<string, unknown> | undefined,
    tags: string[] | undefined,
    name?: string,
  ): RunRecord {
    const input: CallbackScopeInput = { runId, parentRunId, metadata, tags };
    const threadId = typeof metadata?.thread_id === 'string' ? metadata.thread_id : undefined;
    const run: RunRecord = { scope: resolveScope(this.#options.scope, input, threadId), input, name, threadId };
    this.#runs.set(runId, run);
    return run;
  }

  /** The run's record from its start, removed; a run that started before this handler was attached gets one now. */
  #finish(runId: string, parentRunId: string | undefined, tags: string[] | undefined): RunRecord {
    const run = this.#runs.get(runId);
    if (run) {
      this.#runs.delete(runId);
      return run;
    }
    const input: CallbackScopeInput = { runId, parentRunId, metadata: undefined, tags };
    return { scope: resolveScope(this.#options.scope, input, undefined), input };
  }

  #context(hook: DecisionHook, run: RunRecord, runId: string, messageId?: string, toolCallId?: string): DecisionContext {
    const context: DecisionContext = { hook, runId, enforced: this.#options.mode !== 'shadow' };
    if (run.input.parentRunId !== undefined) context.parentRunId = run.input.parentRunId;
    if (run.threadId !== undefined) context.threadId = run.threadId;
    if (messageId !== undefined) context.messageId = messageId;
    if (toolCallId !== undefined) context.toolCallId = toolCallId;
    return context;
  }

  async #enforce(
    hook: DecisionHook,
    run: RunRecord,
    runId: string,
    event: GuardEvent,
    messageId?: string,
    toolCallId?: string,
  ): Promise<void> {
    const options = this.#options;
    const verdict = await evaluateEvent(
      this.#guard,
      { ...event, scope: run.scope },
      {
        mode: options.mode ?? 'enforce',
        rewrite: options.onRedact === 'allow' ? 'text' : 'none',
        context: this.#context(hook, run, runId, messageId, toolCallId),
        askApproval: approvalQueue(this.#guard, run.scope, { timeoutMs: options.approvalTimeoutMs }),
        onDecision: options.onDecision,
        onError: options.onError,
      },
    );
    // A `rewrite` verdict only arises with onRedact: allow; the content passes as it is.
    if (verdict.kind === 'refuse') throw refusalError(verdict);
  }

  /** A model call with no prompt text to check still spends: an exhausted budget blocks it. */
  /** Starts a model run and checks its non-empty prompts; with none to check, the budget still gates the call. */
  async #checkPrompts(
    hook: DecisionHook,
    [runId, parentRunId, , tags, metadata]: ModelStartArguments,
    prompts: readonly { text: string; messageId?: string | undefined }[],
  ): Promise<void> {
    const run = this.#start(runId, parentRunId, metadata, tags, modelIdOf(metadata));
    if (!this.#checks.has('input')) return;
    let checked = 0;
    for (const { text, messageId } of prompts) {
      if (text === '') continue;
      checked++;
      await this.#enforce(hook, run, runId, { boundary: 'input', text }, messageId);
    }
    if (checked === 0) await this.#budgetGate(run, runId);
  }

  async #budgetGate(run: RunRecord, runId: string): Promise<void> {
    if (!this.#guard.state) return;
    let exhausted = false;
    try {
      exhausted = (await this.#guard.checkBudget(run.scope)).action === 'block';
    } catch (error) {
      if (this.#options.mode !== 'shadow') throw error;
      reportError(this.#options.onError, error, this.#context('handleChatModelStart', run, runId));
    }
    if (exhausted) await this.#enforce('handleChatModelStart', run, runId, { boundary: 'input', text: '' });
  }
}

/** What LangChain passes to `handleLLMStart` and `handleChatModelStart` after the model and its input. */
type ModelStartArguments = [
  runId: string,
  parentRunId?: string,
  extraParams?: Record<string, unknown>,
  tags?: string[],
  metadata?: Record<string, unknown>,
];

/** The prompts of a conversation's current turn: the human messages after the last AI message. */
function currentTurnPrompts(conversation: BaseMessage[]): { text: string; messageId: string | undefined }[] {
  let start = conversation.length;
  while (start > 0 && !AIMessage.isInstance(conversation[start - 1])) start--;
  return conversation
    .slice(start)
    .filter((message) => HumanMessage.isInstance(message))
    .map((message) => ({ text: contentText(message.content), messageId: message.id }));
}

function modelIdOf(metadata: Record<string, unknown> | undefined): string | undefined {
  const name = metadata?.ls_model_name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}
