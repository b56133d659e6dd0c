import { PalisadeError } from './palisade-error.js';

const symbol: unique symbol = Symbol.for('palisade.error.invalid-input');

/**
 * A value given to the API is unusable: a scan input of a kind that cannot be scanned (a
 * function, a symbol, a cycle), or a bad argument elsewhere (negative token counts, a time that
 * is not a time). `path` names the value.
 */
export class InvalidInputError extends PalisadeError {
  readonly [symbol] = true;
  readonly path: string;

  /** Without `hint`, the message and hint speak of scanning; pass `hint` for any other input. */
  constructor({ path, message, hint }: { path: string; message: string; hint?: string }) {
    super({
      code: 'INVALID_INPUT',
      message: hint === undefined ? `Cannot scan the value at ${path}: ${message}.` : `Invalid ${path}: ${message}.`,
      hint: hint ?? 'Pass a string, or plain JSON data (objects, arrays, strings, numbers, booleans, null).',
    });
    this.name = 'InvalidInputError';
    this.path = path;
  }

  static override isInstance(error: unknown): error is InvalidInputError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[symbol] === true;
  }
}
