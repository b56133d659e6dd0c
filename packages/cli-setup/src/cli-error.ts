const symbol: unique symbol = Symbol.for('palisade.cli.error');

/** Stable codes of the errors the operator CLI raises itself (core errors keep their own codes). */
export type CliErrorCode =
  /** The command line cannot be run: a missing or malformed argument or option. */
  | 'USAGE'
  /** No palisade.yaml where the command looked for one. */
  | 'CONFIG_NOT_FOUND'
  /** A tenant, app, policy, suppression or approval the command names does not exist. */
  | 'NOT_FOUND'
  /** `create` of something that exists already. */
  | 'ALREADY_EXISTS'
  /** A file the command would write exists (`init` without `--force`). */
  | 'FILE_EXISTS'
  /** The file changed on disk between reading it and writing the edit. */
  | 'FILE_CHANGED'
  /** The edit is valid YAML but would make the configuration invalid, or cannot be made safely. */
  | 'EDIT_REFUSED'
  /** A command or layout this build cannot handle (a missing optional part, a nested include). */
  | 'UNSUPPORTED'
  /** A running guard holds the audit log, and the command must write to it (an approval vote). */
  | 'AUDIT_LOCKED';

export interface CliErrorOptions {
  code: CliErrorCode;
  message: string;
  /** How to fix it, printed after the message. */
  hint?: string;
  cause?: unknown;
}

/**
 * An error of the `palisade` command itself. Every one of them exits with code 2 (usage or
 * runtime error); `hint` says what to do about it. Use `CliError.isInstance(e)` rather than
 * `instanceof`: it survives two copies of the package being installed.
 *
 * @example
 * throw new CliError({ code: 'NOT_FOUND', message: 'No tenant "acme" in palisade.yaml.', hint: 'Known tenants: beta. Create one with `palisade tenant create acme`.' });
 */
export class CliError extends Error {
  readonly [symbol] = true;
  readonly code: CliErrorCode;
  readonly hint: string | undefined;

  constructor({ code, message, hint, cause }: CliErrorOptions) {
    super(message, { cause });
    this.name = 'CliError';
    this.code = code;
    this.hint = hint;
  }

  static isInstance(error: unknown): error is CliError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[symbol] === true;
  }
}
