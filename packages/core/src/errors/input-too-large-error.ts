import { PalisadeError } from './palisade-error.js';

const symbol: unique symbol = Symbol.for('palisade.error.input-too-large');

/** The input is longer than `maxInputLength` and the scanner was told not to truncate. */
export class InputTooLargeError extends PalisadeError {
  readonly [symbol] = true;
  readonly length: number;
  readonly limit: number;
  readonly path: string;

  constructor({ length, limit, path }: { length: number; limit: number; path: string }) {
    super({
      code: 'INPUT_TOO_LARGE',
      message: `Input at ${path} is ${length} characters long; the limit is ${limit}.`,
      hint: "Raise `maxInputLength`, or pass `oversize: 'truncate'` to scan the first part and mark the result as truncated.",
    });
    this.name = 'InputTooLargeError';
    this.length = length;
    this.limit = limit;
    this.path = path;
  }

  static override isInstance(error: unknown): error is InputTooLargeError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[symbol] === true;
  }
}
