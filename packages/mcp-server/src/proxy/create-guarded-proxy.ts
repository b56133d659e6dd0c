import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  CallToolResultSchema,
  ListToolsRequestSchema,
  type ServerNotification,
  type ServerRequest,
  type Tool,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import {
  actionRank,
  callHash,
  type Decision,
  type Detection,
  type Guard,
  type GuardEvent,
  PalisadeError,
  type Scope,
} from '@palisade/core';
import type { RateLimit } from '../api-keys.js';
import { createRateLimiter, type RateLimiter } from '../create-rate-limiter.js';
import { serverInfo } from '../server-info.js';
import { createPinStore, type PinHoldReason, type PinStore, type ToolPin, toolDefinitionHash } from './create-pin-store.js';
import { createSchemaValidator } from './create-schema-validator.js';
import { createToolCoverage, type ToolCoverage } from './create-tool-coverage.js';
import { buildProxyDecision, type ProxyRule, recordProxyDecision } from './proxy-decision.js';
import { type PoisoningOptions, scanToolDefinition, type ToolDefinition } from './scan-tool-definition.js';
import { type ProxyRefusalCode, toMcpProxyOutcome } from './to-mcp-proxy-outcome.js';

/** An upstream MCP server the proxy starts as a child process and talks to over stdio. */
export interface UpstreamCommand {
  command: string;
  args?: string[];
  /**
   * The upstream's whole environment, besides the few variables the MCP SDK always passes (HOME,
   * LOGNAME, PATH, SHELL, TERM, USER). Nothing else of the proxy's environment reaches it, so a
   * token meant for the proxy or its client is never handed upstream.
   */
  env?: Record<string, string>;
  cwd?: string;
  /** The child's stderr. Default `inherit` (the proxy's stderr; never its stdout). */
  stderr?: 'inherit' | 'ignore' | 'pipe';
}

/** What the proxy does with an escalated call or result. */
export interface EscalationOptions {
  /** How long a call waits for its ticket to be decided. Default 30 s. */
  waitMs?: number;
  /** What an undecided ticket means once the wait is over: `deny` (default) or `allow`. */
  onTimeout?: 'deny' | 'allow';
}

/** One decision the proxy applied (or, in shadow mode, only recorded). */
export interface ProxyDecisionEvent {
  /** `tool_definition`: a listed tool was pinned or held. */
  stage: 'tool_call' | 'tool_result' | 'tool_definition';
  tool: string;
  decision: Decision;
  /** False in shadow mode for a decision that would have changed the call. */
  enforced: boolean;
}

export interface GuardedProxyOptions {
  guard: Guard;
  /** The server to front: a command to start, or a `Client` already connected to it. */
  upstream: UpstreamCommand | Client;
  /** Tenant and app (and user) of this proxy's calls; `sessionId` defaults to one per connection. */
  scope?: Scope;
  /** `shadow`: decide and record everything, change nothing. Default `enforce`. */
  mode?: 'enforce' | 'shadow';
  onEscalate?: EscalationOptions;
  /**
   * What a call to a tool that no policy rule names gets: `escalate` (default), `block`, or `allow`.
   * It applies when the guard's own decision is less restrictive.
   */
  uncoveredTools?: 'escalate' | 'block' | 'allow';
  /** The palisade.yaml the guard was created from; needed to tell which tools a rule covers. */
  configPath?: string;
  /** Or the configuration object or YAML text the guard was created from. */
  config?: string | Record<string, unknown>;
  /** Which tools a rule covers; default `createToolCoverage({ guard, configPath, config })`. */
  coverage?: ToolCoverage;
  /** JSON file of approved tool definitions. Default: pins live in memory (lost at exit). */
  pinFile?: string;
  /** Key of this upstream in the pin file. Default: the command line, or the server's name. */
  serverId?: string;
  /** Token bucket per session. Default `{ perSecond: 10, burst: 30 }`; `false` turns it off. */
  rateLimit?: RateLimit | false;
  /**
   * Upstream tool annotations (`readOnlyHint`, `destructiveHint`, …) are untrusted and never
   * decide anything here. `strip` (default) also keeps them from the client, which might trust
   * them; `forward` passes them on.
   */
  annotations?: 'strip' | 'forward';
  /** Timeout of one upstream call. Default 60 s. */
  callTimeoutMs?: number;
  /** Which detections in a tool definition make it poisoned. */
  poisoning?: PoisoningOptions;
  /** Every decision, for telemetry. A throwing hook is ignored; it never changes a decision. */
  onDecision?: (event: ProxyDecisionEvent) => void;
  /** Clock for the rate limiter and receipts. Default: a monotonic clock for the limiter, Date.now for receipts. */
  now?: () => number;
}

