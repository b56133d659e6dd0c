import type { Command } from 'commander';
import type { OutputFormat, ReadConfig } from '../command-context.js';
import type { TableColumn } from '../output/format-table.js';
import { outputOption, type RegisterOptions } from './command-types.js';
import { requireTenant, type TenantDefinition } from './tenant-command.js';

/** What a `list` of something each tenant holds (apps, suppressions) prints. */
export interface PerTenantListOptions<Row> {
  /** The command's help line. */
  description: string;
  /** The rows of one tenant. */
  rowsOf: (tenantId: string, tenant: TenantDefinition, config: ReadConfig) => Row[];
  columns: readonly TableColumn<Row>[];
}

/**
 * Adds `list [-t tenant] [-o format]` under `parent`: the rows of one tenant (NOT_FOUND naming the
 * known tenants when it does not exist), or of every tenant.
 *
 * @example
 * registerPerTenantListCommand(app, { context, run }, { description: 'list apps', rowsOf, columns });
 */
export function registerPerTenantListCommand<Row>(
  parent: Command,
  { context, run }: Pick<RegisterOptions, 'context' | 'run'>,
  { description, rowsOf, columns }: PerTenantListOptions<Row>,
): void {
  parent
    .command('list')
    .description(description)
    .option('-t, --tenant <id>', 'only this tenant')
    .addOption(outputOption())
    .action(
      run((options: { tenant?: string; output: OutputFormat }) => {
        const config = context.readConfig();
        const tenants =
          options.tenant !== undefined
            ? [[options.tenant, requireTenant(config, options.tenant)] as const]
            : Object.entries(config.loaded.config.tenants);
        const rows = tenants.flatMap(([tenantId, tenant]) => rowsOf(tenantId, tenant, config));
        context.printRows(rows, columns, options.output);
        return 0;
      }),
    );
}
