import { type Guard, PalisadeError, type Scope } from '@palisade/core';
import type { LanguageModelMiddleware } from 'ai';
import { type CallContext, readScope, startCall } from './call-context.js';
import { checkModelToolCall, checkOutputText } from './guard-output.js';
import { guardPrompt } from './guard-prompt.js';
import { guardStream } from './guard-stream.js';
import { createStreamHoldBack } from './stream-hold-back.js';
import {
  type CallOptionsLike,
  type ContentPart,
  type DecisionHook,
  type GenerateResultLike,
  isToolCallPart,
  type ModelLike,
  type OnDecision,
  type OnError,
  type PalisadeMode,
  type StreamResultLike,
  type UsageLike,
} from './types.js';

export interface PalisadeMiddlewareOptions {
  /** `enforce` (default) acts on decisions; `shadow` only records them. */
  mode?: PalisadeMode;
  /** Scope of every call; `providerOptions.palisade.scope` of a call overrides it field by field. */
  scope?: Scope;
  /** Called with every decision and how the SDK's ids relate to it. Cannot change or delay a decision. */
  onDecision?: OnDecision;
  /** Failures that are not decisions (usage recording, a throwing onDecision). Default: a process warning. */
  onError?: OnError;
  /** Check the tool calls the model asks for (default true). */
  checkToolCalls?: boolean;
  /** Record each call's token usage against the scope's budgets when the guard keeps state (default true). */
  recordUsage?: boolean;
  /** The bounded hold-back of streamed text (see `createStreamHoldBack` and the README, "Streaming"). */
  stream?: { holdBackChars?: number; maxHoldBackChars?: number; releaseChars?: number };
  /**
   * Middleware spec version to declare. Default `'v3'`: ai@6 requires it and ai@7 accepts it (its
   * `wrapLanguageModel` hands a middleware the V4 shapes whatever it declares, and this one reads
   * only what V3 and V4 share). Set `'v4'` where a type asks for `LanguageModelV4Middleware`.
   */
  specificationVersion?: 'v3' | 'v4';
}

/**
 * A language-model middleware that puts the guard between the AI SDK and the model, for ai@6
 * (LanguageModelV3) and ai@7 (LanguageModelV4):
 *
 * - **input** (`transformParams`): the user's text is one `input` event (budgets are checked
 *   there), each tool result in the prompt a `tool_result` event; blocked → `DecisionBlockedError`
 *   before the model is called, redacted → the model sees the redacted text.
 * - **output** (`wrapGenerate`): model text is an `output` event (redacted in place or blocked),
 *   every tool call a `tool_call` event (its input redacted, or the call refused — unless
 *   `guardTools` wraps that tool, which then holds or refuses it at execution).
 * - **streams** (`wrapStream`): the same on the stream, with redaction that is safe across chunk
 *   boundaries and holds back only a bounded tail, and a clean stop on a block.
 * - **usage**: each call's tokens are recorded against the scope's budgets (`guard.recordUsage`
 *   with `model.modelId`) when the guard keeps state, behind the answer; the next call through
 *   the middleware waits for it before its budget check.
 *
 * Per call, `providerOptions: { palisade: { scope, runId } }` sets the scope (tenant, app, user,
 * session, policy) and a run id; both are removed before the request goes to the provider.
 *
 * @example
 * import { wrapLanguageModel, generateText } from 'ai';
 * import { createGuard } from '@palisade/core';
 * import { palisadeMiddleware } from '@palisade/vercel-ai';
 *
 * const guard = createGuard({ configPath: 'palisade.yaml' });
 * const model = wrapLanguageModel({ model: openai('gpt-4o'), middleware: palisadeMiddleware(guard, { scope: { tenantId: 'acme' } }) });
 * await generateText({ model, prompt, providerOptions: { palisade: { scope: { userId: 'u-42' } } } });
 */
