const symbol: unique symbol = Symbol.for('palisade.cli.setup-error');

/** Stable codes callers (and the exit code) can branch on. */
export type SetupErrorCode =
  /** A path the plan would write resolves outside the target folder. */
  | 'PATH_OUTSIDE_TARGET'
  /** A project file setup must edit (package.json, an MCP client config) is not valid JSON or has the wrong shape. */
  | 'INVALID_PROJECT_FILE'
  /** A template is missing, escapes the templates folder, or uses a placeholder no one fills. */
  | 'INVALID_TEMPLATE'
  /** An option cannot be honoured (unknown target, package manager or language; a client config that is a folder). */
  | 'INVALID_SETUP_OPTIONS'
  /** A file changed between planning and writing; nothing was written. */
  | 'PLAN_OUT_OF_DATE'
  /** Writing the plan failed part way; the message names the file. */
  | 'WRITE_FAILED';

export interface SetupErrorOptions {
  code: SetupErrorCode;
  message: string;
  /** How to fix it, shown after the message. */
  hint?: string;
  /** The file the problem is about (absolute). */
  file?: string;
  cause?: unknown;
}

/**
 * The one error `palisade setup` throws on purpose. Use `SetupError.isInstance(e)` rather than
 * `instanceof`: it survives two copies of the package being installed.
 *
 * @example
 * try { resolveInside('/srv/app', '../etc/passwd') }
 * catch (error) { if (SetupError.isInstance(error) && error.code === 'PATH_OUTSIDE_TARGET') … }
 */
export class SetupError extends Error {
  readonly [symbol] = true;
  readonly code: SetupErrorCode;
  readonly hint: string | undefined;
  readonly file: string | undefined;

  constructor({ code, message, hint, file, cause }: SetupErrorOptions) {
    super(hint ? `${message}\nHint: ${hint}` : message, { cause });
    this.name = 'SetupError';
    this.code = code;
    this.hint = hint;
    this.file = file;
  }

  static isInstance(error: unknown): error is SetupError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[symbol] === true;
  }
}
