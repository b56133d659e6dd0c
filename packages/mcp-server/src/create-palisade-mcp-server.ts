import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type Decision, type Guard, NotFoundError, PalisadeError, type Scope } from '@palisade/core';
import { type Caller, localCaller, resolveTenant } from './caller.js';
import { createRateLimiter, type RateLimiter } from './create-rate-limiter.js';
import { canCall, type PalisadeToolName } from './role-tools.js';
import { discoverAdapters, serverInfo } from './server-info.js';
import { type ToolOutcome, toMcpOutcome } from './to-mcp-outcome.js';
import { approveTool, denyTool, listPendingTool } from './tools/approval-tools.js';
import { queryAuditTool, verifyAuditTool } from './tools/audit-tools.js';
import type { AdapterInfo, PalisadeTool, ToolContext } from './tools/define-tool.js';
import { explainPolicyTool, listPluginsTool, reloadPoliciesTool } from './tools/policy-tools.js';
import { checkToolCallTool, scanTool } from './tools/scan-tools.js';
import { checkBudgetTool, healthCheckTool } from './tools/status-tools.js';

/** Every tool of the governance server, in the order `tools/list` shows them. */
export const palisadeTools: readonly PalisadeTool[] = [
  scanTool,
  checkToolCallTool,
  reloadPoliciesTool,
  listPendingTool,
  approveTool,
  denyTool,
  checkBudgetTool,
  healthCheckTool,
  listPluginsTool,
  explainPolicyTool,
  queryAuditTool,
  verifyAuditTool,
];

/** What `onDecision` and `onError` are told about the call. */
export interface ToolCallInfo {
  tool: PalisadeToolName;
  caller: Caller;
}

export interface PalisadeMcpServerOptions {
  guard: Guard;
  /** Who calls this server. Default: the local user, an admin without a default tenant. */
  caller?: Caller;
  /**
   * `enforce` (default): a `block` or `escalate` decision is an `isError` result with the reason.
   * `shadow`: every decision is a normal result (recorded all the same), for rolling out.
   */
  mode?: 'enforce' | 'shadow';
  /** Called with every decision `scan` and `check_tool_call` make; a throwing hook changes nothing. */
  onDecision?: (decision: Decision, info: ToolCallInfo) => void;
  /** Called with errors that became `INTERNAL` results (to log them: the caller is told little). */
  onError?: (error: unknown, info: ToolCallInfo) => void;
  /**
   * Token buckets per caller id; share one between servers that serve the same keys (the HTTP
   * server does). Default: a new limiter with 60 calls/s, bursts of 120. `false`: no limit.
   */
  rateLimiter?: RateLimiter | false;
  /** Append an `mcp.tool_call` receipt to the audit log for every call (when the guard has one). Default true. */
  auditToolCalls?: boolean;
  /** Server name and version announced to clients. Default this package's. */
  name?: string;
  version?: string;
  /** Start of uptime (epoch ms). Default now. */
  startedAt?: number;
  /** For `list_plugins`. Default: the `@palisade/*` packages found from the working directory up. */
  adapters?: () => AdapterInfo[];
}

const instructions =
  'Palisade is the policy guard of this deployment. Use scan on text entering or leaving the model and check_tool_call before ' +
  'calling a tool; a result with isError true is a refusal: tell the user the reason and do not proceed. An escalation names an ' +
  'approval ticket that a human decides (approve, deny).';

/**
 * Creates the Palisade governance MCP server for one caller: the tools the caller's role allows,
 * each with zod input and output schemas, `structuredContent` and annotations. Connect it to any
 * transport (`StdioServerTransport`, `InMemoryTransport`, or per HTTP request as
 * `startPalisadeHttpServer` does).
 *
 * Every call runs one pipeline: rate limit (per caller id), role, tenant (a key's own tenant;
 * another one is "not found"), policy-override permission, the tool, then an `mcp.tool_call`
 * receipt, and `toMcpOutcome` turns the outcome into the MCP result.
 *
 * @example
 * const guard = createGuard({ configPath: 'palisade.yaml' });
 * const server = createPalisadeMcpServer({ guard, caller: localCaller({ tenant: 'acme', transport: 'stdio' }) });
 * await server.connect(new StdioServerTransport());
 */
