import { Option } from 'commander';
import { applyEdit } from './apply-edit.js';
import type { RegisterOptions } from './command-types.js';
import { registerPerTenantListCommand } from './per-tenant-list-command.js';

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

  registerPerTenantListCommand(
    suppress,
    { context, run },
    {
      description: 'list suppressions, of one tenant or of all',
      rowsOf: (tenantId, tenant) => {
        const now = Date.now();
        return tenant.suppressions.map((item) => ({
          tenant: tenantId,
          rule: item.rule,
          app: item.app,
          action: item.action,
          reason: item.reason,
          expires: item.expires,
          expired: item.expires !== undefined && Date.parse(item.expires) <= now,
        }));
      },
      columns: [
        { header: 'TENANT', value: (row) => row.tenant },
        { header: 'RULE', value: (row) => row.rule },
        { header: 'APP', value: (row) => row.app ?? '(all)' },
        { header: 'ACTION', value: (row) => row.action },
        { header: 'EXPIRES', value: (row) => (row.expires ? `${row.expires}${row.expired ? ' (expired)' : ''}` : '') },
        { header: 'REASON', value: (row) => row.reason },
      ],
    },
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
