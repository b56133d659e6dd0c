import { createGuard, type Explanation, type Scope } from '@palisade/core';
import { CliError } from '../cli-error.js';
import type { OutputFormat, ReadConfig } from '../command-context.js';
import { structuralEnv } from '../config/structural-env.js';
import { applyEdit } from './apply-edit.js';
import { outputOption, type RegisterOptions } from './command-types.js';

export type TenantDefinition = ReadConfig['loaded']['config']['tenants'][string];

/** The tenant `id` of a configuration, or NOT_FOUND naming the tenants there are. */
export function requireTenant(config: ReadConfig, id: string): TenantDefinition {
  const tenant = config.loaded.config.tenants[id];
  if (tenant) return tenant;
  const known = Object.keys(config.loaded.config.tenants);
  throw new CliError({
    code: 'NOT_FOUND',
    message: `No tenant "${id}" in ${config.path}.`,
    hint: known.length ? `Known tenants: ${known.join(', ')}.` : `There are no tenants yet: \`palisade tenant create ${id}\`.`,
  });
}

/** The resolution of a scope under a configuration, as `guard.explain` gives it (no state, nothing scanned). */
export function explainScope(config: ReadConfig, scope: Scope, env: Readonly<Record<string, string | undefined>>): Explanation {
  const guard = createGuard({ configPath: config.path, env: structuralEnv(env), state: false });
  try {
    return guard.explain(scope);
  } finally {
    void guard.close();
  }
}

export function registerTenantCommand({ program, context, run }: RegisterOptions): void {
  const tenant = program.command('tenant').summary('create, list, show and delete tenants (edits palisade.yaml, keeping its comments)');

  tenant
    .command('create')
    .description('add a tenant to palisade.yaml')
    .argument('<id>', 'tenant id (letters, digits, _ . : -)')
    .option('--name <name>', 'display name')
    .option('-p, --policy <id>', 'default policy of the tenant (a preset or a policy in palisade.yaml)')
    .option('--dry-run', 'print the change, write nothing')
    .action(
      run((id: string, options: { name?: string; policy?: string; dryRun?: boolean }) =>
        applyEdit(
          context,
          {
            kind: 'tenant.create',
            tenantId: id,
            ...(options.name !== undefined ? { name: options.name } : {}),
            ...(options.policy !== undefined ? { defaultPolicy: options.policy } : {}),
          },
          { dryRun: options.dryRun ?? false },
        ),
      ),
    );

  tenant
    .command('list')
    .description('list the tenants')
    .addOption(outputOption())
    .action(
      run((options: { output: OutputFormat }) => {
        const config = context.readConfig();
        const rows = Object.entries(config.loaded.config.tenants).map(([id, definition]) => ({
          id,
          name: definition.name,
          defaultPolicy: definition.default_policy,
          shadowPolicy: definition.shadow_policy,
          apps: Object.keys(definition.apps),
          suppressions: definition.suppressions.length,
          file: config.loaded.locate(['tenants', id]).file,
        }));
        context.printRows(
          rows,
          [
            { header: 'TENANT', value: (row) => row.id },
            { header: 'NAME', value: (row) => row.name ?? '' },
            { header: 'POLICY', value: (row) => row.defaultPolicy ?? `(${config.compiled.defaults.policy})` },
            { header: 'APPS', value: (row) => row.apps.join(', ') },
            { header: 'SUPPRESSIONS', value: (row) => String(row.suppressions) },
          ],
          options.output,
        );
        return 0;
      }),
    );

  tenant
    .command('show')
    .description('show a tenant: its policy resolution, apps, suppressions and budgets')
    .argument('<id>', 'tenant id')
    .addOption(outputOption())
    .action(
      run((id: string, options: { output: OutputFormat }) => {
        const config = context.readConfig();
        const definition = requireTenant(config, id);
        const explanation = explainScope(config, { tenantId: id }, context.io.env);
        const location = config.loaded.locate(['tenants', id]);
        if (options.output === 'json') {
          context.print(JSON.stringify({ id, ...definition, file: location.file, line: location.line, explanation }, null, 2));
          return 0;
        }
        printTenant(context, id, definition, explanation, `${context.show(location.file)}${location.line ? `:${location.line}` : ''}`);
        return 0;
      }),
    );

  tenant
    .command('delete')
    .description('remove a tenant with its apps and suppressions from palisade.yaml')
    .argument('<id>', 'tenant id')
    .option('--dry-run', 'print the change, write nothing')
    .action(
      run((id: string, options: { dryRun?: boolean }) =>
        applyEdit(context, { kind: 'tenant.delete', tenantId: id }, { dryRun: options.dryRun ?? false }),
      ),
    );
}

function printTenant(
  context: RegisterOptions['context'],
  id: string,
  definition: TenantDefinition,
  explanation: Explanation,
  where: string,
): void {
  const { colors } = context;
  const label = (name: string) => colors.dim(name.padEnd(14));
  context.print(`${colors.bold(id)}${definition.name ? `  ${definition.name}` : ''}  ${colors.dim(where)}`);
  context.print(
    `  ${label('policy')} ${explanation.effectivePolicyId ?? '?'} (${explanation.effectivePolicyMode ?? '?'}, from ${explanation.resolutionSource?.replace('_', ' ') ?? '?'})`,
  );
  if (definition.shadow_policy) context.print(`  ${label('shadow policy')} ${definition.shadow_policy}`);
  const apps = Object.entries(definition.apps);
  context.print(`  ${label('apps')} ${apps.length === 0 ? colors.dim('(none)') : ''}`);
  for (const [appId, app] of apps) {
    context.print(
      `    ${appId}${app.name ? `  ${app.name}` : ''}${app.default_policy ? `  policy ${app.default_policy}` : ''}${app.shadow_policy ? `  shadow ${app.shadow_policy}` : ''}`,
    );
  }
  context.print(`  ${label('suppressions')} ${definition.suppressions.length === 0 ? colors.dim('(none)') : ''}`);
  for (const item of explanation.suppressions) {
    context.print(
      `    ${item.rule} (${item.action})${item.app ? ` app ${item.app}` : ''}${item.expires ? ` until ${item.expires}` : ''}: ${item.reason}${item.active ? '' : colors.dim(' (inactive)')}`,
    );
  }
  if (definition.budgets.length > 0) {
    context.print(`  ${label('budgets')}`);
    for (const budget of definition.budgets)
      context.print(`    ${budget.per ?? 'tenant'} ${budget.period}: $${budget.limit_usd} (${budget.action})`);
  }
}
