import type { PalisadeEvent } from '../events/events.js';
import type { Action } from '../policy/types.js';
import type { Alert } from './alert-channel.js';

/** The human side of an alert, shared by every channel. */
export interface AlertDescription {
  /** One line, e.g. `Blocked tool_call email.send: External emails need approval`. */
  title: string;
  /** Label and value pairs for tables (Slack fields, e-mail rows), most useful first. */
  fields: [label: string, value: string][];
  /** Flat string details (PagerDuty `custom_details`, Opsgenie `details`). */
  details: Record<string, string>;
}

/**
 * What an alert may carry about its event: identifiers, actions, rules, amounts and reasons.
 *
 * INVARIANT: alerts leave the process for third parties, so they never carry scanned content: no
 * text, redacted text, tool arguments, detection spans or sealed payloads. `eventId` (or the
 * approval ticket id) leads to the full record in the audit log and the dashboard.
 *
 * @example
 * alertPayload({ id, event, dedupKey, suppressed: 0 }).data // { eventId: 'evt-1', action: 'block', … }
 */
export function alertPayload(alert: Alert): {
  id: string;
  type: PalisadeEvent['type'];
  time: string;
  tenantId: string;
  appId?: string;
  severity: PalisadeEvent['severity'];
  title: string;
  dedupKey: string;
  suppressed: number;
  data: Record<string, unknown>;
} {
  const { event } = alert;
  return {
    id: alert.id,
    type: event.type,
    time: event.time,
    tenantId: event.tenantId,
    ...(event.appId === undefined ? {} : { appId: event.appId }),
    severity: event.severity,
    title: describeEvent(event).title,
    dedupKey: alert.dedupKey,
    suppressed: alert.suppressed,
    data: eventData(event),
  };
}

function eventData(event: PalisadeEvent): Record<string, unknown> {
  switch (event.type) {
    case 'decision': {
      const { decision } = event;
      return {
        eventId: decision.eventId,
        action: decision.action,
        boundary: decision.boundary,
        tool: decision.tool,
        reason: decision.reason,
        decidedBy: decision.decidedBy,
        scope: decision.scope,
        effectivePolicyId: decision.effectivePolicyId,
        effectivePolicyMode: decision.effectivePolicyMode,
        policyVersion: decision.policyVersion,
        flags: decision.flags,
        detections: (decision.detections ?? []).slice(0, maxDetections).map((detection) => ({
          ruleId: detection.ruleId,
          family: detection.family,
          name: detection.name,
          severity: detection.severity,
          confidence: detection.confidence,
          tags: detection.tags,
          path: detection.path,
        })),
        detectionCount: (decision.detections ?? []).length,
        shadow: decision.shadow && { policyId: decision.shadow.policyId, action: decision.shadow.action, differs: decision.shadow.differs },
      };
    }
    case 'approval.requested':
    case 'approval.approved':
    case 'approval.denied':
    case 'approval.expired': {
      const { ticket } = event;
      return {
        ticketId: ticket.id,
        eventId: ticket.eventId,
        status: ticket.status,
        boundary: ticket.boundary,
        tool: ticket.tool,
        reason: ticket.reason,
        rule: ticket.rule,
        appId: ticket.appId,
        userId: ticket.userId,
        createdAt: isoTime(ticket.createdAt),
        expiresAt: isoTime(ticket.expiresAt),
        requiredApprovals: ticket.requiredApprovals,
        approvals: ticket.approvals.length,
        onTimeout: ticket.onTimeout,
        resolution: ticket.resolution && { by: ticket.resolution.by, reason: ticket.resolution.reason, at: isoTime(ticket.resolution.at) },
      };
    }
    case 'budget.threshold':
    case 'budget.exceeded':
      return { ...event.budget };
    case 'policy.reloaded':
      return { version: event.version, previousVersion: event.previousVersion };
    case 'policy.reload_failed':
      return { version: event.version, error: event.error };
    case 'audit.failed':
    case 'audit.recovered':
    case 'audit.dropped':
      return { message: event.message, dropped: event.dropped };
    case 'alert.failed':
      return { channel: event.channel, eventType: event.eventType, message: event.message, attempts: event.attempts };
  }
}

const maxDetections = 20;

const actionVerbs: Record<Action, string> = {
  allow: 'Allowed',
  log: 'Logged',
  flag: 'Flagged',
  redact: 'Redacted',
  escalate: 'Escalated',
  block: 'Blocked',
};

/**
 * Title, table fields and flat details of an event, for channels to render.
 *
 * @example
 * describeEvent(budgetExceeded).title // 'Budget exceeded: tenant day $52.10 of $50.00 (104%)'
 */