/** A listed tool as the proxy sees it. */
export interface ProxyToolStatus {
  name: string;
  /** `pinned`: approved, listed and callable; `held`: hidden and blocked until approved. */
  status: 'pinned' | 'held';
  hash: string;
  /** Why a tool is held; `denied`: its ticket was denied. */
  reason?: PinHoldReason | 'denied';
  /** The ticket that approves the held definition (when the guard has state). */
  approvalId?: string;
  /** What the description scan found (for a held or newly pinned definition). */
  detections: Detection[];
}

/** A running proxy: connect clients to it, close it when done. */
export interface GuardedProxy {
  /** Serves one client over a transport (a new MCP session; call it once per client). */
  connect(transport: Transport): Promise<void>;
  /** Lists the upstream's tools again and checks every definition against its pin. */
  refreshTools(): Promise<ProxyToolStatus[]>;
  /** The tools as of the last listing. */
  tools(): ProxyToolStatus[];
  /** The client connected to the upstream server. */
  readonly upstream: Client;
  /** Resolves when the upstream connection closes (the child exited, or `close`). */
  readonly upstreamClosed: Promise<void>;
  /** Closes every client session and, when the proxy started it, the upstream server. */
  close(): Promise<void>;
}

interface ToolEntry extends ProxyToolStatus {
  tool: Tool;
  definition: ToolDefinition;
}

