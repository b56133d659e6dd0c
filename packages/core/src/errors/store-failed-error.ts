import { PalisadeError } from './palisade-error.js';

const symbol: unique symbol = Symbol.for('palisade.error.store-failed');

export interface StoreFailedErrorOptions {
  /** Where the state lives: a file path for SQLite, `:memory:` for the in-memory store. */
  location?: string;
  /** What went wrong and where, as full sentences (name the file). */
  message: string;
  /** How to fix it. */
  hint?: string;
  cause?: unknown;
}

/**
 * The state store could not be opened, read or written: the file is not a SQLite database, it was
 * written by a newer Palisade, the disk is full, another process held the write lock for longer
 * than the busy timeout, the store was closed, a value given to it is out of range, or a sealed
 * value does not open with the seal key.
 *
 * @example
 * try { openSqliteStore({ path: './palisade.db' }) }
 * catch (error) { if (StoreFailedError.isInstance(error)) report(error.location, error.message) }
 */
export class StoreFailedError extends PalisadeError {
  readonly [symbol] = true;
  readonly location: string | undefined;

  constructor({ location, message, hint, cause }: StoreFailedErrorOptions) {
    super({ code: 'STORE_FAILED', message, hint, cause });
    this.name = 'StoreFailedError';
    this.location = location;
  }

  static override isInstance(error: unknown): error is StoreFailedError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[symbol] === true;
  }
}
