import { Option } from 'commander';
import type { OutputFormat } from '../command-context.js';
import { applyEdit } from './apply-edit.js';
import { outputOption, type RegisterOptions } from './command-types.js';
import { requireTenant } from './tenant-command.js';

interface AddOptions {
  tenant: string;
  reason: string;
  app?: string;
  expires?: string;
  action?: 'suppress' | 'flag' | 'log';
  dryRun?: boolean;
}

export function registerSuppressCommand({ program, context, run }: RegisterOptions): void {
  const suppress = program.command('suppress').summary("add, list and remove a tenant's suppressions (edits palisade.yaml)");

  suppress
    .command('add')
    .description('silence (or downgrade) a detection rule for a tenant, with a reason')
    .argument('<rule>', 'a rule id (pii-001) or a glob (pii-*); a bare * is refused')
    .requiredOption('-t, --tenant <id>', 'the tenant')
    .requiredOption('-r, --reason <text>', 'why: kept in palisade.yaml and shown on suppressed detections')
    .option('-a, --app <id>', 'only for this app of the tenant')
    .option('--expires <date>', 'ISO date or date-time after which it no longer applies')
    .addOption(
      new Option('--action <action>', 'suppress removes the detection; flag or log cap what it can cause').choices([
        'suppress',
        'flag',
        'log',
      ]),
    )
    .option('--dry-run', 'print the change, write nothing')
    .action(
      run((rule: string, options: AddOptions) =>
        applyEdit(
          context,
          {
            kind: 'suppression.add',
            tenantId: options.tenant,
            suppression: {
              rule,
              reason: options.reason,
              ...(options.app !== undefined ? { app: options.app } : {}),
              ...(options.expires !== undefined ? { expires: options.expires } : {}),
              ...(options.action !== undefined ? { action: options.action } : {}),
            },
          },
          { dryRun: options.dryRun ?? false },
        ),
      ),
    );

  suppress
    .command('list')
    .description('list suppressions, of one tenant or of all')
    .option('-t, --tenant <id>', 'only this tenant')
    .addOption(outputOption())
    .action(
      run((options: { tenant?: string; output: OutputFormat }) => {
        const config = context.readConfig();
        const tenants =
          options.tenant !== undefined
            ? [[options.tenant, requireTenant(config, options.tenant)] as const]
            : Object.entries(config.loaded.config.tenants);
        const now = Date.now();
        const rows = tenants.flatMap(([tenantId, tenant]) =>
          tenant.suppressions.map((item) => ({
            tenant: tenantId,
            rule: item.rule,
            app: item.app,
            action: item.action,
            reason: item.reason,
            expires: item.expires,
            expired: item.expires !== undefined && Date.parse(item.expires) <= now,
          })),
        );
        context.printRows(
          rows,
          [
            { header: 'TENANT', value: (row) => row.tenant },
            { header: 'RULE', value: (row) => row.rule },
            { header: 'APP', value: (row) => row.app ?? '(all)' },
            { header: 'ACTION', value: (row) => row.action },
            { header: 'EXPIRES', value: (row) => (row.expires ? `${row.expires}${row.expired ? ' (expired)' : ''}` : '') },
            { header: 'REASON', value: (row) => row.reason },
          ],
          options.output,
        );
        return 0;
      }),
    );

  suppress
    .command('remove')
    .description('remove the suppressions of a rule from a tenant')
    .argument('<rule>', 'the rule id or glob as written in the suppression')
    .requiredOption('-t, --tenant <id>', 'the tenant')
    .option('-a, --app <id>', 'only the suppression for this app')
    .option('--dry-run', 'print the change, write nothing')
    .action(
      run((rule: string, options: { tenant: string; app?: string; dryRun?: boolean }) =>
        applyEdit(
          context,
          { kind: 'suppression.remove', tenantId: options.tenant, rule, ...(options.app !== undefined ? { appId: options.app } : {}) },
          { dryRun: options.dryRun ?? false },
        ),
      ),
    );
}
