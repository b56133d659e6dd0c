import { PalisadeError } from './palisade-error.js';

/** One problem in a configuration file. */
export interface ConfigIssue {
  file: string;
  line?: number;
  column?: number;
  /** Field path, e.g. `tenants.acme.apps.chatbot.default_policy`. */
  path: string;
  message: string;
}

const symbol: unique symbol = Symbol.for('palisade.error.invalid-config');

/**
 * A configuration (palisade.yaml and the files it includes) is invalid: YAML syntax, an unknown
 * key, a wrong type, a reference to a policy that does not exist, an environment variable that is
 * not set. `issues` lists every problem found, each with file, line, column and field path.
 */
export class InvalidConfigError extends PalisadeError {
  readonly [symbol] = true;
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const lines = issues.slice(0, 20).map((issue) => {
      const where = issue.line ? `${issue.file}:${issue.line}:${issue.column ?? 1}` : issue.file;
      return `${where} at ${issue.path || '(root)'}: ${issue.message}`;
    });
    const more = issues.length > 20 ? `\n  … and ${issues.length - 20} more` : '';
    super({
      code: 'INVALID_CONFIG',
      message: `Invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n  ${lines.join('\n  ')}${more}`,
      hint: 'See docs/configuration.md for the palisade.yaml format.',
    });
    this.name = 'InvalidConfigError';
    this.issues = issues;
  }

  static override isInstance(error: unknown): error is InvalidConfigError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[symbol] === true;
  }
}
