import type { AlertChannelConfig } from '../config/config-schema.js';
import type { AlertChannel, ChannelOptions } from './alert-channel.js';
import { createEmailChannel } from './create-email-channel.js';
import { createOpsgenieChannel } from './create-opsgenie-channel.js';
import { createPagerDutyChannel } from './create-pagerduty-channel.js';
import { createSlackChannel } from './create-slack-channel.js';
import { createWebhookChannel } from './create-webhook-channel.js';

/**
 * The channel a configuration entry under `alerts.channels` describes.
 *
 * @example
 * const channel = createChannel('ops', { type: 'slack', webhook_url: 'https://hooks.slack.com/services/…' });
 */
export function createChannel(name: string, config: AlertChannelConfig, options: ChannelOptions = {}): AlertChannel {
  switch (config.type) {
    case 'webhook':
      return createWebhookChannel(name, config, options);
    case 'slack':
      return createSlackChannel(name, config, options);
    case 'pagerduty':
      return createPagerDutyChannel(name, config, options);
    case 'opsgenie':
      return createOpsgenieChannel(name, config, options);
    case 'email':
      return createEmailChannel(name, config, options);
  }
}