export function palisadeMiddleware(guard: Guard, options: PalisadeMiddlewareOptions = {}): LanguageModelMiddleware {
  const mode = options.mode ?? 'enforce';
  if (mode !== 'enforce' && mode !== 'shadow') {
    throw new PalisadeError({ code: 'INVALID_OPTIONS', message: `mode must be 'enforce' or 'shadow'; got ${String(mode)}.` });
  }
  const scope = readScope(options.scope, 'options.scope');
  // Bad hold-back bounds fail here, not at the first stream.
  if (options.stream) createStreamHoldBack({ scan: () => [], ...options.stream });
  const checkToolCalls = options.checkToolCalls ?? true;
  const recordUsage = options.recordUsage ?? true;
  // The context of each call, keyed by the params object transformParams returned: the SDK hands
  // that very object to wrapGenerate / wrapStream (ai@6 and ai@7 alike).
  const calls = new WeakMap<object, CallContext>();

  const begin = (params: CallOptionsLike, model: ModelLike) =>
    startCall(params, {
      guard,
      mode,
      scope,
      modelId: model.modelId,
      onDecision: options.onDecision,
      onError: options.onError,
    });

  const contextFor = (params: CallOptionsLike, model: ModelLike): CallContext => calls.get(params) ?? begin(params, model).context;

  // Usage is recorded behind the answer (a store write it need not wait for), and the next call
  // through this middleware waits for what is still being recorded before its budget check.
  // INVARIANT: a call's input decision sees the spend of every call this middleware finished.
  const recording = new Set<Promise<void>>();
  const record = (call: CallContext, usage: UsageLike | undefined, hook: DecisionHook): void => {
    if (!recordUsage || !guard.state || !usage) return;
    const inputTokens = usage.inputTokens?.total ?? 0;
    const outputTokens = usage.outputTokens?.total ?? 0;
    if (inputTokens === 0 && outputTokens === 0) return;
    const cached = usage.inputTokens?.cacheRead;
    const pending: Promise<void> = guard
      .recordUsage({ model: call.modelId, inputTokens, outputTokens, ...(cached ? { cachedInputTokens: cached } : {}) }, call.scope)
      .then(
        () => undefined,
        // The tokens are spent whatever happens here; failing the answer would not get them back.
        (error: unknown) => call.reportError(error, hook),
      )
      .finally(() => recording.delete(pending));
    recording.add(pending);
  };

  const middleware = {
    specificationVersion: options.specificationVersion ?? 'v3',

    async transformParams({ params, model }: { params: CallOptionsLike; type: 'generate' | 'stream'; model: ModelLike }) {
      if (recording.size > 0) await Promise.all(recording);
      const started = begin(params, model);
      const prompt = await guardPrompt(started.params.prompt, started.context);
      const next = prompt === started.params.prompt ? started.params : { ...started.params, prompt };
      calls.set(next, started.context);
      return next;
    },

    async wrapGenerate({
      doGenerate,
      params,
      model,
    }: {
      doGenerate: () => PromiseLike<GenerateResultLike>;
      params: CallOptionsLike;
      model: ModelLike;
    }) {
      const call = contextFor(params, model);
      const result = await doGenerate();
      record(call, result.usage, 'wrapGenerate');
      const content: ContentPart[] = [];
      let changed = false;
      for (const part of result.content) {
        if ((part.type === 'text' || part.type === 'reasoning') && typeof part.text === 'string') {
          const outcome = await checkOutputText(part.text, call, 'wrapGenerate', { stage: 'final' });
          if (mode === 'enforce' && outcome.type === 'refuse') throw outcome.error;
          if (mode === 'enforce' && outcome.type === 'rewrite') {
            content.push({ ...part, text: outcome.text ?? '' });
            changed = true;
            continue;
          }
        } else if (checkToolCalls && isToolCallPart(part)) {
          const verdict = await checkModelToolCall(part, call, 'wrapGenerate');
          if ('refused' in verdict) throw verdict.refused;
          if (verdict.part !== part) changed = true;
          content.push(verdict.part);
          continue;
        }
        content.push(part);
      }
      return changed ? { ...result, content } : result;
    },

    async wrapStream({
      doStream,
      params,
      model,
    }: {
      doStream: () => PromiseLike<StreamResultLike>;
      params: CallOptionsLike;
      model: ModelLike;
    }) {
      const call = contextFor(params, model);
      const { stream, ...rest } = await doStream();
      const guarded = guardStream(call, {
        checkToolCalls,
        ...(options.stream ? { holdBack: options.stream } : {}),
        recordUsage: (usage) => record(call, usage, 'wrapStream'),
      });
      return { ...rest, stream: stream.pipeThrough(guarded) };
    },
  };
  // The shapes above are the subset V3 and V4 share (./types.ts); the declared type resolves
  // against the `ai` the application installed.
  return middleware as unknown as LanguageModelMiddleware;
}
