import { createHash, randomUUID } from 'node:crypto';
import { canonicalJson } from '../audit/canonical-json.js';
import type { ApprovalsConfig } from '../config/config-schema.js';
import { NotFoundError } from '../errors/not-found-error.js';
import type { PalisadeEvent } from '../events/events.js';
import type { GuardEvent } from '../guard/decide.js';
import type { Decision } from '../policy/types.js';
import { redactValue } from '../redact/redact.js';
import type { Sealer } from '../store/sealer.js';
import type { ApprovalStatus, ApprovalTicket, ApprovalTransition, Store } from '../store/store.js';
import { severityRank } from '../types.js';

/** What `waitForApproval` ends with. */
export interface ApprovalWaitResult {
  /** The ticket's status, or `timeout` when the wait ended first (the ticket stays pending). */
  status: ApprovalStatus | 'timeout' | 'aborted';
  /** True when the call may go ahead: approved, or expired with `on_timeout: allow`. */
  allowed: boolean;
  ticket: ApprovalTicket;
}

/** What `approve` and `deny` did. */
export interface ApprovalOutcome {
  ticket: ApprovalTicket;
  /** False when the call changed nothing (a repeated call, or the ticket had already ended). */
  changed: boolean;
  /** The decision of the current policy at approval time, when it was evaluated again. */
  reevaluation?: Decision;
}

export interface ApprovalQueueOptions {
  store: Store;
  sealer: Sealer;
  config: () => ApprovalsConfig;
  /** Evaluates an event under the policy serving now, without state effects (approval time check). */
  reevaluate: (event: GuardEvent) => Decision | Promise<Decision>;
  emit: (event: PalisadeEvent) => void;
  /** Writes a receipt of a transition to the audit log. */
  record: (kind: string, ticket: ApprovalTicket, extra: Record<string, unknown>) => void;
  now?: () => number;
  /** How often `wait` reads the store for decisions made by other processes. Default 200 ms. */
  pollMs?: number;
  /** How often pending tickets are checked for expiry. Default 1000 ms; 0 turns the sweep off. */
  sweepMs?: number;
}

export interface ApprovalQueue {
  request(decision: Decision, event: GuardEvent): Promise<ApprovalTicket>;
  get(id: string, options: { tenantId: string }): Promise<ApprovalTicket | undefined>;
  list(options: {
    tenantId: string;
    status?: ApprovalStatus | readonly ApprovalStatus[];
    appId?: string;
    limit?: number;
  }): Promise<ApprovalTicket[]>;
  approve(id: string, options: { tenantId: string; approver: string; note?: string }): Promise<ApprovalOutcome>;
  deny(id: string, options: { tenantId: string; approver: string; reason: string }): Promise<ApprovalOutcome>;
  wait(id: string, options: { tenantId: string; timeoutMs?: number; signal?: AbortSignal }): Promise<ApprovalWaitResult>;
  /** Lets one call through on an approved ticket whose arguments match; true once. */
  redeem(id: string, tenantId: string, event: GuardEvent): Promise<boolean>;
  /** Expires every pending ticket past its expiry; returns how many. */
  sweep(): Promise<number>;
  close(): void;
}

/** SHA-256 of the canonical JSON of what a call is: its tool, arguments or text. */
export function callHash(event: Pick<GuardEvent, 'boundary' | 'tool' | 'args' | 'text' | 'result'>): string {
  return createHash('sha256')
    .update(canonicalJson({ boundary: event.boundary, tool: event.tool, args: event.args, text: event.text, result: event.result }))
    .digest('hex');
}

const sensitiveFamilies = new Set(['PII', 'SEC']);

/**
 * The approval queue behind `escalate`: tickets in the store (they survive restarts), transitions
 * that race safely (the store's compare-and-set), the current policy checked again at approval
 * time, expiry with the configured outcome, and waiting for a decision across processes.
 *
 * @example
 * const ticket = await queue.request(decision, event);
 * await queue.approve(ticket.id, { tenantId: 'acme', approver: 'alice@acme.com' });
 * (await queue.wait(ticket.id, { tenantId: 'acme', timeoutMs: 60_000 })).allowed; // true
 */
