import { createHash } from 'node:crypto';
import type { Severity } from '../types.js';
import type { Alert, AlertChannel, ChannelConfigOf, ChannelOptions } from './alert-channel.js';
import { alertPayload, describeEvent, truncate } from './describe-event.js';
import { postJson } from './post-json.js';

export type PagerDutyChannelConfig = ChannelConfigOf<'pagerduty'>;

export const pagerDutyEventsUrl = 'https://events.pagerduty.com/v2/enqueue';

/** A PagerDuty Events API v2 trigger event. */
export interface PagerDutyEvent {
  routing_key: string;
  event_action: 'trigger';
  dedup_key: string;
  client: string;
  payload: {
    summary: string;
    source: string;
    severity: 'critical' | 'error' | 'warning' | 'info';
    timestamp: string;
    component: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
}

const pagerDutySeverities: Record<Severity, PagerDutyEvent['payload']['severity']> = {
  CRITICAL: 'critical',
  HIGH: 'error',
  MEDIUM: 'warning',
  LOW: 'info',
};

/**
 * The Events API v2 body of an alert. `dedup_key` is the alert's de-duplication key (hashed when
 * longer than PagerDuty's 255 characters), so repeats while an incident is open join it.
 *
 * @example
 * buildPagerDutyEvent(alert, { type: 'pagerduty', routing_key }).payload.severity // 'critical'
 */
export function buildPagerDutyEvent(alert: Alert, config: PagerDutyChannelConfig): PagerDutyEvent {
  const { event } = alert;
  const description = describeEvent(event);
  const tenant = event.tenantId || 'global';
  const payload = alertPayload(alert);
  return {
    routing_key: config.routing_key,
    event_action: 'trigger',
    dedup_key: alert.dedupKey.length <= 255 ? alert.dedupKey : createHash('sha256').update(alert.dedupKey).digest('hex'),
    client: 'Palisade',
    payload: {
      summary: truncate(`[${event.severity}] ${description.title} (tenant ${tenant})`, 1024),
      source: `palisade/${tenant}`,
      severity: pagerDutySeverities[event.severity],
      timestamp: event.time,
      component: component(alert),
      group: event.appId ? `${tenant}/${event.appId}` : tenant,
      class: event.type,
      custom_details: { ...payload.data, alert_id: alert.id, suppressed: alert.suppressed },
    },
  };
}

function component({ event }: Alert): string {
  switch (event.type) {
    case 'decision':
      return event.decision.tool ?? event.boundary;
    case 'approval.requested':
    case 'approval.approved':
    case 'approval.denied':
    case 'approval.expired':
      return event.ticket.tool ?? event.ticket.boundary;
    case 'budget.threshold':
    case 'budget.exceeded':
      return `budget ${event.budget.scope}`;
    default:
      return event.type.split('.')[0] as string;
  }
}

/**
 * A channel that triggers PagerDuty incidents through the Events API v2 (`url` defaults to
 * `https://events.pagerduty.com/v2/enqueue`; PagerDuty answers 202).
 *
 * INVARIANT: the routing key travels only in the body; messages never include it.
 *
 * @example
 * const channel = createPagerDutyChannel('oncall', { type: 'pagerduty', routing_key: process.env.PD_ROUTING_KEY! });
 */
export function createPagerDutyChannel(name: string, config: PagerDutyChannelConfig, options: ChannelOptions = {}): AlertChannel {
  const url = config.url ?? pagerDutyEventsUrl;
  const label = `pagerduty channel "${name}" (${new URL(url).origin})`;
  return {
    name,
    type: 'pagerduty',
    send: (alert, sendOptions = {}) =>
      postJson(
        { url, headers: { 'content-type': 'application/json' }, body: JSON.stringify(buildPagerDutyEvent(alert, config)) },
        { fetch: options.fetch, timeoutMs: options.timeoutMs, signal: sendOptions.signal, label, secrets: [config.routing_key] },
      ),
  };
}
