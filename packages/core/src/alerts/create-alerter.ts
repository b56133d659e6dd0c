import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AlertsConfig } from '../config/config-schema.js';
import { type ConfigIssue, InvalidConfigError } from '../errors/invalid-config-error.js';
import type { EventBus } from '../events/event-bus.js';
import { eventTypes, type PalisadeEvent, type PalisadeEventType } from '../events/events.js';
import { type Action, actions } from '../policy/types.js';
import { type Severity, severityRank } from '../types.js';
import type { Alert, AlertChannel, DeliveryResult } from './alert-channel.js';
import { createChannel } from './create-channel.js';

export interface AlerterOptions {
  /** The `alerts:` section, parsed (durations in milliseconds, defaults filled in). */
  config: AlertsConfig;
  /** The bus to subscribe to; `alert.failed` events are emitted on it. */
  bus: EventBus;
  /** HTTP client for the HTTP channels. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Clock for cooldowns, signatures and event times. Default: Date.now. */
  now?: () => number;
  /** Called once per alert that could not be delivered after its last attempt. Errors it throws are ignored. */
  onFailure?: (failure: AlertFailure) => void;
}

/** An alert that was given up on. */
export interface AlertFailure {
  channel: string;
  channelType: AlertChannel['type'];
  alertId: string;
  event: PalisadeEvent;
  attempts: number;
  /** What went wrong at the last attempt, without credentials. */
  message: string;
  /** HTTP status of the last attempt, when there was one. */
  status?: number;
}

export interface ChannelStats {
  /** Alerts delivered. */
  sent: number;
  /** Alerts given up on (each also emitted as `alert.failed`). */
  failed: number;
  /** Attempts after the first. */
  retried: number;
  /** Alerts the cooldown held back. */
  suppressed: number;
}

