import { type BudgetManager, type BudgetPeriod, budgetPeriods, createBudgetManager, createMemoryStore } from '@palisade/core';
import { Option } from 'commander';
import type { CommandContext, OutputFormat, ReadConfig } from '../command-context.js';
import { outputOption, type RegisterOptions } from './command-types.js';
import { requireTenant } from './tenant-command.js';

/**
 * A budget manager over the state store, for reading: no sweep (reservations are released by
 * the guards that made them). Before anything was stored, an empty store answers.
 */
async function withBudgets<T>(context: CommandContext, config: ReadConfig, use: (budgets: BudgetManager) => Promise<T>): Promise<T> {
  const store = context.openStore(config) ?? createMemoryStore();
  const budgets = createBudgetManager({ store, getConfig: () => config.compiled, sweepInterval: 0 });
  try {
    return await use(budgets);
  } finally {
    budgets.close();
    await store.close();
  }
}

const usd = (value: number) => `$${value.toFixed(2)}`;

export function registerBudgetCommand({ program, context, run }: RegisterOptions): void {
  const budget = program.command('budget').summary('spending limits and what was spent');

  budget
    .command('show')
    .description('every limit that applies to a tenant (or an app, a user): limit, spent, reserved, remaining, reset')
    .requiredOption('-t, --tenant <id>', 'the tenant')
    .option('-a, --app <id>', 'an app of the tenant')
    .option('--user <id>', 'an end user')
    .addOption(outputOption())
    .action(
      run(async (options: { tenant: string; app?: string; user?: string; output: OutputFormat }) => {
        const config = context.readConfig();
        requireTenant(config, options.tenant);
        const check = await withBudgets(context, config, (budgets) =>
          budgets.checkBudget({
            tenantId: options.tenant,
            ...(options.app !== undefined ? { appId: options.app } : {}),
            ...(options.user !== undefined ? { userId: options.user } : {}),
          }),
        );
        if (options.output === 'json') {
          context.print(JSON.stringify(check, null, 2));
          return 0;
        }
        const { colors } = context;
        if (check.limits.length === 0) {
          context.print(colors.dim(`No spending limits apply to tenant ${options.tenant}${options.app ? `/${options.app}` : ''}.`));
          return 0;
        }
        context.print(
          `${options.tenant}${options.app ? `/${options.app}` : ''}: ${check.action === 'block' ? colors.red('new calls are refused') : check.action === 'warn' ? colors.yellow('over a warning limit') : colors.green('within every limit')}`,
        );
        context.printRows(
          check.limits,
          [
            { header: 'SCOPE', value: (limit) => limit.scope },
            { header: 'PERIOD', value: (limit) => limit.period },
            { header: 'LIMIT', value: (limit) => usd(limit.limitUsd) },
            { header: 'SPENT', value: (limit) => usd(limit.spentUsd) },
            { header: 'RESERVED', value: (limit) => usd(limit.reservedUsd) },
            { header: 'REMAINING', value: (limit) => usd(limit.remainingUsd) },
            { header: 'USED', value: (limit) => `${Math.round(limit.ratio * 100)}%` },
            { header: 'ACTION', value: (limit) => limit.action },
            { header: 'RESETS', value: (limit) => limit.resetsAt },
          ],
          'table',
        );
        return 0;
      }),
    );

  budget
    .command('summary')
    .description('what was spent in the current day, week or month: total, by model, by tenant, by app')
    .option('-t, --tenant <id>', 'only this tenant (default: every tenant)')
    .addOption(new Option('--period <period>', 'the current window (UTC)').choices(budgetPeriods).default('month'))
    .addOption(outputOption())
    .action(
      run(async (options: { tenant?: string; period: BudgetPeriod; output: OutputFormat }) => {
        const config = context.readConfig();
        if (options.tenant !== undefined) requireTenant(config, options.tenant);
        const summary = await withBudgets(context, config, (budgets) =>
          budgets.costSummary({ tenantId: options.tenant, period: options.period }),
        );
        if (options.output === 'json') {
          context.print(JSON.stringify(summary, null, 2));
          return 0;
        }
        const { colors } = context;
        context.print(
          `${colors.bold(usd(summary.totalUsd))} over ${summary.calls} call${summary.calls === 1 ? '' : 's'} (${summary.inputTokens} input, ${summary.outputTokens} output tokens), ${summary.from} to ${summary.to}`,
        );
        const byModel = Object.entries(summary.byModel).map(([model, value]) => ({ model, ...value }));
        if (byModel.length > 0) {
          context.print('');
          context.printRows(
            byModel,
            [
              { header: 'MODEL', value: (row) => row.model },
              { header: 'COST', value: (row) => usd(row.costUsd) },
              { header: 'CALLS', value: (row) => String(row.calls) },
              { header: 'INPUT', value: (row) => String(row.inputTokens) },
              { header: 'OUTPUT', value: (row) => String(row.outputTokens) },
            ],
            'table',
          );
        }
        const byTenant = Object.entries(summary.byTenant).map(([tenant, value]) => ({ tenant, ...value }));
        if (byTenant.length > 1 || options.tenant === undefined) {
          if (byTenant.length > 0) {
            context.print('');
            context.printRows(
              byTenant,
              [
                { header: 'TENANT', value: (row) => row.tenant || '(none)' },
                { header: 'COST', value: (row) => usd(row.costUsd) },
                { header: 'CALLS', value: (row) => String(row.calls) },
              ],
              'table',
            );
          }
        }
        return 0;
      }),
    );
}
