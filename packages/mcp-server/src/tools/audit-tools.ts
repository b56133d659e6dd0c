import { type AuditQuery, actions } from '@palisade/core';
import { z } from 'zod';
import { allTenants } from '../caller.js';
import { defineTool } from './define-tool.js';
import { receiptRowSchema, scopeInput } from './tool-schemas.js';

const time = z
  .union([z.number(), z.string().min(1)])
  .optional()
  .describe('Epoch milliseconds or an ISO date-time.');

function toEpoch(value: number | string | undefined, field: string): number | undefined | Error {
  if (value === undefined || typeof value === 'number') return value;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? new Error(`${field}: "${value}" is not a date-time (use ISO 8601 or epoch milliseconds)`) : parsed;
}

export const queryAuditTool = defineTool({
  name: 'query_audit',
  title: 'Query audit receipts',
  description:
    "Receipts of the caller's tenant from the hash-chained audit log: decisions, approval transitions and MCP tool calls " +
    '(kind decision, approval.*, mcp.tool_call), filtered by app, time, action, rule and kind. Admin keys may pass tenant "*" for every tenant.',
  input: {
    tenant: scopeInput.tenant,
    app: scopeInput.app,
    from: time,
    to: time,
    action: z.union([z.enum(actions), z.array(z.enum(actions)).min(1)]).optional(),
    rule: z.string().min(1).optional().describe('Deciding rule, policyId/ruleName.'),
    kind: z.string().min(1).optional(),
    afterSeq: z.number().int().min(0).optional().describe('Only receipts after this sequence number (paging).'),
    limit: z.number().int().min(1).max(1000).default(100),
    descending: z.boolean().default(false).describe('Newest first.'),
  },
  output: z.object({ tenantId: z.string(), receipts: z.array(receiptRowSchema) }),
  annotations: { readOnlyHint: true, openWorldHint: false },
  tenantScoped: true,
  async run(args, context) {
    const from = toEpoch(args.from, 'from');
    const to = toEpoch(args.to, 'to');
    for (const value of [from, to]) if (value instanceof Error) return { ok: false, code: 'INVALID_INPUT', message: value.message };
    // `*` reaches this point only for an admin: anyone else naming it is "not found" already.
    const tenantId = context.tenantId === allTenants ? undefined : (context.tenantId ?? '');
    const query: AuditQuery = { tenantId, limit: args.limit, descending: args.descending };
    if (args.app !== undefined) query.appId = args.app;
    if (typeof from === 'number') query.from = from;
    if (typeof to === 'number') query.to = to;
    if (args.action !== undefined) query.action = args.action;
    if (args.rule !== undefined) query.rule = args.rule;
    if (args.kind !== undefined) query.kind = args.kind;
    if (args.afterSeq !== undefined) query.afterSeq = args.afterSeq;
    await context.guard.flushAudit();
    const rows = await context.guard.queryAudit(query);
    return {
      ok: true,
      data: {
        tenantId: tenantId ?? allTenants,
        receipts: rows.map(({ receipt, time: at, ...row }) => ({ ...row, time: new Date(at).toISOString(), receipt: JSON.parse(receipt) })),
      },
    };
  },
});

export const verifyAuditTool = defineTool({
  name: 'verify_audit',
  title: 'Verify the audit chain',
  description:
    'Walks every audit file and checks the hash chain end to end: ok, or the first broken link (file, line, problem). The chain ' +
    'holds every tenant, so receipt counts and hashes are shown to admin keys only.',
  input: {},
  output: z.object({
    ok: z.boolean(),
    firstProblem: z.object({ file: z.string(), line: z.number(), problem: z.string(), seq: z.number().optional() }).optional(),
    files: z.number().optional(),
    receipts: z.number().optional(),
    firstSeq: z.number().optional(),
    lastSeq: z.number().optional(),
    lastHash: z.string().optional(),
  }),
  annotations: { readOnlyHint: true, openWorldHint: false },
  tenantScoped: false,
  async run(_args, context) {
    const result = await context.guard.verifyAudit();
    const problem = result.firstProblem;
    const firstProblem = problem
      ? { file: problem.file, line: problem.line, problem: problem.problem, ...(problem.seq !== undefined ? { seq: problem.seq } : {}) }
      : undefined;
    const data: Record<string, unknown> = { ok: result.ok, ...(firstProblem ? { firstProblem } : {}) };
    if (context.caller.role === 'admin') {
      data.files = result.files;
      data.receipts = result.receipts;
      if (result.firstSeq !== undefined) data.firstSeq = result.firstSeq;
      data.lastSeq = result.lastSeq;
      data.lastHash = result.lastHash;
    }
    // A broken chain is a finding, not a failure of the tool: `ok: false` says it.
    return { ok: true, data };
  },
});
