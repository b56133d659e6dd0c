import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { hashApiKey } from './api-keys.js';
import { type CliIo, parseServeArguments, runCli, UsageError } from './run-cli.js';

const directory = mkdtempSync(join(tmpdir(), 'palisade-cli-'));
const made = [directory];
afterAll(() => {
  for (const path of made) rmSync(path, { recursive: true, force: true });
});

function io(stdin = ''): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => {
    out += chunk;
  });
  stderr.on('data', (chunk) => {
    err += chunk;
  });
  return { stdin: Readable.from([stdin]), stdout, stderr, env: {}, cwd: directory, out: () => out, err: () => err };
}

describe('parseServeArguments', () => {
  // A folder of its own: the cases of runCli below write a palisade.yaml into `directory`.
  const empty = mkdtempSync(join(tmpdir(), 'palisade-cli-empty-'));
  made.push(empty);

  it('defaults to stdio, 127.0.0.1:8787/mcp, 60 calls/s in bursts of 120, enforce, no configuration', () => {
    expect(parseServeArguments([], { env: {}, cwd: empty })).toEqual({
      transport: 'stdio',
      host: '127.0.0.1',
      port: 8787,
      path: '/mcp',
      rateLimit: { perSecond: 60, burst: 120 },
      mode: 'enforce',
      watch: false,
    });
  });

  it('reads every flag, resolving files against the working directory', () => {
    const settings = parseServeArguments(
      [
        '--http',
        '--host',
        '0.0.0.0',
        '--port',
        '9000',
        '--path',
        '/palisade',
        '--keys',
        'keys.json',
        '--rate-limit',
        '5',
        '--shadow',
        '--config',
        'p.yaml',
        '--watch',
      ],
      { env: {}, cwd: empty },
    );
    expect(settings).toMatchObject({
      transport: 'http',
      host: '0.0.0.0',
      port: 9000,
      path: '/palisade',
      keys: { file: join(empty, 'keys.json') },
      configPath: join(empty, 'p.yaml'),
      rateLimit: { perSecond: 5, burst: 10 },
      mode: 'shadow',
      watch: true,
    });
  });

  it('finds palisade.yaml in the working directory, and takes PALISADE_CONFIG and PALISADE_MCP_KEYS from the environment', () => {
    const here = mkdtempSync(join(tmpdir(), 'palisade-cli-cwd-'));
    made.push(here);
    writeFileSync(join(here, 'palisade.yaml'), 'version: 1\n');
    expect(parseServeArguments([], { env: {}, cwd: here }).configPath).toBe(join(here, 'palisade.yaml'));
    const fromEnv = parseServeArguments(['--http'], { env: { PALISADE_CONFIG: '/etc/p.yaml', PALISADE_MCP_KEYS: '[]' }, cwd: here });
    expect(fromEnv).toMatchObject({ configPath: '/etc/p.yaml', keys: { document: '[]' } });
  });

  it('refuses what cannot work, with a usage error', () => {
    const parse = (argv: string[]) => () => parseServeArguments(argv, { env: {}, cwd: empty });
    expect(parse(['--http'])).toThrow(/--http needs API keys/);
    expect(parse(['--http', '--keys', 'k.json', '--tenant', 'acme'])).toThrow(/--tenant is for stdio/);
    expect(parse(['--port', '99999'])).toThrow(/--port must be an integer/);
    expect(parse(['--rate-limit=0'])).toThrow(/--rate-limit must be a positive number/);
    expect(parse(['--watch'])).toThrow(/--watch needs a configuration file/);
    expect(parse(['--nope'])).toThrow(UsageError);
    expect(parseServeArguments(['--rate-limit', 'off'], { env: {}, cwd: empty }).rateLimit).toBe(false);
  });
});

describe('runCli', () => {
  it('prints usage for help and exits 2 for an unknown or missing command', async () => {
    const help = io();
    expect(await runCli(['--help'], help)).toBe(0);
    expect(help.out()).toMatch(/^Usage:/);
    const unknown = io();
    expect(await runCli(['frobnicate'], unknown)).toBe(2);
    expect(unknown.err()).toMatch(/unknown command "frobnicate"/);
    expect(await runCli([], io())).toBe(2);
  });

  it('keygen prints a key and its entry; hash-key hashes a key from stdin', async () => {
    const keygen = io();
    expect(await runCli(['keygen', '--id', 'bot', '--tenant', 'acme', '--role', 'scanner'], keygen)).toBe(0);
    const [key, entry] = keygen.out().trim().split('\n');
    expect(JSON.parse(entry as string)).toEqual({ id: 'bot', hash: hashApiKey(key as string), tenant: 'acme', role: 'scanner' });
    const hashed = io(`${key}\n`);
    expect(await runCli(['hash-key'], hashed)).toBe(0);
    expect(hashed.out()).toBe(`${hashApiKey(key as string)}\n`);
    expect(await runCli(['keygen', '--id', 'bot', '--tenant', 'acme', '--role', 'root'], io())).toBe(2);
  });

  it('stops serving stdio when its signal aborts, and closes the guard', async () => {
    const controller = new AbortController();
    const stdin = new PassThrough();
    const streams = io();
    const running = runCli(['serve', '--config', join(directory, 'none.yaml')], { ...streams, stdin, signal: controller.signal });
    // A missing configuration fails before serving.
    expect(await running).toBe(1);
    expect(streams.err()).toMatch(/none\.yaml/);
    writeFileSync(join(directory, 'palisade.yaml'), 'version: 1\n');
    const serving = runCli(['serve', '--config', join(directory, 'palisade.yaml')], { ...streams, stdin, signal: controller.signal });
    controller.abort();
    expect(await serving).toBe(0);
    expect(streams.err()).toMatch(/serving MCP on stdio/);
  });
});