interface Session {
  id: string;
  server: Server;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const defaultRateLimit: RateLimit = { perSecond: 10, burst: 30 };

/**
 * Starts a guarded MCP proxy in front of a stdio MCP server (or a connected `Client`).
 *
 * - `tools/call` goes through `guard.checkToolCall` first: `block` returns an `isError` result
 *   with the reason, `escalate` waits for the ticket up to `onEscalate.waitMs`, `redact` forwards
 *   the redacted arguments. Arguments are checked against the tool's input schema before that,
 *   and the call is counted against the session's rate limit.
 * - Every result goes through `guard.checkToolResult` (indirect injection, secrets, PII) and
 *   `structuredContent` is checked against the output schema before the client sees it.
 * - Tools no rule names get `uncoveredTools` (escalate by default), not a silent allow.
 * - At every listing (and on the upstream's `notifications/tools/list_changed`) each definition
 *   is hashed and compared with its pin: a tool seen for the first time is pinned when its
 *   description scans clean; a poisoned or changed one is hidden and blocked, and (with state) an
 *   approval ticket is opened. Approving the ticket the usual way pins the new definition.
 * - Every call leaves a receipt in the guard's audit chain (when it keeps one).
 *
 * INVARIANT (no side effect before the verdict): nothing is sent upstream for a call until every
 * check above has let it through; a refused or pending call never reaches the upstream server.
 *
 * @example
 * const guard = createGuard({ configPath: 'palisade.yaml' });
 * const proxy = await createGuardedProxy({
 *   guard, configPath: 'palisade.yaml', scope: { tenantId: 'acme', appId: 'desktop' },
 *   upstream: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/srv/data'] },
 *   pinFile: '.palisade/mcp-pins.json',
 * });
 * await proxy.connect(new StdioServerTransport());
 */
export async function createGuardedProxy(options: GuardedProxyOptions): Promise<GuardedProxy> {
  const { guard } = options;
  const now = options.now ?? Date.now;
  const enforce = (options.mode ?? 'enforce') === 'enforce';
  const waitMs = options.onEscalate?.waitMs ?? 30_000;
  const onTimeout = options.onEscalate?.onTimeout ?? 'deny';
  const uncovered = options.uncoveredTools ?? 'escalate';
  const coverage =
    options.coverage ??
    createToolCoverage({
      guard,
      ...(options.configPath !== undefined ? { configPath: options.configPath } : {}),
      ...(options.config !== undefined ? { config: options.config } : {}),
    });
  const pins: PinStore = createPinStore(options.pinFile !== undefined ? { file: options.pinFile } : {});
  const limiter: RateLimiter | undefined =
    options.rateLimit === false
      ? undefined
      : createRateLimiter({ ...(options.rateLimit ?? defaultRateLimit), ...(options.now ? { now: options.now } : {}) });
  const validator = createSchemaValidator();
  const baseScope: Scope = options.scope ?? {};
  const tenantId = baseScope.tenantId ?? '';
  // Tickets of calls that waited in vain, by call hash: the same call made again after an approval
  // redeems its ticket instead of opening a new one.
  const ticketsByCall = new Map<string, string>();

  const { client, owned } = await connectUpstream(options.upstream);
  let closing = false;
  const upstreamClosed = new Promise<void>((resolve) => {
    const previous = client.onclose;
    client.onclose = () => {
      previous?.();
      resolve();
    };
  });
  const serverName = client.getServerVersion()?.name ?? 'upstream';
  const serverId =
    options.serverId ?? (isClient(options.upstream) ? serverName : [options.upstream.command, ...(options.upstream.args ?? [])].join(' '));

  const report = (stage: ProxyDecisionEvent['stage'], tool: string, decision: Decision, enforced: boolean) => {
    try {
      options.onDecision?.({ stage, tool, decision, enforced });
    } catch {
      // Telemetry never changes or delays a decision.
    }
  };
  const decideHere = (input: Omit<Parameters<typeof buildProxyDecision>[0], 'guard'>): Decision =>
    recordProxyDecision(guard, buildProxyDecision({ guard, ...input }), input.event, now());

  // ---------- tool definitions: pins, poisoning, approval of changes ----------

  let entries = new Map<string, ToolEntry>();
  let listedSignature = '';
  const sessions = new Set<Session>();

  const definitionEvent = (
    entry: { definition: ToolDefinition; hash: string },
    change: PinHoldReason | 'first_sight' | 'approved',
    previousHash?: string,
  ): GuardEvent => ({
    boundary: 'tool_result',
    tool: entry.definition.name,
    result: {
      mcpToolDefinition: {
        server: serverName,
        serverId,
        hash: entry.hash,
        ...(previousHash ? { previousHash } : {}),
        change,
        definition: entry.definition,
      },
    },
    scope: baseScope,
  });

  const pin = (entry: ToolEntry, via: 'first_sight' | 'approval', approvalId?: string): ToolEntry => {
    const record: ToolPin = { hash: entry.hash, pinnedAt: new Date(now()).toISOString(), via, ...(approvalId ? { approvalId } : {}) };
    pins.set(serverId, entry.name, record);
    const decision = decideHere({
      event: definitionEvent(entry, via === 'approval' ? 'approved' : 'first_sight'),
      action: 'allow',
      rule: 'tool_pinned',
      reason:
        via === 'approval'
          ? `Definition of ${entry.name} approved (ticket ${approvalId}) and pinned`
          : `Definition of ${entry.name} pinned at first sight`,
      detections: entry.detections,
      ...(approvalId ? { approvalId } : {}),
    });
    report('tool_definition', entry.name, decision, true);
    const pinned: ToolEntry = { ...entry, status: 'pinned' };
    delete pinned.reason;
    delete pinned.approvalId;
    return pinned;
  };

  /** A held entry whose ticket may have been decided since: pins it when approved. */
  const recheckHeld = async (entry: ToolEntry): Promise<ToolEntry> => {
    if (entry.status !== 'held' || entry.approvalId === undefined || !guard.state) return entry;
    const ticket = await guard.getApproval(entry.approvalId, { tenantId }).catch(() => undefined);
    if (ticket?.status === 'approved') return pin(entry, 'approval', entry.approvalId);
    if (ticket?.status === 'denied') return { ...entry, reason: 'denied' };
    return entry;
  };

  const hold = async (entry: ToolEntry, reason: PinHoldReason, stored: ToolPin | undefined): Promise<ToolEntry> => {
    const previous = stored?.held;
    // The same held definition keeps its ticket across listings and restarts, until it is decided.
    if (previous && previous.hash === entry.hash) {
      const held: ToolEntry = {
        ...entry,
        status: 'held',
        reason: previous.reason,
        ...(previous.approvalId ? { approvalId: previous.approvalId } : {}),
      };
      if (!guard.state) return held;
      if (previous.approvalId !== undefined) {
        const ticket = await guard.getApproval(previous.approvalId, { tenantId }).catch(() => undefined);
        if (ticket?.status === 'approved') return pin(held, 'approval', previous.approvalId);
        if (ticket?.status === 'pending') return held;
        if (ticket?.status === 'denied') return { ...held, reason: 'denied' };
      }
      // No ticket yet (the guard had no state then), or it expired or is gone: ask again below.
    }
    const event = definitionEvent(entry, reason, stored?.hash);
    const rule: ProxyRule = reason === 'changed' ? 'tool_definition_changed' : 'tool_poisoned';
    const words =
      reason === 'changed'
        ? `The definition of tool ${entry.name} changed since it was approved (possible rug pull); it is blocked until the new definition is approved`
        : `The definition of tool ${entry.name} carries instructions for the model (tool poisoning: ${describe(entry.detections)}); it is blocked until approved`;
    let approvalId: string | undefined;
    if (guard.state) {
      const escalation = buildProxyDecision({ guard, event, action: 'escalate', rule, reason: words, detections: entry.detections });
      approvalId = (await guard.state.approvals.request(escalation, event)).id;
    }
    const decision = decideHere({
      event,
      action: 'block',
      rule,
      reason: approvalId
        ? `${words} (ticket ${approvalId})`
        : `${words}; this guard keeps no approval queue, so approve it by setting its pin to ${entry.hash} in the pin file`,
      detections: entry.detections,
      ...(approvalId ? { approvalId } : {}),
    });
    report('tool_definition', entry.name, decision, enforce);
    pins.set(serverId, entry.name, {
      ...stored,
      held: { hash: entry.hash, reason, ...(approvalId ? { approvalId } : {}), at: new Date(now()).toISOString() },
    });
    return { ...entry, status: 'held', reason, ...(approvalId ? { approvalId } : {}) };
  };

  const check = async (tool: Tool): Promise<ToolEntry> => {
    const definition: ToolDefinition = {
      name: tool.name,
      ...(tool.title !== undefined ? { title: tool.title } : {}),
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      inputSchema: tool.inputSchema as Record<string, unknown>,
      ...(tool.outputSchema !== undefined ? { outputSchema: tool.outputSchema as Record<string, unknown> } : {}),
    };
    const hash = toolDefinitionHash(serverName, definition);
    const stored = pins.get(serverId, tool.name);
    const base: ToolEntry = { name: tool.name, status: 'pinned', hash, detections: [], tool, definition };
    // INVARIANT: an approved definition is trusted as approved; only new or changed ones are scanned.
    if (stored?.hash === hash) return base;
    const scan = scanToolDefinition(definition, { scanner: guard.scanner, ...(options.poisoning ? { poisoning: options.poisoning } : {}) });
    const scanned: ToolEntry = { ...base, detections: scan.detections };
    if (stored?.hash !== undefined) return hold(scanned, 'changed', stored);
    if (scan.poisoned) return hold(scanned, 'poisoned', stored);
    return pin(scanned, 'first_sight');
  };

  const listUpstream = async (): Promise<Tool[]> => {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const result = await client.listTools(cursor !== undefined ? { cursor } : undefined);
      tools.push(...result.tools);
      cursor = result.nextCursor;
      if (cursor === undefined) break;
    }
    return tools;
  };

