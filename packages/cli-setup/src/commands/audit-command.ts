import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Action, type AuditIndexRow, type AuditQuery, actions, parseDuration, parseSection, verifyAudit } from '@palisade/core';
import { CliError } from '../cli-error.js';
import type { CommandContext, OutputFormat, ReadConfig } from '../command-context.js';
import { paintAction } from '../output/format-decision.js';
import { outputOption, type RegisterOptions } from './command-types.js';

interface QueryOptions {
  tenant?: string;
  app?: string;
  action?: string;
  rule?: string;
  kind?: string;
  since?: string;
  until?: string;
  limit: string;
  output: OutputFormat;
}

/** A time option: an ISO date or date-time, or a duration back from now (`15m`, `24h`, `7d`). */
export function parseTime(name: string, value: string, now: number): number {
  const duration = parseDuration(value);
  if (duration !== undefined && !/^\d{4}-/.test(value)) return now - duration;
  const at = Date.parse(value);
  if (Number.isNaN(at))
    throw new CliError({ code: 'USAGE', message: `${name} must be an ISO date or a duration such as 15m, 24h, 7d (got ${value}).` });
  return at;
}

function parseLimit(value: string): number {
  const limit = Number.parseInt(value, 10);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
    throw new CliError({ code: 'USAGE', message: `--limit must be between 1 and 10000 (got ${value}).` });
  return limit;
}

function parseActions(value: string | undefined): Action[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((item) => item.trim());
  const wrong = list.filter((item) => !(actions as readonly string[]).includes(item));
  if (wrong.length > 0)
    throw new CliError({ code: 'USAGE', message: `Unknown action ${wrong.join(', ')}; actions are ${actions.join(', ')}.` });
  return list as Action[];
}

/** Where the audit log of a configuration is written, and whether it is on. */
export function auditDirectory(config: ReadConfig): { directory: string; enabled: boolean } {
  const section = parseSection('audit', config.loaded.config.audit);
  return {
    directory: isAbsolute(section.directory) ? section.directory : resolve(dirname(config.path), section.directory),
    enabled: section.enabled,
  };
}

function printReceipts(context: CommandContext, rows: readonly AuditIndexRow[], output: OutputFormat): void {
  if (output === 'json') {
    context.print(
      JSON.stringify(
        rows.map((row) => ({ ...row, receipt: JSON.parse(row.receipt) as unknown })),
        null,
        2,
      ),
    );
    return;
  }
  const { colors } = context;
  context.printRows(
    rows,
    [
      { header: 'SEQ', value: (row) => String(row.seq) },
      {
        header: 'TIME',
        value: (row) =>
          new Date(row.time)
            .toISOString()
            .replace('T', ' ')
            .replace(/\.\d+Z$/, 'Z'),
      },
      { header: 'TENANT', value: (row) => row.tenantId || '(none)' },
      { header: 'APP', value: (row) => row.appId ?? '' },
      { header: 'KIND', value: (row) => row.kind },
      { header: 'EVENT', value: (row) => row.tool ?? row.boundary ?? '' },
      { header: 'ACTION', value: (row) => (row.action ? paintAction(row.action, colors) : '') },
      { header: 'RULE', value: (row) => row.rule ?? '', maxWidth: 50 },
    ],
    'table',
  );
}

