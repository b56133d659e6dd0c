import { describe, expect, it } from 'vitest';
import { parseProxyArguments } from './parse-proxy-arguments.js';

describe('parseProxyArguments', () => {
  it('takes options before -- and the upstream command line after it, with safe defaults', () => {
    expect(parseProxyArguments(['--tenant', 'acme', '--', 'npx', '-y', 'server-filesystem', '--root', '/data'])).toEqual({
      kind: 'run',
      options: {
        command: 'npx',
        args: ['-y', 'server-filesystem', '--root', '/data'],
        tenantId: 'acme',
        uncoveredTools: 'escalate',
        waitMs: 30_000,
        onTimeout: 'deny',
        rateLimit: { perSecond: 10, burst: 30 },
        callTimeoutMs: 60_000,
        mode: 'enforce',
        annotations: 'strip',
        env: {},
        passEnv: [],
      },
    });
  });

  it('reads durations, rate limits, choices and repeated --env / --pass-env', () => {
    const parsed = parseProxyArguments([
      '--escalation-wait',
      '5m',
      '--on-timeout',
      'allow',
      '--rate-limit',
      '600/m',
      '--uncovered',
      'block',
      '--mode',
      'shadow',
      '--env',
      'A=1',
      '--env',
      'B=x=y',
      '--pass-env',
      'HOME_TOKEN',
      '--call-timeout',
      '2s',
      '--',
      'node',
      'server.js',
    ]);
    expect(parsed).toMatchObject({
      kind: 'run',
      options: {
        waitMs: 300_000,
        onTimeout: 'allow',
        rateLimit: { perSecond: 10, burst: 600 },
        uncoveredTools: 'block',
        mode: 'shadow',
        env: { A: '1', B: 'x=y' },
        passEnv: ['HOME_TOKEN'],
        callTimeoutMs: 2000,
      },
    });
    expect(parseProxyArguments(['--rate-limit', '5/s', '--rate-burst', '8', '--', 'x'])).toMatchObject({
      options: { rateLimit: { perSecond: 5, burst: 8 } },
    });
    expect(parseProxyArguments(['--rate-limit', 'off', '--', 'x'])).toMatchObject({ options: { rateLimit: false } });
  });

  it('names what is wrong', () => {
    const message = (argv: string[]) => {
      const parsed = parseProxyArguments(argv);
      return parsed.kind === 'error' ? parsed.message : parsed.kind;
    };
    expect(message(['--tenant', 'acme'])).toMatch(/after `--`/);
    expect(message(['--'])).toMatch(/after `--`/);
    expect(message(['--escalation-wait', 'soon', '--', 'x'])).toMatch(/--escalation-wait must be a duration/);
    expect(message(['--rate-limit', '10/fortnight', '--', 'x'])).toMatch(/--rate-limit must look like/);
    expect(message(['--env', 'NOVALUE', '--', 'x'])).toMatch(/KEY=VALUE/);
    expect(message(['--tenant', '--', 'x'])).toMatch(/--tenant needs a value/);
    expect(message(['--frobnicate', '1', '--', 'x'])).toBe('Unknown option --frobnicate.');
    expect(message(['server.js', '--', 'x'])).toMatch(/Unexpected argument "server.js"/);
    expect(message(['--help'])).toBe('help');
  });
});