  const visible = (): ToolEntry[] => [...entries.values()].filter((entry) => entry.status === 'pinned' || !enforce);

  const notifyIfChanged = async () => {
    const signature = visible()
      .map((entry) => `${entry.name}\u0000${entry.hash}`)
      .sort()
      .join('\n');
    if (signature === listedSignature) return;
    listedSignature = signature;
    await Promise.all([...sessions].map((session) => session.server.sendToolListChanged().catch(() => undefined)));
  };

  // Listings do not overlap: a request for one while one runs runs once more after it, so a
  // change announced mid-listing is never lost.
  let running: Promise<void> | undefined;
  let again = false;
  const refresh = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          const next = new Map<string, ToolEntry>();
          for (const tool of await listUpstream()) {
            if (!next.has(tool.name)) next.set(tool.name, await check(tool));
          }
          entries = next;
          await notifyIfChanged();
        } while (again);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    void refresh().catch(() => undefined);
  });
  // A held definition approved in this process shows at once; one approved elsewhere (the
  // operator CLI) shows at the next listing or call.
  const stopWatchingApprovals = guard.events.on('approval.approved', (event) => {
    const approved = [...entries.values()].some((entry) => entry.status === 'held' && entry.approvalId === event.ticket.id);
    if (approved && !closing) void refresh().catch(() => undefined);
  });
  try {
    await refresh();
  } catch (error) {
    stopWatchingApprovals();
    if (owned) await client.close().catch(() => undefined);
    throw new PalisadeError({
      code: 'INVALID_OPTIONS',
      message: `Listing and checking the tools of the upstream MCP server failed: ${(error as Error).message}`,
      hint: 'Check that the upstream command starts an MCP server that offers tools, and that the guard can write its state.',
      cause: error,
    });
  }

  const listing = (): Tool[] =>
    visible().map(({ tool }) => {
      const listed: Tool = { name: tool.name, inputSchema: tool.inputSchema };
      if (tool.title !== undefined) listed.title = tool.title;
      if (tool.description !== undefined) listed.description = tool.description;
      if (tool.outputSchema !== undefined) listed.outputSchema = tool.outputSchema;
      if (tool.icons !== undefined) listed.icons = tool.icons;
      if (tool._meta !== undefined) listed._meta = tool._meta;
      if (options.annotations === 'forward' && tool.annotations !== undefined) listed.annotations = tool.annotations;
      return listed;
    });

  // Server instructions reach the model like descriptions do: passed on only when they scan clean.
  const upstreamInstructions = client.getInstructions();
  const instructions =
    upstreamInstructions !== undefined &&
    !scanToolDefinition(
      { name: '(instructions)', description: upstreamInstructions, inputSchema: {} },
      { scanner: guard.scanner, ...(options.poisoning ? { poisoning: options.poisoning } : {}) },
    ).poisoned
      ? upstreamInstructions
      : undefined;

  // ---------- calls ----------

  /** The outcome of one stage: go on (with these arguments or this result) or answer with a refusal. */
  type Verdict = { proceed: true; args?: Record<string, unknown> } | { proceed: false; result: CallToolResult };

  const refuse = (decision: Decision, code: ProxyRefusalCode, retryAfterMs?: number): Verdict & { proceed: false } => ({
    proceed: false,
    result: toMcpProxyOutcome({ decision, code, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) }),
  });

  /** A proxy refusal: recorded, reported, and enforced unless in shadow mode. */
  const proxyRefusal = (
    stage: 'tool_call' | 'tool_result',
    event: GuardEvent,
    rule: ProxyRule,
    code: ProxyRefusalCode,
    reason: string,
    extra: { retryAfterMs?: number; approvalId?: string } = {},
  ): Verdict => {
    const decision = decideHere({ event, action: 'block', rule, reason, ...(extra.approvalId ? { approvalId: extra.approvalId } : {}) });
    report(stage, event.tool ?? '', decision, enforce);
    if (!enforce) return { proceed: true };
    return refuse(decision, code, extra.retryAfterMs);
  };

  /**
   * Waits for the ticket of an escalated decision and turns its outcome into a verdict. `mine`:
   * the proxy opened the ticket (an uncovered tool, a result), so the proxy redeems it.
   */
  const settleEscalation = async (
    stage: 'tool_call' | 'tool_result',
    event: GuardEvent,
    escalated: Decision,
    mine: boolean,
    signal: AbortSignal,
  ): Promise<Verdict> => {
    const approvalId = escalated.approvalId;
    if (approvalId === undefined) {
      if (onTimeout === 'allow') {
        report(
          stage,
          event.tool ?? '',
          decideHere({
            event,
            base: escalated,
            action: 'allow',
            rule: 'no_approval_queue',
            reason: 'Escalated, but this guard keeps no approval queue; allowed (onTimeout: allow)',
          }),
          true,
        );
        return { proceed: true };
      }
      return refuse(escalated, 'APPROVAL_REQUIRED');
    }
    const key = stage === 'tool_call' ? callHash(event) : undefined;
    if (key !== undefined) remember(key, approvalId);
    const wait = await guard.waitForApproval(approvalId, { tenantId, timeoutMs: waitMs, signal });
    const followUp = (action: 'allow' | 'block', rule: ProxyRule, reason: string) =>
      decideHere({ event, base: escalated, action, rule, reason, approvalId, layer: rule === 'approved' ? 'approval' : 'policy' });
    if (wait.status === 'approved') {
      if (key !== undefined) ticketsByCall.delete(key);
      if (stage === 'tool_call' && !mine) {
        // The guard's own ticket: the same call evaluated again redeems it (once).
        const again = await guard.evaluate({ ...event, approvalId });
        report(stage, event.tool ?? '', again, true);
        if (actionRank(again.action) <= actionRank('redact')) {
          return again.action === 'redact' ? { proceed: true, args: asArgs(again.redactedArgs, event.args) } : { proceed: true };
        }
        return refuse(again, again.action === 'escalate' ? 'APPROVAL_REQUIRED' : 'POLICY_BLOCKED');
      }
      if (stage === 'tool_call' && guard.state && !(await guard.state.approvals.redeem(approvalId, tenantId, event))) {
        const used = followUp('block', 'approval_denied', `Ticket ${approvalId} was approved but has been used already`);
        report(stage, event.tool ?? '', used, true);
        return refuse(used, 'APPROVAL_DENIED');
      }
      const approved = followUp('allow', 'approved', `Approved (ticket ${approvalId})`);
      report(stage, event.tool ?? '', approved, true);
      return approved.action === 'allow' ? { proceed: true } : refuse(approved, 'POLICY_BLOCKED');
    }
    if (wait.allowed) {
      const expired = followUp('allow', 'approval_expired', `Ticket ${approvalId} expired; approvals.on_timeout allows it`);
      report(stage, event.tool ?? '', expired, true);
      return expired.action === 'allow' ? { proceed: true } : refuse(expired, 'POLICY_BLOCKED');
    }
    if (wait.status === 'denied' || wait.status === 'expired') {
      if (key !== undefined) ticketsByCall.delete(key);
      const by = wait.ticket.resolution;
      const denied = followUp(
        'block',
        wait.status === 'denied' ? 'approval_denied' : 'approval_expired',
        wait.status === 'denied'
          ? `Denied${by ? ` by ${by.by}: ${by.reason}` : ''} (ticket ${approvalId})`
          : `Ticket ${approvalId} expired without a decision`,
      );
      report(stage, event.tool ?? '', denied, true);
      return refuse(denied, 'APPROVAL_DENIED');
    }
    if (wait.status === 'aborted') {
      const aborted = followUp('block', 'approval_aborted', `The client cancelled the call while ticket ${approvalId} was pending`);
      report(stage, event.tool ?? '', aborted, true);
      return refuse(aborted, 'APPROVAL_REQUIRED');
    }
    // Still pending: the ticket stays open; the escalation's receipt already records this call.
    if (onTimeout === 'allow') {
      const allowed = followUp(
        'allow',
        'approval_timeout',
        `Ticket ${approvalId} undecided after ${waitMs} ms; allowed (onTimeout: allow)`,
      );
      report(stage, event.tool ?? '', allowed, true);
      return allowed.action === 'allow' ? { proceed: true } : refuse(allowed, 'POLICY_BLOCKED');
    }
    return refuse(escalated, 'APPROVAL_REQUIRED');
  };

  const remember = (key: string, approvalId: string) => {
    ticketsByCall.delete(key);
    ticketsByCall.set(key, approvalId);
    if (ticketsByCall.size > 1000) ticketsByCall.delete(ticketsByCall.keys().next().value as string);
  };

  /** The checks before the upstream sees the call, in order; the first refusal ends them. */
  const checkCall = async (session: Session, name: string, args: Record<string, unknown>, scope: Scope, extra: Extra): Promise<Verdict> => {
    const event: GuardEvent = { boundary: 'tool_call', tool: name, args, scope };
    if (limiter) {
      const verdict = limiter.take(extra.sessionId ?? session.id);
      if (!verdict.ok) {
        const refused = proxyRefusal('tool_call', event, 'rate_limited', 'RATE_LIMITED', 'Too many tool calls in this session', {
          retryAfterMs: verdict.retryAfterMs,
        });
        if (!refused.proceed) return refused;
      }
    }
    let entry = entries.get(name);
    if (!entry) {
      const refused = proxyRefusal(
        'tool_call',
        event,
        'unknown_tool',
        'NOT_FOUND',
        `The upstream server did not list a tool named ${name}`,
      );
      if (!refused.proceed) return refused;
    }
    if (entry?.status === 'held') {
      entry = await recheckHeld(entry);
      if (entry.status === 'pinned') {
        entries.set(name, entry);
        await notifyIfChanged();
      } else {
        const refused = proxyRefusal(
          'tool_call',
          event,
          entry.reason === 'poisoned' ? 'tool_poisoned' : 'tool_definition_changed',
          'TOOL_NOT_APPROVED',
          entry.reason === 'denied'
            ? `The current definition of ${name} was denied approval`
            : entry.reason === 'poisoned'
              ? `The definition of ${name} carries instructions for the model (tool poisoning) and is not approved`
              : `The definition of ${name} changed since it was approved and the change is not approved`,
          entry.approvalId !== undefined ? { approvalId: entry.approvalId } : {},
        );
        if (!refused.proceed) return refused;
      }
    }
    const input = entry ? validator.check(`${entry.hash}#input`, entry.definition.inputSchema, args) : ({ valid: true } as const);
    if (!input.valid) {
      const refused = proxyRefusal(
        'tool_call',
        event,
        'invalid_arguments',
        'INVALID_INPUT',
        `The arguments do not match the input schema of ${name}: ${input.message}`,
      );
      if (!refused.proceed) return refused;
    }

    // Hashing the call costs a canonical serialisation; only worth it while tickets wait.
    const key = ticketsByCall.size > 0 ? callHash(event) : undefined;
    const remembered = key !== undefined ? ticketsByCall.get(key) : undefined;
    const decision = await guard.evaluate(remembered !== undefined ? { ...event, approvalId: remembered } : event);
    const changes = decision.action === 'block' || decision.action === 'escalate' || decision.action === 'redact';
    report('tool_call', name, decision, enforce || !changes);
    let verdict: Verdict = decision.action === 'redact' ? { proceed: true, args: asArgs(decision.redactedArgs, args) } : { proceed: true };
    let final = decision;
    let mine = false;
    if (actionRank(decision.action) < actionRank(uncovered) && !coverage.covers(name, scope)) {
      if (uncovered === 'block') {
        final = decideHere({
          event,
          base: decision,
          action: 'block',
          rule: 'uncovered_tool',
          reason: `No policy rule covers tool ${name}; uncovered tools are blocked`,
        });
      } else if (
        key !== undefined &&
        remembered !== undefined &&
        guard.state &&
        (await guard.state.approvals.redeem(remembered, tenantId, event))
      ) {
        ticketsByCall.delete(key);
        final = decideHere({
          event,
          base: decision,
          action: 'allow',
          rule: 'approved',
          reason: `Approved (ticket ${remembered})`,
          approvalId: remembered,
        });
      } else {
        const reason = `No policy rule covers tool ${name}; uncovered tools need approval`;
        let approvalId: string | undefined;
        // In shadow mode nothing waits, so no ticket is opened for the proxy's own default.
        if (guard.state && enforce) {
          const escalation = buildProxyDecision({ guard, event, base: decision, action: 'escalate', rule: 'uncovered_tool', reason });
          approvalId = (await guard.state.approvals.request(escalation, event)).id;
        }
        final = decideHere({
          event,
          base: decision,
          action: 'escalate',
          rule: 'uncovered_tool',
          reason,
          ...(approvalId ? { approvalId } : {}),
        });
        mine = true;
      }
      report('tool_call', name, final, enforce || final.action === 'allow');
    }
    if (!enforce) return { proceed: true };
    if (final.action === 'block') return refuse(final, 'POLICY_BLOCKED');
    if (final.action === 'escalate') {
      const settled = await settleEscalation('tool_call', event, final, mine, extra.signal);
      if (!settled.proceed) return settled;
      verdict = settled.args !== undefined ? settled : verdict;
    }
    return verdict;
  };

  /** The checks before the client sees a result: output schema, then the guard's result scan. */
  const checkResult = async (
    entry: ToolEntry | undefined,
    name: string,
    result: CallToolResult,
    scope: Scope,
    signal: AbortSignal,
  ): Promise<CallToolResult> => {
    const event: GuardEvent = { boundary: 'tool_result', tool: name, scope };
    const outputSchema = entry?.definition.outputSchema;
    if (outputSchema !== undefined && !result.isError) {
      const output =
        result.structuredContent === undefined
          ? ({ valid: false, message: 'the tool has an output schema but returned no structuredContent' } as const)
          : validator.check(`${entry?.hash}#output`, outputSchema, result.structuredContent);
      if (!output.valid) {
        const refused = proxyRefusal(
          'tool_result',
          { ...event, result: scannable(result) },
          'invalid_output',
          'INVALID_OUTPUT',
          `The result of ${name} does not match its output schema: ${output.message}`,
        );
        if (!refused.proceed) return refused.result;
      }
    }
    const payload = scannable(result);
    const decision = await guard.checkToolResult({ tool: name, result: payload }, scope);
    const changes = decision.action === 'block' || decision.action === 'escalate' || decision.action === 'redact';
    report('tool_result', name, decision, enforce || !changes);
    if (!enforce) return clean(result);
    if (decision.action === 'block') return refuse(decision, 'POLICY_BLOCKED').result;
    if (decision.action === 'escalate') {
      const settled = await settleEscalation('tool_result', { ...event, result: payload }, decision, true, signal);
      if (!settled.proceed) return settled.result;
    }
    if (decision.action === 'redact' && decision.redactedArgs !== undefined) return withRedactions(result, decision.redactedArgs);
    return clean(result);
  };

  const callUpstream = async (name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult> => {
    try {
      return (await client.request({ method: 'tools/call', params: { name, arguments: args } }, CallToolResultSchema, {
        signal,
        timeout: options.callTimeoutMs ?? 60_000,
      })) as CallToolResult;
    } catch (error) {
      return { isError: true, content: [{ type: 'text', text: `The upstream server failed: ${(error as Error).message}` }] };
    }
  };

  const handleCall = async (
    session: Session,
    params: { name: string; arguments?: Record<string, unknown> | undefined },
    extra: Extra,
  ): Promise<CallToolResult> => {
    const name = params.name;
    const args = params.arguments ?? {};
    const scope: Scope = {
      ...baseScope,
      sessionId: baseScope.sessionId ?? extra.sessionId ?? session.id,
      ...(baseScope.userId === undefined && extra.authInfo?.clientId !== undefined ? { userId: extra.authInfo.clientId } : {}),
    };
    const verdict = await checkCall(session, name, args, scope, extra);
    if (!verdict.proceed) return verdict.result;
    // INVARIANT: only here, after every check let the call through, does the upstream see it. Only
    // the tool name and arguments go: never the client's token, session or request metadata.
    const result = await callUpstream(name, verdict.args ?? args, extra.signal);
    return checkResult(entries.get(name), name, result, scope, extra.signal);
  };

  // ---------- sessions ----------

  const connect = async (transport: Transport) => {
    const session: Session = {
      id: randomUUID(),
      server: new Server(
        { name: `palisade-proxy/${serverName}`, version: serverInfo.version },
        { capabilities: { tools: { listChanged: true } }, ...(instructions !== undefined ? { instructions } : {}) },
      ),
    };
    session.server.setRequestHandler(ListToolsRequestSchema, async () => {
      // A listing is the moment a changed definition shows: list upstream again, check, answer.
      await refresh().catch(() => undefined);
      return { tools: listing() };
    });
    session.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      try {
        return await handleCall(session, request.params, extra);
      } catch (error) {
        // INVARIANT (fail closed): a check that throws (a store that cannot be read, say) ends
        // the call here; handleCall only reaches the upstream after every check returned.
        return {
          isError: true,
          content: [
            {
              type: 'text',
              text: `Palisade could not check this call to ${request.params.name}, so it stopped it (or withheld its result): ${(error as Error).message}`,
            },
          ],
        };
      }
    });
    session.server.onclose = () => {
      sessions.delete(session);
    };
    sessions.add(session);
    await session.server.connect(transport);
  };

  const status = (entry: ToolEntry): ProxyToolStatus => {
    const { tool: _tool, definition: _definition, ...rest } = entry;
    return rest;
  };

  return {
    connect,
    async refreshTools() {
      await refresh();
      return [...entries.values()].map(status);
    },
    tools: () => [...entries.values()].map(status),
    upstream: client,
    upstreamClosed,
    async close() {
      if (closing) return;
      closing = true;
      stopWatchingApprovals();
      await Promise.all([...sessions].map((session) => session.server.close().catch(() => undefined)));
      sessions.clear();
      if (owned) await client.close().catch(() => undefined);
    },
  };
}

