import { userInfo } from 'node:os';
import { type ApprovalStatus, type ApprovalTicket, AuditLockedError, approvalStatuses, type Store } from '@palisade/core';
import { Option } from 'commander';
import { CliError } from '../cli-error.js';
import type { CommandContext, OutputFormat, ReadConfig } from '../command-context.js';
import { outputOption, type RegisterOptions } from './command-types.js';

/** The tenants whose tickets the operator sees: those of palisade.yaml, and `''` (events without a tenant). */
function tenantsToSearch(config: ReadConfig, tenant: string | undefined): string[] {
  return tenant !== undefined ? [tenant] : ['', ...Object.keys(config.loaded.config.tenants)];
}

/**
 * A ticket's status as a guard would report it: a pending ticket past its expiry is expired (the
 * guard's sweep marks it so, and writes the receipt, the next time it runs).
 */
export function effectiveStatus(ticket: ApprovalTicket, now: number): ApprovalStatus {
  return ticket.status === 'pending' && ticket.expiresAt <= now ? 'expired' : ticket.status;
}

function relativeTime(at: number, now: number): string {
  const seconds = Math.round((at - now) / 1000);
  const magnitude = Math.abs(seconds);
  const text =
    magnitude < 60
      ? `${magnitude}s`
      : magnitude < 3600
        ? `${Math.round(magnitude / 60)}m`
        : magnitude < 86_400
          ? `${Math.round(magnitude / 3600)}h`
          : `${Math.round(magnitude / 86_400)}d`;
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}

/** Finds which tenant a ticket id belongs to, reading the store directly. */
async function findTicket(store: Store | undefined, tenants: readonly string[], id: string): Promise<ApprovalTicket> {
  for (const tenantId of tenants) {
    const ticket = await store?.getApproval(tenantId, id);
    if (ticket) return ticket;
  }
  throw new CliError({
    code: 'NOT_FOUND',
    message: `No approval ${JSON.stringify(id)}${tenants.length === 1 ? ` for tenant ${JSON.stringify(tenants[0])}` : ''}.`,
    hint: 'List the tickets with `palisade approvals list --status all`.',
  });
}

function defaultApprover(env: Readonly<Record<string, string | undefined>>): string {
  try {
    return env.USER ?? env.USERNAME ?? userInfo().username;
  } catch {
    return 'cli';
  }
}

async function decideTicket(
  context: CommandContext,
  id: string,
  options: { tenant?: string; approver?: string; note?: string; reason?: string },
  kind: 'approve' | 'deny',
): Promise<number> {
  const config = context.readConfig();
  const store = context.openStore(config);
  let ticket: ApprovalTicket;
  try {
    ticket = await findTicket(store, tenantsToSearch(config, options.tenant), id);
  } finally {
    await store?.close();
  }
  // INVARIANT: a vote is recorded in the audit log, so it is cast only by a guard that can write
  // it (onAuditLocked: 'fail'); while a running guard holds the log, approve through that guard.
  let opened: ReturnType<CommandContext['openGuard']>;
  try {
    opened = context.openGuard({ state: 'audit', onAuditLocked: 'fail' });
  } catch (error) {
    if (!AuditLockedError.isInstance(error)) throw error;
    throw new CliError({
      code: 'AUDIT_LOCKED',
      message: `A running guard (${error.pid === undefined ? 'another process' : `process ${error.pid}`}) writes the audit log, so this ${kind === 'approve' ? 'approval' : 'denial'} could not be recorded; nothing was changed.`,
      hint: "Decide it through that guard (the MCP server's approve and deny tools), or stop it and run this again.",
      cause: error,
    });
  }
  const { guard } = opened;
  try {
    const approver = options.approver ?? defaultApprover(context.io.env);
    const outcome =
      kind === 'approve'
        ? await guard.approve(id, { tenantId: ticket.tenantId, approver, ...(options.note !== undefined ? { note: options.note } : {}) })
        : await guard.deny(id, { tenantId: ticket.tenantId, approver, reason: options.reason ?? 'denied from the CLI' });
    const after = outcome.ticket;
    const { colors } = context;
    const what = `${after.tool ?? after.boundary}${after.tenantId ? ` for tenant ${after.tenantId}` : ''}`;
    if (kind === 'approve' && after.status === 'approved') {
      context.print(
        `${colors.green('✓')} ${outcome.changed ? 'Approved' : 'Already approved'} ${colors.bold(id)} (${what}); the very same call may now run once.`,
      );
      return 0;
    }
    if (kind === 'approve' && after.status === 'pending') {
      context.print(
        `${colors.green('✓')} Vote recorded for ${colors.bold(id)} (${what}): ${after.approvals.length} of ${after.requiredApprovals} approvals.`,
      );
      return 0;
    }
    if (kind === 'deny' && after.status === 'denied' && outcome.changed) {
      context.print(`${colors.green('✓')} Denied ${colors.bold(id)} (${what}).`);
      return 0;
    }
    const why = after.resolution ? `: ${after.resolution.reason} (by ${after.resolution.by})` : '';
    const reevaluated = outcome.reevaluation
      ? ` The policy serving now decides ${outcome.reevaluation.action}: ${outcome.reevaluation.reason}.`
      : '';
    context.print(`${colors.red('✗')} ${id} is ${after.status}${why}.${reevaluated}`);
    return 1;
  } finally {
    await guard.close();
  }
}

