import { PalisadeError } from './palisade-error.js';

const symbol: unique symbol = Symbol.for('palisade.error.invalid-input');

/** The value given to `scan` is of a kind that cannot be scanned (a function, a symbol, a cycle). */
export class InvalidInputError extends PalisadeError {
  readonly [symbol] = true;
  readonly path: string;

  constructor({ path, message }: { path: string; message: string }) {
    super({
      code: 'INVALID_INPUT',
      message: `Cannot scan the value at ${path}: ${message}.`,
      hint: 'Pass a string, or plain JSON data (objects, arrays, strings, numbers, booleans, null).',
    });
    this.name = 'InvalidInputError';
    this.path = path;
  }

  static override isInstance(error: unknown): error is InvalidInputError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[symbol] === true;
  }
}