export function createPalisadeMcpServer(options: PalisadeMcpServerOptions): McpServer {
  const { guard } = options;
  const caller = options.caller ?? localCaller();
  const mode = options.mode ?? 'enforce';
  const limiter = options.rateLimiter === false ? undefined : (options.rateLimiter ?? createRateLimiter());
  const auditing = options.auditToolCalls ?? true;
  const name = options.name ?? serverInfo.name;
  const version = options.version ?? serverInfo.version;
  const server = {
    name,
    version,
    startedAt: options.startedAt ?? Date.now(),
    adapters: options.adapters ?? (() => discoverAdapters(process.cwd())),
  };
  const mcp = new McpServer({ name, version }, { capabilities: { tools: {} }, instructions });

  const call = async (tool: PalisadeTool, args: Record<string, unknown>): Promise<CallToolResult> => {
    const info: ToolCallInfo = { tool: tool.name, caller };
    const links: Record<string, unknown> = {};
    const requested = typeof args.tenant === 'string' ? args.tenant : undefined;
    let tenantId = caller.tenant;
    let outcome: ToolOutcome;
    try {
      outcome = await guarded();
    } catch (error) {
      outcome = fromError(error, tool.name, caller);
      if (outcome.code === 'INTERNAL') report(() => options.onError?.(error, info));
    }
    if (auditing) record(tool.name, outcome, tenantId, requested, links);
    return toMcpOutcome(outcome);

    async function guarded(): Promise<ToolOutcome> {
      const verdict = limiter?.take(caller.id, caller.rateLimit);
      if (verdict && !verdict.ok) {
        return {
          ok: false,
          code: 'RATE_LIMITED',
          message: `Too many calls for "${caller.id}"; retry in ${verdict.retryAfterMs} ms.`,
          detail: { retryAfterMs: verdict.retryAfterMs },
        };
      }
      if (!canCall(caller.role, tool.name)) {
        return { ok: false, code: 'FORBIDDEN', message: `The ${caller.role} role may not call ${tool.name}.` };
      }
      if (tool.tenantScoped) {
        const resolved = resolveTenant(caller, requested);
        if (!resolved.ok) return { ok: false, code: 'NOT_FOUND', message: `Tenant ${JSON.stringify(requested)} not found.` };
        tenantId = resolved.tenantId;
      }
      const policy = args.policy;
      if (typeof policy === 'string' && caller.role !== 'admin' && !caller.policies?.includes(policy)) {
        return { ok: false, code: 'FORBIDDEN', message: `This key may not request policy ${JSON.stringify(policy)}.` };
      }
      const context: ToolContext = {
        guard,
        caller,
        tenantId,
        scope: (scopeArgs) => {
          const scope: Scope = {};
          if (tenantId !== undefined) scope.tenantId = tenantId;
          if (scopeArgs.app !== undefined) scope.appId = scopeArgs.app;
          if (scopeArgs.user !== undefined) scope.userId = scopeArgs.user;
          if (scopeArgs.session !== undefined) scope.sessionId = scopeArgs.session;
          if (scopeArgs.policy !== undefined) scope.policyId = scopeArgs.policy;
          return scope;
        },
        decided: (decision) => {
          links.decisionEventId = decision.eventId;
          if (decision.approvalId !== undefined) links.approvalId = decision.approvalId;
          report(() => options.onDecision?.(decision, info));
          return toOutcome(decision, mode);
        },
        link: (fields) => Object.assign(links, fields),
        server,
      };
      return tool.run(args, context);
    }
  };

  const record = (
    tool: PalisadeToolName,
    outcome: ToolOutcome,
    tenantId: string | undefined,
    requested: string | undefined,
    links: object,
  ) => {
    const audit = guard.state?.audit;
    if (!audit) return;
    try {
      audit.append({
        kind: 'mcp.tool_call',
        time: new Date().toISOString(),
        eventId: randomUUID(),
        tenantId: tenantId ?? '',
        mcpTool: tool,
        keyId: caller.id,
        role: caller.role,
        transport: caller.transport,
        outcome: outcome.ok ? 'ok' : outcome.code,
        // A tenant the caller may not see is recorded under the caller's own tenant, with what it asked for.
        ...(requested !== undefined && requested !== tenantId ? { requestedTenant: requested } : {}),
        ...links,
      });
    } catch {
      // A closed or failing log counts its own failures (audit.failed); the call's answer stands.
    }
  };

  for (const tool of palisadeTools) {
    if (!canCall(caller.role, tool.name)) continue;
    mcp.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.input,
        outputSchema: tool.output,
        annotations: { title: tool.title, ...tool.annotations },
      },
      (args) => call(tool, args as Record<string, unknown>),
    );
  }
  return mcp;
}

/** A decision as a tool outcome: in enforce mode, block and escalate are refusals the model reads. */
function toOutcome(decision: Decision, mode: 'enforce' | 'shadow'): ToolOutcome {
  const data = decision as unknown as Record<string, unknown>;
  const by = `${decision.decidedBy.policyId}/${decision.decidedBy.rule}`;
  if (mode === 'enforce' && decision.action === 'block') {
    return { ok: false, code: 'POLICY_BLOCKED', message: `Blocked by policy: ${decision.reason} (${by}; event ${decision.eventId})`, data };
  }
  if (mode === 'enforce' && decision.action === 'escalate') {
    const ticket =
      decision.approvalId !== undefined ? `approval ticket ${decision.approvalId}` : 'no ticket: this guard keeps no approval state';
    return { ok: false, code: 'APPROVAL_REQUIRED', message: `Needs approval: ${decision.reason} (${by}; ${ticket})`, data };
  }
  return { ok: true, data };
}

/** Errors thrown by core, in the caller's terms. Only an admin reads the text of an unexpected error. */
function fromError(error: unknown, tool: PalisadeToolName, caller: Caller): Extract<ToolOutcome, { ok: false }> {
  if (NotFoundError.isInstance(error)) return { ok: false, code: 'NOT_FOUND', message: error.message };
  if (PalisadeError.isInstance(error)) {
    switch (error.code) {
      case 'INVALID_INPUT':
      case 'INPUT_TOO_LARGE':
      case 'INPUT_TOO_DEEP':
      case 'UNKNOWN_MODEL':
        return { ok: false, code: 'INVALID_INPUT', message: error.message };
      case 'INVALID_OPTIONS':
        return { ok: false, code: 'UNAVAILABLE', message: error.message };
    }
  }
  const detail = caller.role === 'admin' && error instanceof Error ? `: ${error.message}` : '';
  const code = PalisadeError.isInstance(error) ? ` (${error.code})` : '';
  return { ok: false, code: 'INTERNAL', message: `Palisade could not complete ${tool}${code}${detail}` };
}

/** Runs a caller's hook; its failure never reaches the tool result. */
function report(hook: () => void): void {
  try {
    hook();
  } catch {
    // Hooks observe; they cannot change or fail a call.
  }
}