export interface Alerter {
  /** Counters per configured channel. */
  stats(): Record<string, ChannelStats>;
  /** Resolves when every alert routed so far has been delivered or given up on (retries included). */
  flush(): Promise<void>;
  /**
   * Unsubscribes, waits up to `timeoutMs` (default 5 000) for alerts in flight, then cancels the
   * rest (they are reported as failed) and closes SMTP connections. Calling it again returns the
   * same promise.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** Actions that alert when a route does not list `actions`: allow and log are routine. */
export const defaultAlertActions: readonly Action[] = ['flag', 'redact', 'escalate', 'block'];

/** Severity of `alert.failed`: a lost alert is a monitoring gap, whatever the original severity. */
const alertFailedSeverity: Severity = 'HIGH';

const maxCooldownEntries = 10_000;

/** Alerts one channel may have in flight (sending or waiting to retry); more are dropped as failed. */
export const maxAlertsInFlight = 1000;

interface Route {
  channels: readonly string[];
  matchesType: (type: PalisadeEventType) => boolean;
  minSeverity: Severity | undefined;
  actions: readonly Action[] | undefined;
  tenants: readonly string[] | undefined;
}

interface Cooldown {
  lastSentAt: number;
  suppressed: number;
}

/**
 * Routes bus events to alert channels (webhook, Slack, PagerDuty, Opsgenie, e-mail).
 *
 * A route matches an event when all it names matches:
 * - `events`: event types, `'*'` or a prefix such as `'budget.*'`. Default: every type.
 * - `actions` (decision events only): default flag, redact, escalate and block, so allowed and
 *   logged decisions alert only when a route lists them. A route that names `actions` matches no
 *   other kind of event.
 * - `min_severity`: the event's `severity` at least this.
 * - `tenants`: the event's tenant among these (process-wide events, tenant `''`, never match).
 *
 * Each channel of the matching routes gets the event once, unless an alert with the same key
 * (channel, event type, tenant, and the deciding rule, budget scope or approval rule) went out
 * within `cooldown`; suppressed alerts are counted and the count travels with the next one.
 * Failed attempts are retried up to `retry.attempts` in all, with exponential backoff and jitter
 * (`retry.backoff` doubling up to `retry.max_backoff`), waiting as long as a Retry-After header
 * asks (giving up when it asks for more than `max_backoff`). Rejections other than 408 and 429
 * are not retried. An alert given up on is emitted as `alert.failed` and passed to `onFailure`.
 *
 * INVARIANT: the alerter never throws into the bus or the emitter, never delays a decision (it
 * only runs from bus deliveries, which are scheduled after the decision), and never routes
 * `alert.failed`, so a failing channel cannot feed itself.
 *
 * @throws InvalidConfigError when a route names a channel that is not configured or an unknown
 * event type.
 *
 * @example
 * const bus = createEventBus();
 * const alerter = createAlerter({ config: parseSection('alerts', yaml.alerts), bus, onFailure: (f) => log.warn(f.message) });
 * // … on shutdown:
 * await alerter.close();
 */
export function createAlerter(options: AlerterOptions): Alerter {
  const { config, bus } = options;
  const now = options.now ?? Date.now;
  const routes = compileRoutes(config);

  const channels = new Map<string, AlertChannel>();
  const counters = new Map<string, ChannelStats>();
  const inFlightPerChannel = new Map<string, number>();
  for (const [name, channelConfig] of Object.entries(config.channels)) {
    channels.set(name, createChannel(name, channelConfig, { fetch: options.fetch, timeoutMs: config.timeout, now }));
    counters.set(name, { sent: 0, failed: 0, retried: 0, suppressed: 0 });
  }

  const cooldowns = new Map<string, Cooldown>();
  const inFlight = new Set<Promise<void>>();
  const closing = new AbortController();
  let closed: Promise<void> | undefined;

  function handle(event: PalisadeEvent): Promise<void> | undefined {
    if (closing.signal.aborted || event.type === 'alert.failed') return undefined;
    const targets = new Set<string>();
    for (const route of routes) {
      if (routeMatches(route, event)) for (const channel of route.channels) targets.add(channel);
    }
    if (targets.size === 0) return undefined;

    const at = now();
    const deliveries: Promise<void>[] = [];
    for (const name of targets) {
      const key = dedupKey(name, event);
      const cooldown = cooldowns.get(key);
      if (cooldown !== undefined && at - cooldown.lastSentAt < config.cooldown) {
        cooldown.suppressed += 1;
        (counters.get(name) as ChannelStats).suppressed += 1;
        continue;
      }
      if (cooldowns.size >= maxCooldownEntries) pruneCooldowns(at);
      // INVARIANT: the cooldown starts when an alert is sent, not when it is delivered, so a burst
      // during a slow or failing delivery is suppressed rather than sent (and retried) many times.
      cooldowns.set(key, { lastSentAt: at, suppressed: 0 });
      const alert: Alert = { id: randomUUID(), event, dedupKey: key, suppressed: cooldown?.suppressed ?? 0 };
      deliveries.push(track(deliver(channels.get(name) as AlertChannel, alert)));
    }
    return deliveries.length === 0 ? undefined : Promise.all(deliveries).then(() => undefined);
  }

  function pruneCooldowns(at: number): void {
    for (const [key, cooldown] of cooldowns) if (at - cooldown.lastSentAt >= config.cooldown) cooldowns.delete(key);
  }

  function track(delivery: Promise<void>): Promise<void> {
    inFlight.add(delivery);
    delivery.finally(() => inFlight.delete(delivery)).catch(() => {});
    return delivery;
  }

  async function deliver(channel: AlertChannel, alert: Alert): Promise<void> {
    const stats = counters.get(channel.name) as ChannelStats;
    const busy = inFlightPerChannel.get(channel.name) ?? 0;
    // INVARIANT: a hanging receiver under an alert storm costs bounded memory and sockets.
    if (busy >= maxAlertsInFlight) {
      stats.failed += 1;
      reportFailure(channel, alert, 0, {
        ok: false,
        retryable: false,
        message: `${channel.type} channel "${channel.name}": ${maxAlertsInFlight} alerts already in flight; dropped`,
      });
      return;
    }
    inFlightPerChannel.set(channel.name, busy + 1);
    try {
      await attemptDelivery(channel, alert, stats);
    } finally {
      inFlightPerChannel.set(channel.name, (inFlightPerChannel.get(channel.name) ?? 1) - 1);
    }
  }

  async function attemptDelivery(channel: AlertChannel, alert: Alert, stats: ChannelStats): Promise<void> {
    let attempts = 0;
    let result: DeliveryResult = {
      ok: false,
      retryable: false,
      message: `${channel.type} channel "${channel.name}": alerter closed before delivery`,
    };
    while (attempts < config.retry.attempts && !closing.signal.aborted) {
      attempts += 1;
      result = await sendSafely(channel, alert, closing.signal);
      if (result.ok) {
        stats.sent += 1;
        return;
      }
      if (!result.retryable || attempts >= config.retry.attempts) break;
      let wait = backoffDelay(attempts);
      if (result.retryAfterMs !== undefined) {
        if (result.retryAfterMs > config.retry.max_backoff) {
          result = { ...result, message: `${result.message} (asked to retry after ${result.retryAfterMs} ms, beyond retry.max_backoff)` };
          break;
        }
        wait = result.retryAfterMs;
      }
      stats.retried += 1;
      await delay(wait, closing.signal);
      if (closing.signal.aborted) result = { ...result, message: `${result.message} (alerter closed before the next attempt)` };
    }
    stats.failed += 1;
    reportFailure(channel, alert, attempts, result);
  }

  function backoffDelay(attempt: number): number {
    const ceiling = Math.min(config.retry.max_backoff, config.retry.backoff * 2 ** (attempt - 1));
    // Equal jitter: at least half the exponential delay, so retries spread out but still back off.
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  function reportFailure(channel: AlertChannel, alert: Alert, attempts: number, result: DeliveryResult): void {
    const message = result.ok ? 'unknown failure' : result.message;
    // The suppressed alerts were never reported; carry their count to the next alert of this key.
    const cooldown = cooldowns.get(alert.dedupKey);
    if (cooldown !== undefined) cooldown.suppressed += alert.suppressed;
    const { event } = alert;
    bus.emit({
      type: 'alert.failed',
      time: new Date(now()).toISOString(),
      tenantId: event.tenantId,
      ...(event.appId === undefined ? {} : { appId: event.appId }),
      severity: alertFailedSeverity,
      channel: channel.name,
      eventType: event.type,
      message,
      attempts,
    });
    try {
      options.onFailure?.({
        channel: channel.name,
        channelType: channel.type,
        alertId: alert.id,
        event,
        attempts,
        message,
        ...(!result.ok && result.status !== undefined ? { status: result.status } : {}),
      });
    } catch {
      // INVARIANT: a failing failure hook changes nothing; the failure is already counted and emitted.
    }
  }

  async function flush(): Promise<void> {
    // Events emitted before flush() reach the alerter in a bus delivery scheduled before this one.
    await new Promise((resolve) => setImmediate(resolve));
    while (inFlight.size > 0) {
      await Promise.allSettled([...inFlight]);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  // No route, no subscription: a guard without alerts pays nothing per event.
  const unsubscribe = options.config.routes.length > 0 ? bus.on('*', handle) : () => {};

  return {
    stats: () => Object.fromEntries([...counters].map(([name, stats]) => [name, { ...stats }])),
    flush,
    close({ timeoutMs = 5000 } = {}) {
      closed ??= (async () => {
        unsubscribe();
        await settleWithin([...inFlight], timeoutMs);
        closing.abort();
        // Cancelled sends settle at once; the bound only guards against a channel ignoring its signal.
        await settleWithin([...inFlight], 1000);
        await Promise.allSettled([...channels.values()].map((channel) => channel.close?.()));
      })();
      return closed;
    },
  };
}

/** Waits `ms` or until `signal` aborts; never rejects, and never keeps the process alive. */
async function delay(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal, ref: false });
  } catch {
    // Aborted: the caller checks the signal.
  }
}

async function settleWithin(promises: readonly Promise<unknown>[], ms: number): Promise<void> {
  if (promises.length === 0) return;
  const timer = new AbortController();
  await Promise.race([Promise.allSettled(promises), delay(ms, timer.signal)]);
  timer.abort();
}

async function sendSafely(channel: AlertChannel, alert: Alert, signal: AbortSignal): Promise<DeliveryResult> {
  try {
    return await channel.send(alert, { signal });
  } catch (error) {
    // Channels resolve with a result; a throw is a bug in one, reported like a permanent failure.
    return {
      ok: false,
      retryable: false,
      message: `${channel.type} channel "${channel.name}" failed: ${(error as Error)?.name ?? 'error'}`,
    };
  }
}

function routeMatches(route: Route, event: PalisadeEvent): boolean {
  if (!route.matchesType(event.type)) return false;
  if (event.type === 'decision') {
    if (!(route.actions ?? defaultAlertActions).includes(event.action)) return false;
  } else if (route.actions !== undefined) {
    return false;
  }
  if (route.minSeverity !== undefined && severityRank(event.severity) < severityRank(route.minSeverity)) return false;
  if (route.tenants !== undefined && !route.tenants.includes(event.tenantId)) return false;
  return true;
}

/**
 * The de-duplication key of an event on a channel: channel, type, tenant and what the event is
 * about (the deciding rule of a decision, the scope and period of a budget and the threshold
 * crossed, the rule of an approval ticket).
 */
function dedupKey(channel: string, event: PalisadeEvent): string {
  let subject = '';
  switch (event.type) {
    case 'decision':
      subject = event.decision.decidedBy ? `${event.decision.decidedBy.policyId}/${event.decision.decidedBy.rule}` : event.action;
      break;
    case 'budget.threshold':
      // Each threshold is crossed once per window; 90 % after 80 % is news, not a repeat.
      subject = `${event.budget.scope}:${event.budget.period}:${event.budget.threshold ?? ''}`;
      break;
    case 'budget.exceeded':
      subject = `${event.budget.scope}:${event.budget.period}`;
      break;
    case 'approval.requested':
    case 'approval.approved':
    case 'approval.denied':
    case 'approval.expired':
      subject = event.ticket.rule;
      break;
  }
  return `${channel}|${event.type}|${event.tenantId}|${subject}`;
}

function compileRoutes(config: AlertsConfig): Route[] {
  const issues: ConfigIssue[] = [];
  const issue = (path: string, message: string) => issues.push({ file: '(alerts configuration)', path, message });
  const configured = Object.keys(config.channels);

  const routes = config.routes.map((route, index): Route => {
    const path = `alerts.routes[${index}]`;
    route.channels.forEach((channel, position) => {
      if (!(channel in config.channels)) {
        issue(
          `${path}.channels[${position}]`,
          `unknown channel "${channel}"; configured: ${configured.length > 0 ? configured.join(', ') : 'none'}`,
        );
      }
    });
    const patterns = route.events ?? ['*'];
    patterns.forEach((pattern, position) => {
      if (pattern === 'alert.failed') {
        issue(
          `${path}.events[${position}]`,
          'alert.failed is never routed to alerts (a failing channel would feed itself); subscribe to it on the event bus',
        );
      } else if (!eventTypes.some((type) => typeMatches(pattern, type))) {
        issue(
          `${path}.events[${position}]`,
          `unknown event type "${pattern}"; expected '*', one of ${eventTypes.join(', ')}, or a prefix such as 'budget.*'`,
        );
      }
    });
    route.actions?.forEach((action, position) => {
      if (!actions.includes(action)) issue(`${path}.actions[${position}]`, `unknown action "${action}"`);
    });
    return {
      channels: route.channels,
      matchesType: (type) => patterns.some((pattern) => typeMatches(pattern, type)),
      minSeverity: route.min_severity,
      actions: route.actions,
      tenants: route.tenants,
    };
  });

  if (issues.length > 0) throw new InvalidConfigError(issues);
  return routes;
}

function typeMatches(pattern: string, type: PalisadeEventType): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}
