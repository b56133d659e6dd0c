import { CliError } from '../cli-error.js';
import type { OutputFormat } from '../command-context.js';
import { applyEdit } from './apply-edit.js';
import { outputOption, type RegisterOptions } from './command-types.js';
import { registerPerTenantListCommand } from './per-tenant-list-command.js';
import { explainScope, requireTenant } from './tenant-command.js';

export function registerAppCommand({ program, context, run }: RegisterOptions): void {
  const app = program.command('app').summary("create, list, show and delete a tenant's apps (edits palisade.yaml)");

  app
    .command('create')
    .description('add an app to a tenant')
    .argument('<id>', 'app id')
    .requiredOption('-t, --tenant <id>', 'the tenant it belongs to')
    .option('--name <name>', 'display name')
    .option('-p, --policy <id>', 'default policy of the app (else the tenant decides)')
    .option('--dry-run', 'print the change, write nothing')
    .action(
      run((id: string, options: { tenant: string; name?: string; policy?: string; dryRun?: boolean }) =>
        applyEdit(
          context,
          {
            kind: 'app.create',
            tenantId: options.tenant,
            appId: id,
            ...(options.name !== undefined ? { name: options.name } : {}),
            ...(options.policy !== undefined ? { defaultPolicy: options.policy } : {}),
          },
          { dryRun: options.dryRun ?? false },
        ),
      ),
    );

  registerPerTenantListCommand(
    app,
    { context, run },
    {
      description: 'list apps, of one tenant or of all',
      rowsOf: (tenantId, tenant, config) =>
        Object.entries(tenant.apps).map(([id, definition]) => ({
          tenant: tenantId,
          id,
          name: definition.name,
          defaultPolicy: definition.default_policy,
          shadowPolicy: definition.shadow_policy,
          effectivePolicy: definition.default_policy ?? tenant.default_policy ?? config.compiled.defaults.policy,
        })),
      columns: [
        { header: 'TENANT', value: (row) => row.tenant },
        { header: 'APP', value: (row) => row.id },
        { header: 'NAME', value: (row) => row.name ?? '' },
        { header: 'POLICY', value: (row) => (row.defaultPolicy ? row.defaultPolicy : `(${row.effectivePolicy})`) },
      ],
    },
  );

  app
    .command('show')
    .description('show an app and the policy its events get')
    .argument('<id>', 'app id')
    .requiredOption('-t, --tenant <id>', 'the tenant it belongs to')
    .addOption(outputOption())
    .action(
      run((id: string, options: { tenant: string; output: OutputFormat }) => {
        const config = context.readConfig();
        const tenant = requireTenant(config, options.tenant);
        const definition = tenant.apps[id];
        if (!definition) {
          throw new CliError({
            code: 'NOT_FOUND',
            message: `Tenant "${options.tenant}" has no app "${id}".`,
            hint: `Its apps: ${Object.keys(tenant.apps).join(', ') || '(none)'}.`,
          });
        }
        const explanation = explainScope(config, { tenantId: options.tenant, appId: id }, context.io.env);
        if (options.output === 'json') {
          context.print(JSON.stringify({ tenant: options.tenant, id, ...definition, explanation }, null, 2));
          return 0;
        }
        const { colors } = context;
        const label = (name: string) => colors.dim(name.padEnd(14));
        context.print(`${colors.bold(`${options.tenant}/${id}`)}${definition.name ? `  ${definition.name}` : ''}`);
        context.print(
          `  ${label('policy')} ${explanation.effectivePolicyId} (${explanation.effectivePolicyMode}, from ${explanation.resolutionSource?.replace('_', ' ')})`,
        );
        if (explanation.shadowPolicyId) context.print(`  ${label('shadow policy')} ${explanation.shadowPolicyId}`);
        const active = explanation.suppressions.filter((item) => item.active);
        context.print(`  ${label('suppressions')} ${active.map((item) => item.rule).join(', ') || colors.dim('(none)')}`);
        for (const budget of definition.budgets)
          context.print(`  ${label('budget')} ${budget.per ?? 'app'} ${budget.period}: $${budget.limit_usd} (${budget.action})`);
        return 0;
      }),
    );

  app
    .command('delete')
    .description('remove an app from its tenant')
    .argument('<id>', 'app id')
    .requiredOption('-t, --tenant <id>', 'the tenant it belongs to')
    .option('--dry-run', 'print the change, write nothing')
    .action(
      run((id: string, options: { tenant: string; dryRun?: boolean }) =>
        applyEdit(context, { kind: 'app.delete', tenantId: options.tenant, appId: id }, { dryRun: options.dryRun ?? false }),
      ),
    );
}
