const marker = 'palisade.error';
const symbol: unique symbol = Symbol.for(marker);

/** Stable codes callers can branch on. */
export type PalisadeErrorCode =
  | 'INVALID_RULE_PACK'
  | 'INPUT_TOO_LARGE'
  | 'INPUT_TOO_DEEP'
  | 'INVALID_INPUT'
  | 'INVALID_OPTIONS'
  | 'INVALID_CONFIG'
  /** The state store could not be opened or written (file, permissions, schema version). */
  | 'STORE_FAILED'
  /** The audit log could not be opened, written or verified. */
  | 'AUDIT_FAILED'
  /** Another process holds the audit log's writer lock. */
  | 'AUDIT_LOCKED'
  /** A price was needed for a model the price table does not list. */
  | 'UNKNOWN_MODEL'
  /** An approval, receipt or token does not exist for this tenant. */
  | 'NOT_FOUND'
  /** A call was refused by a decision (adapters throw this in enforce mode). */
  | 'DECISION_BLOCKED';

export interface PalisadeErrorOptions {
  code: PalisadeErrorCode;
  message: string;
  /** How to fix it, shown after the message. */
  hint?: string;
  cause?: unknown;
}

/**
 * Base class of every error Palisade throws. Use `PalisadeError.isInstance(e)` rather than
 * `instanceof`: it survives two copies of the package being installed.
 *
 * @example
 * try { createScanner({ rulesDir: './missing' }) }
 * catch (error) { if (PalisadeError.isInstance(error) && error.code === 'INVALID_RULE_PACK') … }
 */
export class PalisadeError extends Error {
  readonly [symbol] = true;
  readonly code: PalisadeErrorCode;
  readonly hint: string | undefined;

  constructor({ code, message, hint, cause }: PalisadeErrorOptions) {
    super(hint ? `${message}\nHint: ${hint}` : message, { cause });
    this.name = 'PalisadeError';
    this.code = code;
    this.hint = hint;
  }

  static isInstance(error: unknown): error is PalisadeError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[symbol] === true;
  }
}
