import type { AlertChannelConfig } from '../config/config-schema.js';
import type { PalisadeEvent } from '../events/events.js';

/** One alert: an event on its way to one channel. */
export interface Alert {
  /** Unique per alert and the same on every retry of it, so receivers can drop duplicates. */
  id: string;
  event: PalisadeEvent;
  /**
   * Channel, event type, tenant and subject (deciding rule, budget scope, …): alerts with the same
   * key within the cooldown are suppressed. PagerDuty and Opsgenie use it to group incidents.
   */
  dedupKey: string;
  /** Alerts with the same key the cooldown suppressed since the previous one was sent. */
  suppressed: number;
}

/**
 * The outcome of one delivery attempt: data, never an exception. `retryable` failures are worth
 * another attempt (timeouts, network errors, 408, 429, 5xx); the others would fail the same way
 * again (a rejected payload, a wrong key).
 *
 * INVARIANT: `message` never holds a configured credential (secret, key, password or a secret URL).
 */
export type DeliveryResult =
  | { ok: true; status?: number }
  | { ok: false; retryable: boolean; message: string; status?: number; retryAfterMs?: number };

export interface SendOptions {
  /** Cancels the attempt (the alerter aborts in-flight sends when `close` runs out of time). */
  signal?: AbortSignal;
}

/** Something that turns an alert into a request and sends it. */
export interface AlertChannel {
  readonly name: string;
  readonly type: AlertChannelConfig['type'];
  /** One attempt. Resolves with the outcome; never rejects. */
  send(alert: Alert, options?: SendOptions): Promise<DeliveryResult>;
  /** Releases connections (SMTP); the channel is not used afterwards. */
  close?(): Promise<void>;
}

export interface ChannelOptions {
  /** HTTP client for the HTTP channels. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Time allowed for one attempt, in milliseconds. Default 10 000. */
  timeoutMs?: number;
  /** Clock for signatures and message times. Default: Date.now. */
  now?: () => number;
}

export type ChannelConfigOf<T extends AlertChannelConfig['type']> = Extract<AlertChannelConfig, { type: T }>;

export const defaultTimeoutMs = 10_000;

/**
 * Replaces every occurrence of a credential in a message with `[redacted]`. Error texts from HTTP
 * and SMTP libraries and echoed response bodies can carry the URL or key that was sent.
 */
export function scrubSecrets(message: string, secrets: readonly (string | undefined)[]): string {
  let scrubbed = message;
  for (const secret of secrets) {
    // Short values would blank out ordinary words; config requires secrets of real length anyway.
    if (secret !== undefined && secret.length >= 6) scrubbed = scrubbed.split(secret).join('[redacted]');
  }
  return scrubbed;
}

/**
 * A signal that aborts after `timeoutMs` or when `signal` aborts; `timedOut()` tells which.
 *
 * @example
 * const attempt = attemptSignal(10_000, closing.signal);
 * await fetch(url, { signal: attempt.signal }).catch(() => attempt.timedOut() ? 'retry' : 'give up');
 */
export function attemptSignal(timeoutMs: number, signal: AbortSignal | undefined): { signal: AbortSignal; timedOut(): boolean } {
  const timeout = AbortSignal.timeout(timeoutMs);
  return { signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]), timedOut: () => timeout.aborted };
}
