import { PalisadeError } from './palisade-error.js';

const symbol: unique symbol = Symbol.for('palisade.error.audit-failed');

/**
 * The audit log could not be opened, written, read or verified: the directory is not writable,
 * the disk is full, a receipt cannot be serialised, or the log was closed with receipts that were
 * never written. `directory` names the audit directory; `cause` carries the underlying error.
 *
 * @example
 * try { log.append(record) }
 * catch (error) { if (AuditFailedError.isInstance(error)) blockTheCall(error.message) }
 */
export class AuditFailedError extends PalisadeError {
  readonly [symbol] = true;
  readonly directory: string;

  constructor({ directory, message, hint, cause }: { directory: string; message: string; hint?: string; cause?: unknown }) {
    super({ code: 'AUDIT_FAILED', message, hint, cause });
    this.name = 'AuditFailedError';
    this.directory = directory;
  }

  static override isInstance(error: unknown): error is AuditFailedError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[symbol] === true;
  }
}
