import type { CommandContext } from '../command-context.js';
import { applyConfigEdit, type ConfigEdit, planConfigEdit } from '../config/plan-config-edit.js';
import { requireConfig } from '../config/resolve-config-path.js';
import { formatLineDiff } from '../output/format-line-diff.js';

/**
 * Plans, validates and writes one configuration edit, then says what changed. With `dryRun`,
 * prints the change as a diff and writes nothing.
 */
export function applyEdit(context: CommandContext, edit: ConfigEdit, options: { dryRun?: boolean } = {}): number {
  const plan = planConfigEdit({ configPath: requireConfig(context.configLocation()), edit, env: context.io.env });
  const { colors } = context;
  if (options.dryRun) {
    context.print(colors.bold(`${context.show(plan.file)} (dry run, nothing written):`));
    context.print(formatLineDiff(plan.before, plan.after, colors));
    return 0;
  }
  applyConfigEdit(plan);
  context.print(`${colors.green('✓')} ${plan.summary} in ${context.show(plan.file)}.`);
  if (plan.layout === 'reformatted') {
    context.note(
      context.errorColors.yellow(
        'palisade: the file had a shape the editor could not splice into, so it was re-printed (comments kept; check the spacing).',
      ),
    );
  }
  context.note(context.errorColors.dim('A guard watching the file (watch: true, `palisade serve --watch`) reloads it now.'));
  return 0;
}
