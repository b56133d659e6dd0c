import { PalisadeError } from './palisade-error.js';

const symbol: unique symbol = Symbol.for('palisade.error.unknown-model');

/**
 * A cost was needed for a model that neither the shipped price table nor `budgets.prices` lists
 * (not by id, alias, snapshot prefix or with a provider prefix stripped). Budgets fail closed: an
 * unpriced call cannot be charged, so it is refused unless `budgets.unknown_model: zero` says to
 * count such calls as free.
 *
 * @example
 * try { prices.cost({ model: 'my-finetune', inputTokens: 10, outputTokens: 5 }) }
 * catch (error) { if (UnknownModelError.isInstance(error)) report(`no price for ${error.model}`) }
 */
export class UnknownModelError extends PalisadeError {
  readonly [symbol] = true;
  /** The model id as the caller gave it. */
  readonly model: string;

  constructor({ model }: { model: string }) {
    super({
      code: 'UNKNOWN_MODEL',
      message: `No price is known for model ${JSON.stringify(model)}.`,
      hint:
        `Add it under budgets.prices in palisade.yaml (USD per million tokens), e.g.\n` +
        `  budgets:\n    prices:\n      ${JSON.stringify(model)}: { input: 0.5, output: 1.5 }\n` +
        'or set budgets.unknown_model: zero to count calls to unpriced models as free.',
    });
    this.name = 'UnknownModelError';
    this.model = model;
  }

  static override isInstance(error: unknown): error is UnknownModelError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[symbol] === true;
  }
}