export function createApprovalQueue(options: ApprovalQueueOptions): ApprovalQueue {
  const { store, sealer } = options;
  const now = options.now ?? Date.now;
  const pollMs = options.pollMs ?? 200;
  const waiters = new Map<string, Set<() => void>>();
  let closed = false;
  const key = (tenantId: string, id: string) => `${tenantId}\u0000${id}`;

  const wake = (ticket: ApprovalTicket) => {
    const set = waiters.get(key(ticket.tenantId, ticket.id));
    if (set) for (const resolve of set) resolve();
  };

  const announce = (type: 'approval.requested' | 'approval.approved' | 'approval.denied' | 'approval.expired', ticket: ApprovalTicket) => {
    options.emit({
      type,
      time: new Date(now()).toISOString(),
      tenantId: ticket.tenantId,
      ...(ticket.appId !== undefined ? { appId: ticket.appId } : {}),
      severity: type === 'approval.requested' ? 'MEDIUM' : 'LOW',
      ticket,
    });
  };

  const transition = async (tenantId: string, id: string, change: ApprovalTransition) => {
    const result = await store.transitionApproval(tenantId, id, change);
    if (result.outcome === 'not_found') throw new NotFoundError({ kind: 'approval', id, tenantId });
    if (result.outcome === 'changed') {
      const ticket = result.ticket;
      const extra: Record<string, unknown> =
        change.kind === 'expire'
          ? { outcome: ticket.onTimeout }
          : change.kind === 'deny'
            ? { approver: change.approver, reason: change.reason }
            : { approver: change.approver, ...(change.note !== undefined ? { note: change.note } : {}), votes: ticket.approvals.length };
      const type =
        ticket.status === 'approved'
          ? 'approval.approved'
          : ticket.status === 'denied'
            ? 'approval.denied'
            : ticket.status === 'expired'
              ? 'approval.expired'
              : undefined;
      options.record(type ?? 'approval.vote', ticket, extra);
      if (type) announce(type, ticket);
      wake(ticket);
    }
    return { ticket: result.ticket, changed: result.outcome === 'changed' };
  };

  /** Reads a ticket, expiring it first when its time is up (so no caller sees a stale pending). */
  const read = async (tenantId: string, id: string): Promise<ApprovalTicket | undefined> => {
    const ticket = await store.getApproval(tenantId, id);
    if (ticket?.status === 'pending' && ticket.expiresAt <= now())
      return (await transition(tenantId, id, { kind: 'expire', at: now() })).ticket;
    return ticket;
  };

  const sweep = async () => {
    let count = 0;
    for (const { tenantId, id } of await store.listExpiredApprovals(now(), 500)) {
      const result = await transition(tenantId, id, { kind: 'expire', at: now() }).catch(() => undefined);
      if (result?.changed) count++;
    }
    return count;
  };
  const sweepMs = options.sweepMs ?? 1000;
  const timer = sweepMs > 0 ? setInterval(() => void sweep().catch(() => undefined), sweepMs) : undefined;
  timer?.unref();

  const settled = (ticket: ApprovalTicket, status: ApprovalWaitResult['status']): ApprovalWaitResult => ({
    status,
    allowed: status === 'approved' || (status === 'expired' && ticket.onTimeout === 'allow'),
    ticket,
  });

  return {
    async request(decision, event) {
      const config = options.config();
      const scope = decision.scope;
      const tenantId = scope.tenantId ?? '';
      const created = now();
      const shown =
        config.show_args === 'none'
          ? undefined
          : config.show_args === 'full'
            ? (event.args ?? event.result ?? event.text)
            : redactValue(
                event.args ?? event.result ?? event.text,
                decision.detections.filter((detection) => sensitiveFamilies.has(detection.family)),
              );
      const ticket: ApprovalTicket = {
        id: `apr_${randomUUID().replaceAll('-', '')}`,
        tenantId,
        eventId: decision.eventId,
        boundary: decision.boundary,
        reason: decision.reason,
        rule: `${decision.decidedBy.policyId}/${decision.decidedBy.rule}`,
        policyVersion: decision.policyVersion,
        createdAt: created,
        expiresAt: created + config.timeout,
        requiredApprovals: config.required_approvals,
        onTimeout: config.on_timeout,
        status: 'pending',
        approvals: [],
        argsHash: callHash(event),
        sealedEvent: sealer.seal(
          tenantId,
          canonicalJson({ boundary: event.boundary, tool: event.tool, args: event.args, text: event.text, result: event.result, scope }),
        ),
      };
      if (scope.appId !== undefined) ticket.appId = scope.appId;
      if (scope.userId !== undefined) ticket.userId = scope.userId;
      if (scope.sessionId !== undefined) ticket.sessionId = scope.sessionId;
      if (decision.tool !== undefined) ticket.tool = decision.tool;
      if (shown !== undefined) ticket.args = shown;
      await store.createApproval(ticket);
      options.record('approval.requested', ticket, {
        severity: decision.detections.reduce((top, detection) => Math.max(top, severityRank(detection.severity)), -1),
      });
      announce('approval.requested', ticket);
      return ticket;
    },

    get: (id, { tenantId }) => read(tenantId, id),

    list: ({ tenantId, status, appId, limit }) =>
      store.listApprovals(tenantId, {
        ...(status !== undefined ? { status } : {}),
        ...(appId !== undefined ? { appId } : {}),
        ...(limit !== undefined ? { limit } : {}),
      }),

    async approve(id, { tenantId, approver, note }) {
      const ticket = await read(tenantId, id);
      if (!ticket) throw new NotFoundError({ kind: 'approval', id, tenantId });
      if (ticket.status !== 'pending') return { ticket, changed: false };
      // INVARIANT (time of check / time of use): the call is evaluated again under the policy
      // serving now; one the policy blocks today is denied, whatever the approver says.
      const reevaluation = ticket.sealedEvent ? await options.reevaluate(reopen(sealer, ticket)) : undefined;
      if (reevaluation?.action === 'block') {
        const result = await transition(tenantId, id, {
          kind: 'deny',
          approver: 'policy',
          reason: `The policy serving now blocks this call (${reevaluation.decidedBy.policyId}/${reevaluation.decidedBy.rule}: ${reevaluation.reason})`,
          at: now(),
        });
        return { ...result, reevaluation };
      }
      const change: ApprovalTransition = { kind: 'approve', approver, at: now() };
      if (note !== undefined) change.note = note;
      const result = await transition(tenantId, id, change);
      return reevaluation ? { ...result, reevaluation } : result;
    },

    async deny(id, { tenantId, approver, reason }) {
      const ticket = await read(tenantId, id);
      if (!ticket) throw new NotFoundError({ kind: 'approval', id, tenantId });
      if (ticket.status !== 'pending') return { ticket, changed: false };
      return transition(tenantId, id, { kind: 'deny', approver, reason, at: now() });
    },

    async wait(id, { tenantId, timeoutMs = Number.POSITIVE_INFINITY, signal }) {
      const deadline = now() + timeoutMs;
      const slot = key(tenantId, id);
      for (;;) {
        const ticket = await read(tenantId, id);
        if (!ticket) throw new NotFoundError({ kind: 'approval', id, tenantId });
        if (ticket.status !== 'pending') return settled(ticket, ticket.status);
        if (signal?.aborted || closed) return settled(ticket, 'aborted');
        const remaining = Math.min(deadline, ticket.expiresAt) - now();
        if (now() >= deadline) return settled(ticket, 'timeout');
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(sleep);
            signal?.removeEventListener('abort', done);
            waiters.get(slot)?.delete(done);
            if (waiters.get(slot)?.size === 0) waiters.delete(slot);
            resolve();
          };
          const sleep = setTimeout(done, Math.max(0, Math.min(remaining, pollMs)));
          signal?.addEventListener('abort', done, { once: true });
          const set = waiters.get(slot) ?? new Set<() => void>();
          waiters.set(slot, set);
          set.add(done);
        });
      }
    },

    async redeem(id, tenantId, event) {
      const ticket = await read(tenantId, id);
      if (ticket?.status !== 'approved' || ticket.argsHash !== callHash(event)) return false;
      return store.consumeApproval(tenantId, id, now());
    },

    sweep,

    close() {
      closed = true;
      if (timer) clearInterval(timer);
      for (const set of waiters.values()) for (const resolve of set) resolve();
    },
  };
}

function reopen(sealer: Sealer, ticket: ApprovalTicket): GuardEvent {
  const original = JSON.parse(sealer.open(ticket.tenantId, ticket.sealedEvent as string)) as GuardEvent;
  return original;
}
