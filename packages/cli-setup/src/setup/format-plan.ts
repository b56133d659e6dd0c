import pc from 'picocolors';
import type { SetupPlan } from './setup-types.js';
import { unifiedDiff } from './unified-diff.js';

export interface FormatPlanOptions {
  /** ANSI colours (a terminal that wants them). Default false. */
  color?: boolean;
}

/**
 * The plan as one unified diff, file by file (`a/`, `b/` paths relative to the target folder;
 * an explicit client config outside it by its absolute path). Empty for an empty plan.
 *
 * @example
 * process.stdout.write(formatPlanDiff(plan));
 */
export function formatPlanDiff(plan: SetupPlan, options: FormatPlanOptions = {}): string {
  const colors = pc.createColors(options.color === true);
  return plan.changes
    .map((change) => {
      const absolute = change.displayPath.startsWith('/') || /^[A-Za-z]:[\\/]/.test(change.displayPath);
      const from = change.before === undefined ? '/dev/null' : absolute ? change.displayPath : `a/${change.displayPath}`;
      const to = absolute ? change.displayPath : `b/${change.displayPath}`;
      const diff = unifiedDiff(change.before, change.after, { fromFile: from, toFile: to });
      if (!options.color) return diff;
      return diff
        .split('\n')
        .map((line) =>
          line.startsWith('+++') || line.startsWith('---')
            ? colors.bold(line)
            : line.startsWith('+')
              ? colors.green(line)
              : line.startsWith('-')
                ? colors.red(line)
                : line.startsWith('@@')
                  ? colors.cyan(line)
                  : line,
        )
        .join('\n');
    })
    .join('');
}

export interface FormatPlanSummaryOptions extends FormatPlanOptions {
  /** `planned`: before writing (dry run, confirmation); `applied`: after. */
  stage: 'planned' | 'applied';
}

const languageNames = { ts: 'TypeScript', js: 'JavaScript' } as const;

/**
 * What the plan does, for people: what was detected, each file with why, then the next steps
 * (the install command, never run by setup) and the notes.
 *
 * @example
 * process.stdout.write(formatPlanSummary(plan, { stage: 'applied' }));
 */
export function formatPlanSummary(plan: SetupPlan, options: FormatPlanSummaryOptions): string {
  const colors = pc.createColors(options.color === true);
  const lines: string[] = [`palisade setup ${plan.target} in ${plan.cwd}`];
  if (plan.target === 'langchain' || plan.target === 'vercel-ai') {
    const { project } = plan;
    lines.push(
      `Detected: ${project.packageManager} (${project.packageManagerSource}), ${languageNames[project.language]} (${project.languageSource}), ${
        project.moduleType === 'module' ? 'ES modules' : 'CommonJS package (ES module files: .mts/.mjs)'
      }`,
    );
  }
  lines.push('');
  if (plan.changes.length === 0) {
    lines.push(colors.green(`Nothing to change: ${plan.target} is already set up here.`));
  } else {
    const width = Math.max(...plan.changes.map((change) => change.displayPath.length));
    for (const change of plan.changes) {
      const verb = options.stage === 'planned' ? change.kind : change.kind === 'create' ? 'created' : 'updated';
      const backup = change.backup && options.stage === 'applied' ? ' (backup kept)' : '';
      lines.push(`  ${colors.bold(verb.padEnd(7))} ${change.displayPath.padEnd(width)}  ${colors.dim(change.reason)}${backup}`);
    }
  }
  const next = [
    ...(plan.installCommand ? [`Install the new dependencies: ${colors.bold(plan.installCommand)} (setup does not run it).`] : []),
    ...plan.notes,
  ];
  if (next.length > 0) {
    lines.push('', options.stage === 'planned' && plan.changes.length > 0 ? 'Then:' : 'Next:');
    for (const note of next) lines.push(`  - ${note}`);
  }
  return `${lines.join('\n')}\n`;
}
