import type { BudgetLimitState } from '@palisade/core';
import { z } from 'zod';
import { defineTool } from './define-tool.js';
import { budgetOutput, scopeInput } from './tool-schemas.js';

export const checkBudgetTool = defineTool({
  name: 'check_budget',
  title: 'Check spending limits',
  description:
    'The spending limits of a tenant (and app or user): for the binding limit its limit, spent, remaining and reset time in USD, ' +
    'and every limit that applies. action is block when a hard or soft limit is spent.',
  input: { tenant: scopeInput.tenant, app: scopeInput.app, user: scopeInput.user },
  output: budgetOutput,
  annotations: { readOnlyHint: true, openWorldHint: false },
  tenantScoped: true,
  async run(args, context) {
    const scope = context.scope(args);
    const check = await context.guard.checkBudget(scope);
    // The binding limit: the one behind block/warn, else the one closest to running out.
    const binding: BudgetLimitState | undefined =
      check.limit ??
      check.limits.reduce<BudgetLimitState | undefined>(
        (least, limit) => (!least || limit.remainingUsd < least.remainingUsd ? limit : least),
        undefined,
      );
    return {
      ok: true,
      data: {
        scope: {
          tenantId: scope.tenantId ?? '',
          ...(scope.appId ? { appId: scope.appId } : {}),
          ...(scope.userId ? { userId: scope.userId } : {}),
        },
        action: check.action,
        ...(binding
          ? {
              limitUsd: binding.limitUsd,
              spentUsd: binding.spentUsd,
              remainingUsd: binding.remainingUsd,
              resetsAt: binding.resetsAt,
              period: binding.period,
            }
          : {}),
        limits: check.limits.map((limit) => ({
          scope: limit.scope,
          period: limit.period,
          limitUsd: limit.limitUsd,
          spentUsd: limit.spentUsd,
          reservedUsd: limit.reservedUsd,
          remainingUsd: limit.remainingUsd,
          action: limit.action,
          resetsAt: limit.resetsAt,
          exceeded: limit.exceeded,
        })),
      },
    };
  },
});

const componentStatus = z.enum(['ok', 'failing', 'off']);

export const healthCheckTool = defineTool({
  name: 'health_check',
  title: 'Health of the guard',
  description:
    'Status (ok, or degraded when the store or the audit log fails), uptime, server version, the policy version serving, and the ' +
    'status of the state store and of the audit log.',
  input: {},
  output: z.object({
    status: z.enum(['ok', 'degraded']),
    uptimeSeconds: z.number(),
    server: z.object({ name: z.string(), version: z.string() }),
    policyVersion: z.string(),
    store: z.object({ status: componentStatus, kind: z.string().optional(), error: z.string().optional() }),
    audit: z.object({
      status: componentStatus,
      lastSeq: z.number().optional(),
      pending: z.number().optional(),
      dropped: z.number().optional(),
      lastError: z.string().optional(),
    }),
  }),
  annotations: { readOnlyHint: true, openWorldHint: false },
  tenantScoped: false,
  async run(_args, context) {
    const { guard, caller } = context;
    const admin = caller.role === 'admin';
    const state = guard.state;
    let store: { status: 'ok' | 'failing' | 'off'; kind?: string; error?: string } = { status: 'off' };
    if (state) {
      try {
        await state.store.auditHead();
        store = { status: 'ok', kind: state.store.kind };
      } catch (error) {
        // Error texts can name files; only an admin sees them.
        store = { status: 'failing', kind: state.store.kind, ...(admin ? { error: (error as Error).message } : {}) };
      }
    }
    let audit: { status: 'ok' | 'failing' | 'off'; lastSeq?: number; pending?: number; dropped?: number; lastError?: string } = {
      status: 'off',
    };
    if (state?.audit) {
      const stats = state.audit.stats();
      audit = { status: stats.healthy ? 'ok' : 'failing', pending: stats.pending, dropped: stats.dropped };
      if (admin) {
        audit.lastSeq = stats.lastSeq;
        if (stats.lastError !== undefined) audit.lastError = stats.lastError;
      }
    }
    return {
      ok: true,
      data: {
        status: store.status === 'failing' || audit.status === 'failing' ? 'degraded' : 'ok',
        uptimeSeconds: Math.round((Date.now() - context.server.startedAt) / 1000),
        server: { name: context.server.name, version: context.server.version },
        policyVersion: guard.policyVersion,
        store,
        audit,
      },
    };
  },
});
