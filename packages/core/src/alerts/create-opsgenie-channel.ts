import { createHash } from 'node:crypto';
import type { Severity } from '../types.js';
import type { Alert, AlertChannel, ChannelConfigOf, ChannelOptions } from './alert-channel.js';
import { describeEvent, truncate } from './describe-event.js';
import { postJson } from './post-json.js';

export type OpsgenieChannelConfig = ChannelConfigOf<'opsgenie'>;

export const opsgenieAlertsUrls = { us: 'https://api.opsgenie.com/v2/alerts', eu: 'https://api.eu.opsgenie.com/v2/alerts' } as const;

/** An Opsgenie "create alert" body. */
export interface OpsgenieAlert {
  message: string;
  alias: string;
  description: string;
  priority: 'P1' | 'P2' | 'P3' | 'P4' | 'P5';
  tags: string[];
  details: Record<string, string>;
  entity: string;
  source: string;
}

const priorities: Record<Severity, OpsgenieAlert['priority']> = { CRITICAL: 'P1', HIGH: 'P2', MEDIUM: 'P3', LOW: 'P4' };

/**
 * The Opsgenie body of an alert, within Opsgenie's limits (message 130, alias 512, description
 * 15 000 characters). `alias` is the de-duplication key: Opsgenie counts repeats of an open alert.
 *
 * @example
 * buildOpsgenieAlert(alert).priority // 'P1' for a CRITICAL event
 */
export function buildOpsgenieAlert(alert: Alert): OpsgenieAlert {
  const { event } = alert;
  const description = describeEvent(event);
  const tenant = event.tenantId || 'global';
  const lines = description.fields.map(([label, value]) => `${label}: ${value}`);
  if (alert.suppressed > 0) lines.push(`Suppressed since the previous alert: ${alert.suppressed}`);
  lines.push(`Alert id: ${alert.id}`);
  return {
    message: truncate(`[${tenant}] ${description.title}`, 130),
    alias: alert.dedupKey.length <= 512 ? alert.dedupKey : createHash('sha256').update(alert.dedupKey).digest('hex'),
    description: truncate(`${description.title}\n\n${lines.join('\n')}`, 15_000),
    priority: priorities[event.severity],
    tags: ['palisade', event.type, `severity:${event.severity.toLowerCase()}`, `tenant:${tenant}`].map((tag) => truncate(tag, 50)),
    details: { ...description.details, alert_id: alert.id, suppressed: String(alert.suppressed) },
    entity: tenant,
    source: 'Palisade',
  };
}

/**
 * A channel that creates Opsgenie alerts (`POST /v2/alerts` on api.opsgenie.com, or
 * api.eu.opsgenie.com for `region: eu`, or `url`), authorised with `GenieKey <api_key>`.
 * Opsgenie answers 202 and processes the request asynchronously.
 *
 * @example
 * const channel = createOpsgenieChannel('oncall', { type: 'opsgenie', api_key: process.env.OPSGENIE_KEY!, region: 'eu' });
 */
export function createOpsgenieChannel(name: string, config: OpsgenieChannelConfig, options: ChannelOptions = {}): AlertChannel {
  const url = config.url ?? opsgenieAlertsUrls[config.region];
  const label = `opsgenie channel "${name}" (${new URL(url).origin})`;
  return {
    name,
    type: 'opsgenie',
    send: (alert, sendOptions = {}) =>
      postJson(
        {
          url,
          headers: { 'content-type': 'application/json', authorization: `GenieKey ${config.api_key}` },
          body: JSON.stringify(buildOpsgenieAlert(alert)),
        },
        { fetch: options.fetch, timeoutMs: options.timeoutMs, signal: sendOptions.signal, label, secrets: [config.api_key] },
      ),
  };
}
