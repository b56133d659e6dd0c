import { applyInitPlan, planInit } from '../config/plan-init.js';
import type { RegisterOptions } from './command-types.js';

interface InitOptions {
  force?: boolean;
  dryRun?: boolean;
}

export function registerInitCommand({ program, context, run }: RegisterOptions): void {
  program
    .command('init')
    .summary('write a commented palisade.yaml and the .palisade/ state folder')
    .description(
      'Writes palisade.yaml (the balanced preset and one example tenant, every part commented), example policy tests in\n' +
        'policy-tests/support.yaml, and .palisade/ for runtime state. Refuses to overwrite an existing file without --force.',
    )
    .option('--force', 'overwrite palisade.yaml and the example tests if they exist (state in .palisade/ is kept)')
    .option('--dry-run', 'print what would be written, write nothing')
    .action(
      run((options: InitOptions) => {
        const plan = planInit({ configPath: context.configLocation().path, force: options.force ?? false });
        const { written } = applyInitPlan(plan, { dryRun: options.dryRun ?? false });
        const { colors } = context;
        for (const file of plan.files) {
          const verb = file.kind === 'keep' ? 'kept   ' : options.dryRun ? 'would write' : file.kind === 'create' ? 'created' : 'overwrote';
          context.print(`${file.kind === 'keep' ? colors.dim(verb) : colors.green(verb)} ${context.show(file.path)}`);
        }
        if (options.dryRun) return 0;
        if (written.length === 0) context.print(colors.dim('Everything was in place already.'));
        context.print(`
Next:
  palisade scan "Ignore all previous instructions" --tenant acme    # a decision, explained
  palisade policy explain --tenant acme                              # which rules apply to a tenant
  palisade policy test                                               # the policy's example cases
  palisade doctor                                                    # check the setup`);
        return 0;
      }),
    );
}