function isClient(upstream: UpstreamCommand | Client): upstream is Client {
  return upstream instanceof Client || typeof (upstream as { callTool?: unknown }).callTool === 'function';
}

async function connectUpstream(upstream: UpstreamCommand | Client): Promise<{ client: Client; owned: boolean }> {
  if (isClient(upstream)) {
    if (!upstream.getServerCapabilities()) {
      throw new PalisadeError({
        code: 'INVALID_OPTIONS',
        message: 'The upstream Client is not connected.',
        hint: 'Call `await client.connect(transport)` before passing it, or pass `{ command, args }`.',
      });
    }
    return { client: upstream, owned: false };
  }
  const transport = new StdioClientTransport({
    command: upstream.command,
    ...(upstream.args ? { args: upstream.args } : {}),
    env: upstream.env ?? {},
    ...(upstream.cwd ? { cwd: upstream.cwd } : {}),
    stderr: upstream.stderr ?? 'inherit',
  });
  const client = new Client({ name: 'palisade-proxy', version: serverInfo.version }, { capabilities: {} });
  try {
    await client.connect(transport);
  } catch (error) {
    await client.close().catch(() => undefined);
    throw new PalisadeError({
      code: 'INVALID_OPTIONS',
      message: `Cannot start the upstream MCP server \`${[upstream.command, ...(upstream.args ?? [])].join(' ')}\`: ${(error as Error).message}`,
      hint: 'Check the command, its arguments and the environment it needs (pass variables in `env`).',
      cause: error,
    });
  }
  return { client, owned: true };
}

