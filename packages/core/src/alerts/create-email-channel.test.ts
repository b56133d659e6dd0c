import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import type { PalisadeEvent } from '../events/events.js';
import type { Decision } from '../policy/types.js';
import type { Alert } from './alert-channel.js';
import { buildEmailMessage, createEmailChannel, type EmailChannelConfig } from './create-email-channel.js';

interface Delivered {
  from: string | false;
  to: string[];
  user: string | undefined;
  raw: string;
}

const relays: SMTPServer[] = [];

/** A plain SMTP relay on 127.0.0.1 without STARTTLS, optionally with one user. */
async function smtpRelay(options: { user?: { name: string; password: string }; rejectRecipient?: { code: number; message: string } } = {}) {
  const delivered: Delivered[] = [];
  const server = new SMTPServer({
    secure: false,
    logger: false,
    disabledCommands: ['STARTTLS'],
    authOptional: options.user === undefined,
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (auth.username === options.user?.name && auth.password === options.user?.password) callback(null, { user: auth.username });
      else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(_address, _session, callback) {
      const rejection = options.rejectRecipient;
      callback(rejection ? Object.assign(new Error(rejection.message), { responseCode: rejection.code }) : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        delivered.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : false,
          to: session.envelope.rcptTo.map((recipient) => recipient.address),
          user: session.user as string | undefined,
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  relays.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return { port, delivered };
}

afterEach(async () => {
  for (const relay of relays.splice(0)) await new Promise<void>((resolve) => relay.close(() => resolve()));
});

function config(port: number, smtp: Partial<EmailChannelConfig['smtp']> = {}): EmailChannelConfig {
  return {
    type: 'email',
    from: 'palisade@acme.example',
    to: ['security@acme.example', 'oncall@acme.example'],
    smtp: { host: '127.0.0.1', port, secure: false, require_tls: false, ...smtp },
  };
}

function alertFor(reason: string): Alert {
  const event: PalisadeEvent = {
    type: 'decision',
    time: '2026-01-01T00:00:00.000Z',
    tenantId: 'acme',
    severity: 'HIGH',
    boundary: 'input',
    action: 'block',
    decision: {
      action: 'block',
      eventId: 'evt-1',
      boundary: 'input',
      scope: { tenantId: 'acme' },
      detections: [],
      suppressedDetections: [],
      decidedBy: { layer: 'policy', policyId: 'balanced', rule: 'block-injection', priority: 100 },
      reason,
      effectivePolicyId: 'balanced',
      effectivePolicyMode: 'balanced',
      resolutionSource: 'tenant',
      policyVersion: 'v1',
      flags: [],
      diagnostics: { matchedRules: [], errors: [] },
      evaluationMs: 1,
    } satisfies Decision,
  };
  return { id: 'alert-1', event, dedupKey: 'security|decision|acme|balanced/block-injection', suppressed: 4 };
}

/** Headers unfolded and quoted-printable soft breaks joined, enough to search the raw message. */
function readable(raw: string): string {
  return raw.replace(/\r\n[ \t]+/g, ' ').replace(/=\r\n/g, '');
}

describe('createEmailChannel', () => {
  it('sends a plain-text and HTML e-mail whose subject names severity, event type and tenant', async () => {
    const relay = await smtpRelay({ user: { name: 'palisade', password: 'relay-password-123' } });
    const channel = createEmailChannel('security', config(relay.port, { user: 'palisade', password: 'relay-password-123' }));
    expect(await channel.send(alertFor('Prompt injection'))).toEqual({ ok: true });
    await channel.close?.();

    const [mail] = relay.delivered as [Delivered];
    expect(mail.user).toBe('palisade');
    expect(mail.from).toBe('palisade@acme.example');
    expect(mail.to).toEqual(['security@acme.example', 'oncall@acme.example']);
    const message = readable(mail.raw);
    expect(message).toContain('Subject: [Palisade HIGH] decision - tenant acme: Blocked input: Prompt injection');
    expect(message).toMatch(/X-Palisade-Alert-Id: alert-1/i);
    expect(message).toMatch(/Content-Type: text\/plain/);
    expect(message).toMatch(/Content-Type: text\/html/);
    expect(message).toContain('Rule: balanced/block-injection');
    expect(message).toContain('Suppressed: 4 similar alerts since the previous one');
  });

  it('escapes event text in the HTML body and keeps the subject on one line', () => {
    const message = buildEmailMessage(alertFor('<script>alert(1)</script>\r\nBcc: everyone@example.com'), config(25));
    expect(message.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(message.html).not.toContain('<script>');
    expect(message.subject).not.toMatch(/[\r\n]/);
  });

  it('refuses a relay without STARTTLS when require_tls is on', async () => {
    const relay = await smtpRelay({ user: { name: 'palisade', password: 'relay-password-123' } });
    const channel = createEmailChannel(
      'security',
      config(relay.port, { user: 'palisade', password: 'relay-password-123', require_tls: true }),
    );
    const result = await channel.send(alertFor('Prompt injection'));
    await channel.close?.();
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(!result.ok && result.message).toContain('TLS');
    expect(relay.delivered).toHaveLength(0);
  });

  it('treats a refused login as permanent and never repeats the password', async () => {
    const relay = await smtpRelay({ user: { name: 'palisade', password: 'relay-password-123' } });
    const channel = createEmailChannel('security', config(relay.port, { user: 'palisade', password: 'wrong-password-456' }));
    const result = await channel.send(alertFor('Prompt injection'));
    await channel.close?.();
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(!result.ok && result.message).toMatch(/^email channel "security" \(smtp 127\.0\.0\.1:\d+\): EAUTH 535/);
    expect(!result.ok && result.message).not.toContain('wrong-password-456');
  });

  it('retries a temporary 4xx refusal but not a permanent 5xx one', async () => {
    const busy = await smtpRelay({ rejectRecipient: { code: 451, message: 'Try again later' } });
    const unknown = await smtpRelay({ rejectRecipient: { code: 550, message: 'No such user' } });
    const busyChannel = createEmailChannel('security', config(busy.port));
    const unknownChannel = createEmailChannel('security', config(unknown.port));
    expect(await busyChannel.send(alertFor('x'))).toMatchObject({ ok: false, retryable: true });
    expect(await unknownChannel.send(alertFor('x'))).toMatchObject({ ok: false, retryable: false });
    await busyChannel.close?.();
    await unknownChannel.close?.();
  });

  it('reports an unreachable relay as retryable', async () => {
    const relay = await smtpRelay();
    await new Promise<void>((resolve) => (relays.pop() as SMTPServer).close(() => resolve()));
    const channel = createEmailChannel('security', config(relay.port), { timeoutMs: 2000 });
    const result = await channel.send(alertFor('x'));
    await channel.close?.();
    expect(result).toMatchObject({ ok: false, retryable: true });
  });
});
