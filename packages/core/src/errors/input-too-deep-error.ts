import { PalisadeError } from './palisade-error.js';

const symbol: unique symbol = Symbol.for('palisade.error.input-too-deep');

/** A structured input (tool arguments) nests deeper, or holds more keys, than the limits allow. */
export class InputTooDeepError extends PalisadeError {
  readonly [symbol] = true;
  readonly path: string;
  readonly limit: number;
  readonly kind: 'depth' | 'keys';

  constructor({ path, limit, kind }: { path: string; limit: number; kind: 'depth' | 'keys' }) {
    super({
      code: 'INPUT_TOO_DEEP',
      message:
        kind === 'depth'
          ? `Structured input nests deeper than ${limit} levels at ${path}.`
          : `Structured input holds more than ${limit} keys and items (reached at ${path}).`,
      hint: kind === 'depth' ? 'Raise `maxDepth` in the scanner options.' : 'Raise `maxKeys` in the scanner options.',
    });
    this.name = 'InputTooDeepError';
    this.path = path;
    this.limit = limit;
    this.kind = kind;
  }

  static override isInstance(error: unknown): error is InputTooDeepError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[symbol] === true;
  }
}
