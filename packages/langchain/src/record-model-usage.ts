import { type Guard, PalisadeError, type Scope } from '@palisade/core';

type UsageLike = { input_tokens?: unknown; output_tokens?: unknown; input_token_details?: { cache_read?: unknown } };

/** What a model response says about itself: an `AIMessage`, or the same fields from an `LLMResult`. */
export interface ModelResponseLike {
  usage_metadata?: UsageLike | undefined;
  response_metadata?: Record<string, unknown> | undefined;
}

/**
 * The model id to price a response with: the one the provider reported
 * (`response_metadata.model_name` or `.model`), else `fallback` (the `model` option), else the
 * chat model instance's `model` / `modelName` field.
 */
export function modelNameOf(message: ModelResponseLike, fallback: string | undefined, instance?: unknown): string | undefined {
  const metadata = message.response_metadata;
  for (const value of [metadata?.model_name, metadata?.model, fallback]) if (typeof value === 'string' && value !== '') return value;
  const fields = instance as { model?: unknown; modelName?: unknown } | undefined;
  for (const value of [fields?.model, fields?.modelName]) if (typeof value === 'string' && value !== '') return value;
  return undefined;
}

/**
 * Charges a model response's token usage (`usage_metadata`) to the scope's budgets. Nothing
 * happens when the guard keeps no state or the response reports no usage. A response that
 * names no model cannot be priced: that is an `INVALID_OPTIONS` error, not a silent free call.
 *
 * @example
 * await recordModelUsage(guard, aiMessage, { tenantId: 'acme' }, { model: 'gpt-4o-mini' });
 */
export async function recordModelUsage(
  guard: Guard,
  message: ModelResponseLike,
  scope: Scope,
  options: { model?: string | undefined; instance?: unknown },
): Promise<void> {
  if (!guard.state) return;
  const usage = message.usage_metadata;
  if (!usage) return;
  const model = modelNameOf(message, options.model, options.instance);
  if (model === undefined)
    throw new PalisadeError({
      code: 'INVALID_OPTIONS',
      message: 'Palisade cannot charge this model call to a budget: the response reports token usage but names no model.',
      hint: 'Pass `model: "<model id>"` in the Palisade options (and price it under budgets.prices if the price table does not list it).',
    });
  const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0);
  const cached = count(usage.input_token_details?.cache_read);
  await guard.recordUsage(
    {
      model,
      inputTokens: count(usage.input_tokens),
      outputTokens: count(usage.output_tokens),
      ...(cached > 0 ? { cachedInputTokens: cached } : {}),
    },
    scope,
  );
}