export function registerApprovalsCommand({ program, context, run }: RegisterOptions): void {
  const approvals = program.command('approvals').summary('list escalated calls waiting for a human, approve or deny them');

  approvals
    .command('list')
    .description("list approval tickets (all tenants of palisade.yaml and events without a tenant, or one tenant's)")
    .option('-t, --tenant <id>', 'only this tenant')
    .addOption(new Option('-s, --status <status>', 'which tickets').choices([...approvalStatuses, 'all']).default('pending'))
    .option('-n, --limit <count>', 'at most this many per tenant', '100')
    .addOption(outputOption())
    .action(
      run(async (options: { tenant?: string; status: ApprovalStatus | 'all'; limit: string; output: OutputFormat }) => {
        const config = context.readConfig();
        const limit = Number.parseInt(options.limit, 10);
        if (!Number.isInteger(limit) || limit < 1)
          throw new CliError({ code: 'USAGE', message: `--limit must be a positive integer (got ${options.limit}).` });
        const store = context.openStore(config);
        const now = Date.now();
        const tickets: ApprovalTicket[] = [];
        try {
          for (const tenantId of tenantsToSearch(config, options.tenant)) {
            // Overdue pending tickets are read too: they are reported as expired.
            const stored = options.status === 'all' || options.status === 'expired' ? undefined : options.status;
            const found = (await store?.listApprovals(tenantId, { limit, ...(stored ? { status: stored } : {}) })) ?? [];
            tickets.push(...found.filter((ticket) => options.status === 'all' || effectiveStatus(ticket, now) === options.status));
          }
        } finally {
          await store?.close();
        }
        tickets.sort((left, right) => left.createdAt - right.createdAt);
        context.printRows(
          tickets,
          [
            { header: 'ID', value: (ticket) => ticket.id },
            { header: 'TENANT', value: (ticket) => ticket.tenantId || '(none)' },
            { header: 'APP', value: (ticket) => ticket.appId ?? '' },
            { header: 'TOOL', value: (ticket) => ticket.tool ?? ticket.boundary },
            { header: 'ARGS', value: (ticket) => (ticket.args === undefined ? '' : JSON.stringify(ticket.args)), maxWidth: 50 },
            { header: 'STATUS', value: (ticket) => effectiveStatus(ticket, now) },
            { header: 'VOTES', value: (ticket) => `${ticket.approvals.length}/${ticket.requiredApprovals}` },
            { header: 'EXPIRES', value: (ticket) => relativeTime(ticket.expiresAt, now) },
            { header: 'REASON', value: (ticket) => ticket.reason, maxWidth: 50 },
          ],
          options.output,
          (rows) => rows.map((ticket) => ({ ...ticket, sealedEvent: undefined, status: effectiveStatus(ticket, now) })),
        );
        return 0;
      }),
    );

  approvals
    .command('approve')
    .description('approve an escalated call; the policy serving now is checked again first')
    .argument('<id>', 'ticket id')
    .option('-t, --tenant <id>', "the ticket's tenant (found by id otherwise)")
    .option('--approver <name>', 'who approves (default: the user name)')
    .option('--note <text>', 'a note kept with the vote')
    .action(
      run((id: string, options: { tenant?: string; approver?: string; note?: string }) => decideTicket(context, id, options, 'approve')),
    );

  approvals
    .command('deny')
    .description('deny an escalated call')
    .argument('<id>', 'ticket id')
    .option('-t, --tenant <id>', "the ticket's tenant (found by id otherwise)")
    .option('--approver <name>', 'who denies (default: the user name)')
    .requiredOption('-r, --reason <text>', 'why (kept on the ticket and in the audit log)')
    .action(
      run((id: string, options: { tenant?: string; approver?: string; reason: string }) => decideTicket(context, id, options, 'deny')),
    );
}
