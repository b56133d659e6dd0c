import { PalisadeError } from './palisade-error.js';

const symbol: unique symbol = Symbol.for('palisade.error.audit-locked');

/**
 * Another live process (or another log in this process) holds the audit directory's writer lock.
 * One writer per directory keeps `seq` contiguous and the hash chain linear.
 *
 * @example
 * try { openAuditLog({ directory }) }
 * catch (error) { if (AuditLockedError.isInstance(error)) report(`held by pid ${error.pid}`) }
 */
export class AuditLockedError extends PalisadeError {
  readonly [symbol] = true;
  readonly lockFile: string;
  /** Process id written in the lock file (undefined when the file is still being written). */
  readonly pid: number | undefined;
  readonly hostname: string | undefined;

  constructor({ lockFile, pid, hostname }: { lockFile: string; pid: number | undefined; hostname: string | undefined }) {
    const holder = pid === undefined ? 'a process that is creating it right now' : `process ${pid}${hostname ? ` on ${hostname}` : ''}`;
    super({
      code: 'AUDIT_LOCKED',
      message: `The audit log is locked by ${holder} (lock file ${lockFile}).`,
      hint:
        'Only one process may write an audit directory: stop that process, or give this one its own `audit.directory`. ' +
        `If no such process is running (for example the directory is shared with another host), delete ${lockFile}.`,
    });
    this.name = 'AuditLockedError';
    this.lockFile = lockFile;
    this.pid = pid;
    this.hostname = hostname;
  }

  static override isInstance(error: unknown): error is AuditLockedError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[symbol] === true;
  }
}