export function registerAuditCommand({ program, context, run }: RegisterOptions): void {
  const audit = program.command('audit').summary('query, tail and verify the hash-chained audit log');

  audit
    .command('query')
    .description('receipts from the audit index, oldest first')
    .option('-t, --tenant <id>', 'only this tenant (default: every tenant)')
    .option('-a, --app <id>', 'only this app')
    .option('--action <actions>', `only these actions, comma separated (${actions.join(', ')})`)
    .option('--rule <policy/rule>', 'only receipts decided by this rule (policyId/rule name)')
    .option('--kind <kind>', 'only this kind: decision, approval.requested, approval.approved, …')
    .option('--since <time>', 'from this time: ISO date, or a duration back from now (24h)')
    .option('--until <time>', 'before this time')
    .option('-n, --limit <count>', 'at most this many receipts', '100')
    .addOption(outputOption())
    .action(
      run(async (options: QueryOptions) => {
        const config = context.readConfig();
        const now = Date.now();
        const chosen = parseActions(options.action);
        const query: AuditQuery = {
          tenantId: options.tenant,
          limit: parseLimit(options.limit),
          ...(options.app !== undefined ? { appId: options.app } : {}),
          ...(chosen ? { action: chosen } : {}),
          ...(options.rule !== undefined ? { rule: options.rule } : {}),
          ...(options.kind !== undefined ? { kind: options.kind } : {}),
          ...(options.since !== undefined ? { from: parseTime('--since', options.since, now) } : {}),
          ...(options.until !== undefined ? { to: parseTime('--until', options.until, now) } : {}),
        };
        const store = context.openStore(config);
        try {
          printReceipts(context, (await store?.queryReceipts(query)) ?? [], options.output);
        } finally {
          await store?.close();
        }
        return 0;
      }),
    );

  audit
    .command('tail')
    .description('the latest receipts; with --follow, keep printing new ones until interrupted (JSONL with --output json)')
    .option('-t, --tenant <id>', 'only this tenant')
    .option('-n, --lines <count>', 'how many of the latest to print first', '20')
    .option('-f, --follow', 'keep printing receipts as they are indexed (Ctrl-C stops)')
    .addOption(outputOption())
    .action(
      run(async (options: { tenant?: string; lines: string; follow?: boolean; output: OutputFormat }) => {
        const config = context.readConfig();
        const lines = parseLimit(options.lines);
        const signal = context.io.signal;
        let store = context.openStore(config);
        try {
          const latest = ((await store?.queryReceipts({ tenantId: options.tenant, limit: lines, descending: true })) ?? []).reverse();
          const jsonLines = (rows: readonly AuditIndexRow[]) => {
            for (const row of rows) context.print(JSON.stringify({ ...row, receipt: JSON.parse(row.receipt) as unknown }));
          };
          // Following in JSON prints one receipt per line (JSONL) from the start, so a reader can stream it.
          if (options.follow && options.output === 'json') jsonLines(latest);
          else printReceipts(context, latest, options.output);
          if (!options.follow) return 0;
          let afterSeq = latest[latest.length - 1]?.seq ?? 0;
          while (!signal?.aborted) {
            await sleep(500, undefined, signal ? { signal } : {}).catch(() => undefined);
            if (signal?.aborted) break;
            store ??= context.openStore(config);
            const rows = (await store?.queryReceipts({ tenantId: options.tenant, afterSeq, limit: 1000 })) ?? [];
            if (rows.length === 0) continue;
            afterSeq = rows[rows.length - 1]?.seq ?? afterSeq;
            if (options.output === 'json') jsonLines(rows);
            else printReceipts(context, rows, 'table');
          }
          return 0;
        } finally {
          await store?.close();
        }
      }),
    );

  audit
    .command('verify')
    .description('walk every audit file and check the hash chain; exit 1 at the first broken link')
    .addOption(outputOption())
    .action(
      run(async (options: { output: OutputFormat }) => {
        const config = context.readConfig();
        const { directory, enabled } = auditDirectory(config);
        const { colors } = context;
        if (!existsSync(directory)) {
          if (options.output === 'json') context.print(JSON.stringify({ ok: true, receipts: 0, directory, enabled }, null, 2));
          else
            context.print(
              `${colors.green('✓')} No audit log yet in ${context.show(directory)}${enabled ? '' : ' (audit.enabled is false)'}.`,
            );
          return 0;
        }
        const store = context.openStore(config);
        try {
          const result = await verifyAudit({ directory, ...(store ? { index: store } : {}) });
          if (options.output === 'json') {
            context.print(JSON.stringify({ ...result, directory }, null, 2));
            return result.ok ? 0 : 1;
          }
          if (result.ok) {
            context.print(
              `${colors.green('✓')} Audit log intact: ${result.receipts} receipt${result.receipts === 1 ? '' : 's'} in ${result.files} file${result.files === 1 ? '' : 's'}, seq ${result.firstSeq ?? 0}..${result.lastSeq}, head ${result.lastHash.slice(0, 16)}… (${context.show(directory)})`,
            );
            return 0;
          }
          const problem = result.firstProblem;
          context.print(
            `${colors.red('✗')} Audit log broken after ${result.receipts} good receipt${result.receipts === 1 ? '' : 's'} (last good seq ${result.lastSeq}).`,
          );
          if (problem)
            context.print(
              `  ${context.show(resolve(directory, problem.file))}:${problem.line}${problem.seq !== undefined ? ` (seq ${problem.seq})` : ''}: ${problem.problem}`,
            );
          return 1;
        } finally {
          await store?.close();
        }
      }),
    );
}
