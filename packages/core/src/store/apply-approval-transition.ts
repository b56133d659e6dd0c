import type { ApprovalTicket, ApprovalTransition } from './store.js';

/** Who resolves a ticket that ran out of time (`resolution.by` of an expired ticket). */
export const expiryResolver = 'system';

/**
 * The pure rule behind `Store.transitionApproval`, shared by every store so that they cannot
 * disagree: the store reads the ticket, applies this, and writes the result back in the same
 * atomic step (a compare-and-set on `status = 'pending'`).
 *
 * - approve: adds the vote; the same approver twice changes nothing; the ticket becomes
 *   `approved` once it has `requiredApprovals` distinct votes.
 * - deny: `denied`, with the approver, reason and time as the resolution.
 * - expire: `expired` only when the ticket's `expiresAt` is at or before `at`.
 *
 * INVARIANT: only a `pending` ticket ever changes; an ended ticket is returned as it is.
 * The input ticket is never mutated.
 *
 * @example
 * const { changed, ticket } = applyApprovalTransition(stored, { kind: 'deny', approver: 'ann', reason: 'no', at: now });
 */
export function applyApprovalTransition(
  current: ApprovalTicket,
  transition: ApprovalTransition,
): { changed: boolean; ticket: ApprovalTicket } {
  if (current.status !== 'pending') return { changed: false, ticket: current };
  switch (transition.kind) {
    case 'approve': {
      if (current.approvals.some((vote) => vote.approver === transition.approver)) return { changed: false, ticket: current };
      const vote =
        transition.note === undefined
          ? { approver: transition.approver, at: transition.at }
          : { approver: transition.approver, note: transition.note, at: transition.at };
      const approvals = [...current.approvals, vote];
      const status = approvals.length >= current.requiredApprovals ? 'approved' : 'pending';
      return { changed: true, ticket: { ...current, approvals, status } };
    }
    case 'deny':
      return {
        changed: true,
        ticket: { ...current, status: 'denied', resolution: { by: transition.approver, reason: transition.reason, at: transition.at } },
      };
    case 'expire':
      if (current.expiresAt > transition.at) return { changed: false, ticket: current };
      return {
        changed: true,
        ticket: { ...current, status: 'expired', resolution: { by: expiryResolver, reason: 'expired', at: transition.at } },
      };
  }
}
