import type { OutputFormat } from '../command-context.js';
import { runDoctor } from '../doctor/run-doctor.js';
import { outputOption, type RegisterOptions } from './command-types.js';

export function registerDoctorCommand({ program, context, run }: RegisterOptions): void {
  program
    .command('doctor')
    .summary('check the setup: Node.js, configuration, rule packs, state store, audit chain')
    .description('Runs each check and prints ok or fail with a hint; exit code 1 when any fails. Creates nothing.')
    .addOption(outputOption())
    .action(
      run(async (options: { output: OutputFormat }) => {
        const checks = await runDoctor({ config: context.configLocation(), env: context.io.env });
        const failed = checks.filter((check) => !check.ok).length;
        if (options.output === 'json') {
          context.print(JSON.stringify({ ok: failed === 0, checks }, null, 2));
          return failed === 0 ? 0 : 1;
        }
        const { colors } = context;
        for (const check of checks) {
          const [first = '', ...rest] = check.detail.split('\n');
          context.print(`${check.ok ? colors.green('✓') : colors.red('✗')} ${colors.bold(check.name.padEnd(14))} ${first}`);
          for (const line of rest) context.print(`  ${' '.repeat(14)} ${line}`);
          if (!check.ok && check.hint) context.print(`  ${' '.repeat(14)} ${colors.yellow(`hint: ${check.hint}`)}`);
        }
        context.print(
          failed === 0 ? colors.green('\nAll checks passed.') : colors.red(`\n${failed} check${failed === 1 ? '' : 's'} failed.`),
        );
        return failed === 0 ? 0 : 1;
      }),
    );
}