function describe(detections: readonly Detection[]): string {
  const ids = [...new Set(detections.map((detection) => `${detection.ruleId} ${detection.name}`))];
  return ids.length > 0 ? ids.slice(0, 3).join('; ') : 'the definition could not be scanned';
}

function asArgs(value: unknown, fallback: unknown): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  return (fallback ?? {}) as Record<string, unknown>;
}

type ContentBlock = CallToolResult['content'][number];

/**
 * What of a result the model reads, for scanning: text, embedded text resources, resource links,
 * and `structuredContent`. Images, audio and binary resources are not scanned (their bytes are
 * not text); their type stays so that positions line up with `content`.
 */
function scannable(result: CallToolResult): { content: unknown[]; structuredContent?: unknown } {
  const content = result.content.map((block: ContentBlock) => {
    switch (block.type) {
      case 'text':
        return { type: 'text', text: block.text };
      case 'resource':
        return 'text' in block.resource
          ? { type: 'resource', resource: { uri: block.resource.uri, text: block.resource.text } }
          : { type: 'resource', resource: { uri: block.resource.uri } };
      case 'resource_link':
        return {
          type: 'resource_link',
          uri: block.uri,
          name: block.name,
          ...(block.title !== undefined ? { title: block.title } : {}),
          ...(block.description !== undefined ? { description: block.description } : {}),
        };
      default:
        return { type: block.type };
    }
  });
  return result.structuredContent !== undefined ? { content, structuredContent: result.structuredContent } : { content };
}

