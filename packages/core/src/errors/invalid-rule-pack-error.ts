import { PalisadeError } from './palisade-error.js';

export interface RulePackIssue {
  /** File the problem is in. */
  file: string;
  /** 1-based line and column when known. */
  line?: number;
  column?: number;
  /** Rule id when the problem is inside a rule. */
  ruleId?: string;
  /** Field path, e.g. `rules[3].patterns[0]`. */
  path: string;
  message: string;
}

const symbol: unique symbol = Symbol.for('palisade.error.invalid-rule-pack');

/**
 * A rule pack failed to load: bad YAML, a field of the wrong shape, a duplicate id, a pattern
 * that does not compile, or a rule whose own examples fail. `issues` lists every problem found.
 */
export class InvalidRulePackError extends PalisadeError {
  readonly [symbol] = true;
  readonly issues: readonly RulePackIssue[];

  constructor(issues: readonly RulePackIssue[]) {
    const lines = issues.slice(0, 20).map(formatIssue);
    const more = issues.length > 20 ? `\n  … and ${issues.length - 20} more` : '';
    super({
      code: 'INVALID_RULE_PACK',
      message: `Invalid rule pack (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n  ${lines.join('\n  ')}${more}`,
      hint: 'See packages/core/rules/README.md for the rule format.',
    });
    this.name = 'InvalidRulePackError';
    this.issues = issues;
  }

  static override isInstance(error: unknown): error is InvalidRulePackError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[symbol] === true;
  }
}

function formatIssue(issue: RulePackIssue): string {
  const where = issue.line ? `${issue.file}:${issue.line}:${issue.column ?? 1}` : issue.file;
  const rule = issue.ruleId ? ` rule ${issue.ruleId}` : '';
  return `${where}${rule} at ${issue.path}: ${issue.message}`;
}