export function describeEvent(event: PalisadeEvent): AlertDescription {
  const fields: [string, string][] = [
    ['Severity', event.severity],
    ['Tenant', event.tenantId || '(none)'],
  ];
  if (event.appId !== undefined) fields.push(['App', event.appId]);
  let title: string;

  switch (event.type) {
    case 'decision': {
      const { decision } = event;
      const target = decision.tool ? `${event.boundary} ${decision.tool}` : event.boundary;
      title = `${actionVerbs[event.action]} ${target}: ${decision.reason}`;
      fields.push(['Action', event.action], ['Boundary', event.boundary]);
      if (decision.tool) fields.push(['Tool', decision.tool]);
      if (decision.decidedBy) fields.push(['Rule', `${decision.decidedBy.policyId}/${decision.decidedBy.rule}`]);
      const rules = [...new Set((decision.detections ?? []).map((detection) => detection.ruleId))];
      if (rules.length > 0) fields.push(['Detections', rules.slice(0, maxDetections).join(', ')]);
      if (decision.scope?.userId) fields.push(['User', decision.scope.userId]);
      fields.push(['Event id', decision.eventId]);
      break;
    }
    case 'approval.requested':
    case 'approval.approved':
    case 'approval.denied':
    case 'approval.expired': {
      const { ticket } = event;
      const what = ticket.tool ? `${ticket.boundary} ${ticket.tool}` : ticket.boundary;
      const verb = {
        'approval.requested': 'Approval requested',
        'approval.approved': 'Approved',
        'approval.denied': 'Denied',
        'approval.expired': 'Approval expired',
      }[event.type];
      title = `${verb}: ${what}: ${ticket.reason}`;
      fields.push(['Ticket', ticket.id], ['Rule', ticket.rule], ['Status', ticket.status], ['Expires', isoTime(ticket.expiresAt)]);
      if (ticket.resolution) fields.push(['Resolved by', ticket.resolution.by], ['Resolution', ticket.resolution.reason]);
      break;
    }
    case 'budget.threshold':
    case 'budget.exceeded': {
      const { budget } = event;
      const amounts = `$${budget.spentUsd.toFixed(2)} of $${budget.limitUsd.toFixed(2)} (${Math.round(budget.ratio * 100)}%)`;
      title = `${event.type === 'budget.exceeded' ? 'Budget exceeded' : 'Budget threshold reached'}: ${budget.scope} ${budget.period} ${amounts}`;
      fields.push(
        ['Scope', budget.scope],
        ['Period', budget.period],
        ['Spent', amounts],
        ['Budget action', budget.action],
        ['Resets', budget.resetsAt],
      );
      break;
    }
    case 'policy.reloaded':
      title = `Policy reloaded: ${event.previousVersion} -> ${event.version}`;
      fields.push(['Version', event.version], ['Previous version', event.previousVersion]);
      break;
    case 'policy.reload_failed':
      title = `Policy reload failed: ${event.error}`;
      fields.push(['Version kept', event.version]);
      break;
    case 'audit.failed':
    case 'audit.recovered':
    case 'audit.dropped': {
      const verb = {
        'audit.failed': 'Audit log failing',
        'audit.recovered': 'Audit log recovered',
        'audit.dropped': 'Audit receipts dropped',
      }[event.type];
      title = `${verb}: ${event.message}`;
      if (event.dropped !== undefined) fields.push(['Dropped', String(event.dropped)]);
      break;
    }
    case 'alert.failed':
      title = `Alert to ${event.channel} failed: ${event.message}`;
      fields.push(['Channel', event.channel], ['Event type', event.eventType], ['Attempts', String(event.attempts)]);
      break;
  }

  fields.push(['Time', event.time]);
  const details: Record<string, string> = { event_type: event.type };
  for (const [label, value] of fields) details[label.toLowerCase().replace(/\s+/g, '_')] = value;
  return { title: oneLine(title), fields, details };
}

/**
 * Cuts text to at most `max` UTF-16 units, ending with `…`, without splitting a surrogate pair.
 *
 * @example truncate('Prompt injection', 10) // 'Prompt in…'
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/**
 * Collapses line breaks, so a reason or error text cannot add lines (or headers) to a title.
 *
 * @example oneLine('failed\r\nBcc: all@example.com') // 'failed Bcc: all@example.com'
 */
export function oneLine(text: string): string {
  return text.replace(/[\r\n\t\u2028\u2029]+/g, ' ').trim();
}

function isoTime(epochMs: number): string {
  return Number.isFinite(epochMs) ? new Date(epochMs).toISOString() : String(epochMs);
}