/** The result as the client gets it: content, structured content and the error flag; upstream `_meta` stays behind (it is not scanned). */
function clean(result: CallToolResult): CallToolResult {
  const out: CallToolResult = { content: result.content };
  if (result.structuredContent !== undefined) out.structuredContent = result.structuredContent;
  if (result.isError !== undefined) out.isError = result.isError;
  return out;
}

/** Puts the redacted strings back where they came from, in `content` and `structuredContent` alike. */
function withRedactions(result: CallToolResult, redacted: unknown): CallToolResult {
  const view = redacted as { content?: Record<string, unknown>[]; structuredContent?: unknown };
  const content = result.content.map((block: ContentBlock, index: number): ContentBlock => {
    const changed = view.content?.[index];
    if (!changed) return block;
    switch (block.type) {
      case 'text':
        return { ...block, text: String(changed.text) };
      case 'resource': {
        const resource = changed.resource as { text?: unknown; uri?: unknown };
        return 'text' in block.resource
          ? { ...block, resource: { ...block.resource, uri: String(resource.uri), text: String(resource.text) } }
          : { ...block, resource: { ...block.resource, uri: String(resource.uri) } };
      }
      case 'resource_link':
        return {
          ...block,
          uri: String(changed.uri),
          name: String(changed.name),
          ...(block.title !== undefined ? { title: String(changed.title) } : {}),
          ...(block.description !== undefined ? { description: String(changed.description) } : {}),
        };
      default:
        return block;
    }
  });
  const out = clean({ ...result, content });
  if (result.structuredContent !== undefined && view.structuredContent !== undefined) {
    out.structuredContent = view.structuredContent as Record<string, unknown>;
  }
  return out;
}
