import type { Severity } from '../types.js';
import type { Alert, AlertChannel, ChannelConfigOf, ChannelOptions } from './alert-channel.js';
import { describeEvent, truncate } from './describe-event.js';
import { postJson } from './post-json.js';

export type SlackChannelConfig = ChannelConfigOf<'slack'>;

/** A Slack incoming-webhook message: `text` for notifications, Block Kit `blocks` for the channel. */
export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

const severityMarks: Record<Severity, string> = {
  LOW: ':information_source:',
  MEDIUM: ':warning:',
  HIGH: ':rotating_light:',
  CRITICAL: ':rotating_light:',
};

// Block Kit limits: header text 150, section text 3000, 10 fields of 2000 each.
const headerMax = 150;
const fieldMax = 2000;
const maxFields = 10;

/**
 * The Slack message of an alert. Text from events is escaped (`&`, `<`, `>`), so a reason cannot
 * mention `@channel` or forge a link.
 *
 * @example
 * buildSlackMessage(alert).text // '[HIGH] Blocked input: Prompt injection (tenant acme)'
 */
export function buildSlackMessage(alert: Alert): SlackMessage {
  const { event } = alert;
  const description = describeEvent(event);
  const tenant = event.tenantId || 'no tenant';
  const suppressed = alert.suppressed > 0 ? ` · ${alert.suppressed} similar alert${alert.suppressed === 1 ? '' : 's'} suppressed` : '';
  const fields = description.fields.filter(([label]) => label !== 'Time').slice(0, maxFields);
  return {
    text: truncate(escapeMrkdwn(`[${event.severity}] ${description.title} (tenant ${tenant})${suppressed}`), 3000),
    blocks: [
      {
        type: 'header',
        text: { type: 'plain_text', text: truncate(`${severityMarks[event.severity]} ${description.title}`, headerMax), emoji: true },
      },
      {
        type: 'section',
        fields: fields.map(([label, value]) => ({
          type: 'mrkdwn',
          text: truncate(`*${escapeMrkdwn(label)}*\n${escapeMrkdwn(value)}`, fieldMax),
        })),
      },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: escapeMrkdwn(`Palisade · ${event.type} · ${event.time} · alert ${alert.id}${suppressed}`) }],
      },
    ],
  };
}

/**
 * A channel that posts to a Slack incoming webhook. Slack answers 200 `ok`; a 429 carries
 * Retry-After, which the alerter honours.
 *
 * INVARIANT: the webhook URL is the credential; messages name only `https://hooks.slack.com`.
 *
 * @example
 * const channel = createSlackChannel('ops', { type: 'slack', webhook_url: process.env.SLACK_WEBHOOK_URL! });
 */
export function createSlackChannel(name: string, config: SlackChannelConfig, options: ChannelOptions = {}): AlertChannel {
  const label = `slack channel "${name}" (${new URL(config.webhook_url).origin})`;
  return {
    name,
    type: 'slack',
    send: (alert, sendOptions = {}) =>
      postJson(
        { url: config.webhook_url, headers: { 'content-type': 'application/json' }, body: JSON.stringify(buildSlackMessage(alert)) },
        {
          fetch: options.fetch,
          timeoutMs: options.timeoutMs,
          signal: sendOptions.signal,
          label,
          secrets: [config.webhook_url, new URL(config.webhook_url).pathname],
        },
      ),
  };
}

function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
