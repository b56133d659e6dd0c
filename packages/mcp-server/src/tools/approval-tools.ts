import type { ApprovalOutcome, ApprovalTicket } from '@palisade/core';
import { z } from 'zod';
import type { ToolOutcome } from '../to-mcp-outcome.js';
import { defineTool } from './define-tool.js';
import { scopeInput, ticketSchema } from './tool-schemas.js';

/** A ticket as shown to callers: without the sealed original event and the argument hash. */
export function showTicket(ticket: ApprovalTicket): Record<string, unknown> {
  const { sealedEvent: _sealed, argsHash: _hash, ...shown } = ticket;
  return shown;
}

const outcomeOutput = z.object({
  ticket: ticketSchema,
  changed: z.boolean().describe('False when the call changed nothing (repeated, or the ticket had already ended).'),
  reevaluation: z
    .object({ action: z.string(), reason: z.string(), rule: z.string() })
    .optional()
    .describe('The decision of the policy serving now, checked again at approval time.'),
});

function toOutcome(result: ApprovalOutcome, wanted: 'approved' | 'denied'): ToolOutcome {
  const { ticket, changed, reevaluation } = result;
  const data = {
    ticket: showTicket(ticket),
    changed,
    ...(reevaluation
      ? {
          reevaluation: {
            action: reevaluation.action,
            reason: reevaluation.reason,
            rule: `${reevaluation.decidedBy.policyId}/${reevaluation.decidedBy.rule}`,
          },
        }
      : {}),
  };
  // The policy serving now refused what the approver allowed: the approver must hear it.
  if (wanted === 'approved' && changed && ticket.status === 'denied') {
    return {
      ok: false,
      code: 'APPROVAL_DENIED',
      message: `Not approved: ${ticket.resolution?.reason ?? 'the policy serving now blocks this call'}`,
      data,
    };
  }
  return { ok: true, data };
}

const idInput = z.string().min(1).describe('The approval ticket id (apr_…).');
const tenantInput = scopeInput.tenant;

export const listPendingTool = defineTool({
  name: 'list_pending',
  title: 'List pending approvals',
  description: "Lists the open escalations (pending approval tickets) of the caller's tenant, oldest first.",
  input: {
    tenant: tenantInput,
    app: scopeInput.app,
    limit: z.number().int().min(1).max(1000).default(100).describe('At most this many tickets. Default 100.'),
  },
  output: z.object({ tenantId: z.string(), tickets: z.array(ticketSchema) }),
  annotations: { readOnlyHint: true, openWorldHint: false },
  tenantScoped: true,
  async run(args, context) {
    const tenantId = context.tenantId ?? '';
    const tickets = await context.guard.listApprovals({
      tenantId,
      status: 'pending',
      limit: args.limit,
      ...(args.app !== undefined ? { appId: args.app } : {}),
    });
    return { ok: true, data: { tenantId, tickets: tickets.map(showTicket) } };
  },
});

export const approveTool = defineTool({
  name: 'approve',
  title: 'Approve an escalation',
  description:
    'Approves a pending approval ticket of your tenant. The call is checked again under the policy serving now: if that policy blocks ' +
    'it, the ticket is denied instead and this reports an error. The approver recorded is your key id.',
  input: { id: idInput, note: z.string().max(2000).optional().describe('Why, for the audit trail.'), tenant: tenantInput },
  output: outcomeOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  tenantScoped: true,
  async run(args, context) {
    context.link({ approvalId: args.id });
    const result = await context.guard.approve(args.id, {
      tenantId: context.tenantId ?? '',
      approver: context.caller.id,
      ...(args.note !== undefined ? { note: args.note } : {}),
    });
    return toOutcome(result, 'approved');
  },
});

export const denyTool = defineTool({
  name: 'deny',
  title: 'Deny an escalation',
  description: 'Denies a pending approval ticket of your tenant, with a reason. The approver recorded is your key id.',
  input: { id: idInput, reason: z.string().min(1).max(2000).describe('Why, shown to whoever waits on the ticket.'), tenant: tenantInput },
  output: outcomeOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  tenantScoped: true,
  async run(args, context) {
    context.link({ approvalId: args.id });
    const result = await context.guard.deny(args.id, {
      tenantId: context.tenantId ?? '',
      approver: context.caller.id,
      reason: args.reason,
    });
    return toOutcome(result, 'denied');
  },
});
