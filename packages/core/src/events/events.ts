import type { Action, Boundary, Decision } from '../policy/types.js';
import type { ApprovalTicket, BudgetPeriod } from '../store/store.js';
import type { Severity } from '../types.js';

/** Budget state carried by budget events. Amounts in USD. */
export interface BudgetEventDetail {
  /** `tenant`, `app:<id>` or `user:<id>`. */
  scope: string;
  period: BudgetPeriod;
  limitUsd: number;
  spentUsd: number;
  /** spent / limit, e.g. 0.9 for 90 %. */
  ratio: number;
  /** The threshold crossed (budget.threshold), e.g. 0.8. */
  threshold?: number;
  action: 'warn' | 'soft_block' | 'hard_block';
  resetsAt: string;
}

interface EventBase {
  /** ISO time the event happened. */
  time: string;
  /** `''` for events without a tenant (and for process-wide events such as reloads). */
  tenantId: string;
  appId?: string;
  /** How urgent: a decision's highest detection severity, or fixed per kind (see README). */
  severity: Severity;
}

/** Everything the guard tells subscribers and alert channels. */
export type PalisadeEvent =
  | (EventBase & { type: 'decision'; boundary: Boundary; action: Action; decision: Decision })
  | (EventBase & {
      type: 'approval.requested' | 'approval.approved' | 'approval.denied' | 'approval.expired';
      ticket: ApprovalTicket;
    })
  | (EventBase & { type: 'budget.threshold' | 'budget.exceeded'; budget: BudgetEventDetail })
  | (EventBase & { type: 'policy.reloaded'; version: string; previousVersion: string })
  | (EventBase & { type: 'policy.reload_failed'; version: string; error: string })
  | (EventBase & { type: 'audit.failed' | 'audit.recovered' | 'audit.dropped'; message: string; dropped?: number })
  | (EventBase & { type: 'alert.failed'; channel: string; eventType: string; message: string; attempts: number });

export type PalisadeEventType = PalisadeEvent['type'];

export const eventTypes = [
  'decision',
  'approval.requested',
  'approval.approved',
  'approval.denied',
  'approval.expired',
  'budget.threshold',
  'budget.exceeded',
  'policy.reloaded',
  'policy.reload_failed',
  'audit.failed',
  'audit.recovered',
  'audit.dropped',
  'alert.failed',
] as const satisfies readonly PalisadeEventType[];

/** Which events a subscriber wants; every field is optional and all given fields must match. */
export interface EventFilter {
  types?: readonly PalisadeEventType[];
  tenantId?: string | readonly string[];
  boundary?: Boundary | readonly Boundary[];
  action?: Action | readonly Action[];
  minSeverity?: Severity;
}
