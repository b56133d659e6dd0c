import type { Transporter } from 'nodemailer';
import {
  type Alert,
  type AlertChannel,
  attemptSignal,
  type ChannelConfigOf,
  type ChannelOptions,
  type DeliveryResult,
  defaultTimeoutMs,
  scrubSecrets,
} from './alert-channel.js';
import { describeEvent, oneLine, truncate } from './describe-event.js';

export type EmailChannelConfig = ChannelConfigOf<'email'>;

/** The message an alert becomes: plain text and HTML bodies with the same content. */
export interface EmailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
}

/**
 * The e-mail of an alert. The subject names the severity, event type and tenant:
 * `[Palisade HIGH] decision - tenant acme: Blocked input: Prompt injection`.
 *
 * INVARIANT: event text reaches the subject only on one line and the HTML body only escaped, so it
 * can neither add headers nor markup.
 *
 * @example
 * buildEmailMessage(alert, config).subject
 */
export function buildEmailMessage(alert: Alert, config: EmailChannelConfig): EmailMessage {
  const { event } = alert;
  const description = describeEvent(event);
  const tenant = event.tenantId || '(none)';
  const rows: [string, string][] = [...description.fields];
  if (alert.suppressed > 0)
    rows.push(['Suppressed', `${alert.suppressed} similar alert${alert.suppressed === 1 ? '' : 's'} since the previous one`]);
  rows.push(['Alert id', alert.id]);
  const text = [description.title, '', ...rows.map(([label, value]) => `${label}: ${value}`), '', '-- Palisade'].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<p><strong>${escapeHtml(description.title)}</strong></p>`,
    '<table cellpadding="4" style="border-collapse:collapse">',
    ...rows.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`),
    '</table>',
    '<p style="color:#666">Palisade</p>',
    '</body></html>',
  ].join('\n');
  return {
    from: config.from,
    to: [...config.to],
    subject: truncate(oneLine(`[Palisade ${event.severity}] ${event.type} - tenant ${tenant}: ${description.title}`), 200),
    text,
    html,
    headers: { 'X-Palisade-Alert-Id': alert.id, 'X-Palisade-Event': event.type },
  };
}

/**
 * A channel that e-mails alerts over SMTP with nodemailer (loaded on first send). With
 * `require_tls` (the default) a server that does not offer STARTTLS is refused, so credentials
 * and alerts never cross the network in clear text; turn it off only for a local relay.
 *
 * SMTP 5xx replies (except 503), failed authentication and refused TLS are permanent; connection
 * errors, timeouts and 4xx replies are retryable. Messages never include the password.
 *
 * @example
 * const channel = createEmailChannel('security', {
 *   type: 'email', from: 'palisade@acme.example', to: ['security@acme.example'],
 *   smtp: { host: 'smtp.acme.example', port: 587, secure: false, user: 'palisade', password, require_tls: true },
 * });
 */
export function createEmailChannel(name: string, config: EmailChannelConfig, options: ChannelOptions = {}): AlertChannel {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const label = `email channel "${name}" (smtp ${config.smtp.host}:${config.smtp.port})`;
  let transport: Promise<Transporter> | undefined;

  function openTransport(): Promise<Transporter> {
    transport ??= import('nodemailer').then((nodemailer) =>
      nodemailer.createTransport({
        host: config.smtp.host,
        port: config.smtp.port,
        secure: config.smtp.secure,
        requireTLS: config.smtp.require_tls,
        auth: config.smtp.user === undefined ? undefined : { user: config.smtp.user, pass: config.smtp.password },
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
        // Alerts are built from events; nothing in them should make the mailer read files or URLs.
        disableFileAccess: true,
        disableUrlAccess: true,
      }),
    );
    return transport;
  }

  async function send(alert: Alert, sendOptions: { signal?: AbortSignal } = {}): Promise<DeliveryResult> {
    const attempt = attemptSignal(timeoutMs, sendOptions.signal);
    try {
      const mailer = await openTransport();
      await mailer.sendMail({ ...buildEmailMessage(alert, config), signal: attempt.signal });
      return { ok: true };
    } catch (error) {
      if (sendOptions.signal?.aborted) return { ok: false, retryable: false, message: `${label}: cancelled` };
      if (attempt.timedOut()) return { ok: false, retryable: true, message: `${label}: no answer within ${timeoutMs} ms` };
      return classifySmtpError(error, label, [config.smtp.password]);
    }
  }

  return {
    name,
    type: 'email',
    send,
    async close() {
      const pending = transport;
      transport = undefined;
      if (pending) (await pending.catch(() => undefined))?.close();
    },
  };
}

const permanentCodes = new Set(['EAUTH', 'ENOAUTH', 'ECONFIG', 'EENVELOPE', 'EMAXRECIPIENTS', 'ETLS', 'EREQUIRETLS']);

function classifySmtpError(error: unknown, label: string, secrets: readonly (string | undefined)[]): DeliveryResult {
  const details = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    responseCode?: unknown;
    permanent?: unknown;
    message?: unknown;
  };
  const code = typeof details.code === 'string' ? details.code : undefined;
  const responseCode = typeof details.responseCode === 'number' ? details.responseCode : undefined;
  // nodemailer marks replies as permanent or not (5xx except 503); without a reply, the code decides.
  const permanent =
    typeof details.permanent === 'boolean'
      ? details.permanent
      : responseCode !== undefined
        ? responseCode >= 500 && responseCode !== 503
        : code !== undefined && permanentCodes.has(code);
  const text = typeof details.message === 'string' ? details.message : String(error);
  const hint =
    code === 'ETLS' || code === 'EREQUIRETLS' ? ' (the server offers no usable TLS; require_tls: false only for a local relay)' : '';
  return {
    ok: false,
    retryable: !permanent,
    message: scrubSecrets(
      `${label}: ${code ?? 'error'}${responseCode === undefined ? '' : ` ${responseCode}`}: ${oneLine(text)}${hint}`,
      secrets,
    ),
  };
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
