import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createGuard, type Guard, PalisadeError } from '@palisade/core';
import { type ApiKeyEntry, generateApiKey, hashApiKey, loadApiKeys, parseApiKeys, type RateLimit, type Role, roles } from './api-keys.js';
import type { ToolCallInfo } from './create-palisade-mcp-server.js';
import { createRateLimiter, defaultRateLimit } from './create-rate-limiter.js';
import { serverInfo } from './server-info.js';
import { startPalisadeHttpServer } from './start-palisade-http-server.js';
import { startPalisadeStdioServer } from './start-palisade-stdio-server.js';

/** Where the CLI reads and writes; the bin passes the process's own. */
export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Aborting stops `serve` (the bin aborts on SIGINT and SIGTERM). */
  signal?: AbortSignal;
}

/** What `palisade-mcp serve` was asked to do. */
export interface ServeSettings {
  /** palisade.yaml: --config, else PALISADE_CONFIG, else ./palisade.yaml if it exists, else none (system default, no state). */
  configPath?: string;
  transport: 'stdio' | 'http';
  host: string;
  port: number;
  path: string;
  /** The keys file (--keys), or the keys document from PALISADE_MCP_KEYS. */
  keys?: { file: string } | { document: string };
  /** stdio: the default tenant. */
  tenant?: string;
  rateLimit: RateLimit | false;
  mode: 'enforce' | 'shadow';
  watch: boolean;
}

/** A command line that cannot be run; exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const usage = `Usage:
  palisade-mcp serve [--config palisade.yaml] [--tenant <id>]                      MCP over stdio
  palisade-mcp serve --http [--host 127.0.0.1] [--port 8787] [--path /mcp] --keys keys.json
        [--rate-limit 60|off] [--burst 120] [--shadow] [--watch] [--config palisade.yaml]
  palisade-mcp keygen --id <id> --tenant <tenant> --role admin|approver|viewer|scanner
  palisade-mcp hash-key [<key>]        (reads the key from stdin when not given)
  palisade-mcp proxy …                 guarded proxy in front of another MCP server
  palisade-mcp --version

Environment: PALISADE_CONFIG (palisade.yaml), PALISADE_MCP_KEYS (the keys document itself, JSON).
A keys file is {"keys":[{"id":"ops","hash":"sha256:…","tenant":"acme","role":"admin"}]}: hashes only.`;

/**
 * Parses the arguments of `serve` (pure: files are only checked for existence).
 *
 * @example
 * parseServeArguments(['--http', '--port', '9000', '--keys', 'keys.json'], { env: {}, cwd: '/srv' })
 * // { transport: 'http', host: '127.0.0.1', port: 9000, keys: { file: '/srv/keys.json' }, … }
 */
export function parseServeArguments(argv: readonly string[], io: Pick<CliIo, 'env' | 'cwd'>): ServeSettings {
  const { values, positionals } = parse(argv, {
    config: { type: 'string' },
    keys: { type: 'string' },
    http: { type: 'boolean' },
    host: { type: 'string' },
    port: { type: 'string' },
    path: { type: 'string' },
    tenant: { type: 'string' },
    'rate-limit': { type: 'string' },
    burst: { type: 'string' },
    shadow: { type: 'boolean' },
    watch: { type: 'boolean' },
  });
  if (positionals.length > 0) throw new UsageError(`serve takes no positional arguments (got ${positionals.join(' ')})`);
  const settings: ServeSettings = {
    transport: values.http ? 'http' : 'stdio',
    host: values.host ?? '127.0.0.1',
    port: values.port === undefined ? 8787 : integer('--port', values.port, 0, 65_535),
    path: values.path ?? '/mcp',
    rateLimit: rateLimit(values['rate-limit'], values.burst),
    mode: values.shadow ? 'shadow' : 'enforce',
    watch: values.watch ?? false,
  };
  if (!settings.path.startsWith('/')) throw new UsageError('--path must start with /');
  const config = values.config ?? io.env.PALISADE_CONFIG;
  if (config !== undefined) settings.configPath = resolve(io.cwd, config);
  else if (existsSync(resolve(io.cwd, 'palisade.yaml'))) settings.configPath = resolve(io.cwd, 'palisade.yaml');
  if (values.keys !== undefined) settings.keys = { file: resolve(io.cwd, values.keys) };
  else if (io.env.PALISADE_MCP_KEYS) settings.keys = { document: io.env.PALISADE_MCP_KEYS };
  if (values.tenant !== undefined) {
    if (settings.transport === 'http') throw new UsageError('--tenant is for stdio; over HTTP the tenant comes from the API key');
    settings.tenant = values.tenant;
  }
  if (settings.transport === 'http' && !settings.keys) {
    throw new UsageError('--http needs API keys: --keys keys.json or PALISADE_MCP_KEYS (create one with `palisade-mcp keygen`)');
  }
  if (settings.watch && !settings.configPath) throw new UsageError('--watch needs a configuration file (--config)');
  return settings;
}

/**
 * Runs the `palisade-mcp` command line; resolves with the exit code (0 ok, 1 failure, 2 usage).
 * `serve` resolves once the server has stopped (stdin closed, or `io.signal` aborted).
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(parseServeArguments(rest, io), io);
      case 'keygen':
        return keygen(rest, io);
      case 'hash-key':
        return await hashKey(rest, io);
      case 'proxy':
        return await proxy(rest, io);
      case '--version':
      case '-v':
        io.stdout.write(`${serverInfo.version}\n`);
        return 0;
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(`${usage}\n`);
        return 0;
      default:
        throw new UsageError(command === undefined ? 'a command is required' : `unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`palisade-mcp: ${error.message}\n\n${usage}\n`);
      return 2;
    }
    io.stderr.write(`palisade-mcp: ${PalisadeError.isInstance(error) ? error.message : ((error as Error).stack ?? String(error))}\n`);
    return 1;
  }
}

async function serve(settings: ServeSettings, io: CliIo): Promise<number> {
  const log = (line: string) => io.stderr.write(`palisade-mcp: ${line}\n`);
  // Keys are read before the guard opens its state, so a bad keys file leaves nothing to clean up.
  const keys = settings.transport === 'http' ? readKeys(settings) : undefined;
  const guard: Guard = createGuard({
    ...(settings.configPath ? { configPath: settings.configPath, watch: settings.watch } : {}),
    onReload: (result) =>
      log(
        result.ok
          ? `policy reloaded (version ${result.version})`
          : `reload failed, version ${result.version} still serves: ${result.error.message}`,
      ),
  });
  const common = {
    guard,
    mode: settings.mode,
    onError: (error: unknown, info: ToolCallInfo) =>
      log(
        `internal error in ${info.tool} for ${info.caller.id}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      ),
  };
  const stopped = new Promise<void>((done) => {
    if (io.signal?.aborted) done();
    io.signal?.addEventListener('abort', () => done(), { once: true });
  });
  try {
    if (keys) {
      const http = await startPalisadeHttpServer({
        ...common,
        keys,
        host: settings.host,
        port: settings.port,
        path: settings.path,
        rateLimit: settings.rateLimit,
      });
      log(`serving MCP on ${http.url.href} (${keys.length} key${keys.length === 1 ? '' : 's'}, policy ${guard.policyVersion})`);
      if (!['127.0.0.1', 'localhost', '::1'].includes(settings.host))
        log(`warning: listening on ${settings.host} without TLS; put a TLS proxy in front`);
      await stopped;
      await http.close();
    } else {
      const stdio = await startPalisadeStdioServer({
        ...common,
        rateLimiter: settings.rateLimit === false ? false : createRateLimiter(settings.rateLimit),
        ...(settings.tenant !== undefined ? { tenant: settings.tenant } : {}),
        stdin: io.stdin,
        stdout: io.stdout,
      });
      log(`serving MCP on stdio (policy ${guard.policyVersion}${settings.tenant ? `, tenant ${settings.tenant}` : ''})`);
      await Promise.race([stdio.closed, stopped]);
      await stdio.close();
    }
  } finally {
    await guard.close();
  }
  return 0;
}

function readKeys(settings: ServeSettings): ApiKeyEntry[] {
  const source = settings.keys;
  if (!source) return [];
  return 'file' in source ? loadApiKeys(source.file) : parseApiKeys(source.document, 'PALISADE_MCP_KEYS');
}

function keygen(argv: readonly string[], io: CliIo): number {
  const { values } = parse(argv, { id: { type: 'string' }, tenant: { type: 'string' }, role: { type: 'string' } });
  if (!values.id || !values.tenant || !values.role) throw new UsageError('keygen needs --id, --tenant and --role');
  if (!roles.includes(values.role as Role)) throw new UsageError(`--role must be one of ${roles.join(', ')}`);
  const { key, hash } = generateApiKey();
  // Validates the id and tenant exactly as the server will.
  const [entry] = parseApiKeys([{ id: values.id, hash, tenant: values.tenant, role: values.role }], 'keygen');
  io.stdout.write(`${key}\n${JSON.stringify(entry)}\n`);
  io.stderr.write('palisade-mcp: the first line is the key: give it to the client now, it is not stored anywhere.\n');
  io.stderr.write('palisade-mcp: the second line is the entry for the keys file.\n');
  return 0;
}

async function hashKey(argv: readonly string[], io: CliIo): Promise<number> {
  const { positionals } = parse(argv, {});
  let key = positionals[0];
  if (key === undefined) {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
    key = Buffer.concat(chunks).toString('utf8').trim();
  }
  if (!key) throw new UsageError('hash-key needs a key (as an argument or on stdin)');
  io.stdout.write(`${hashApiKey(key)}\n`);
  return 0;
}

type ProxyModule = { runProxyCommand(argv: string[], options: CliIo): Promise<number> };

async function proxy(argv: readonly string[], io: CliIo): Promise<number> {
  // A variable specifier: the proxy is loaded only for this command, and it builds on its own.
  const specifier = './proxy/run-proxy-command.js';
  let module: ProxyModule;
  try {
    module = (await import(specifier)) as ProxyModule;
  } catch (error) {
    throw new PalisadeError({
      code: 'INVALID_OPTIONS',
      message: `The proxy command is not available in this build (${(error as Error).message}).`,
    });
  }
  return module.runProxyCommand([...argv], io);
}

function parse<const Options extends Record<string, { type: 'string' | 'boolean' }>>(argv: readonly string[], options: Options) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function integer(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`${flag} must be an integer from ${min} to ${max}`);
  return value;
}

function rateLimit(perSecond: string | undefined, burst: string | undefined): RateLimit | false {
  if (perSecond === 'off') return false;
  const rate = perSecond === undefined ? defaultRateLimit.perSecond : Number(perSecond);
  if (!Number.isFinite(rate) || rate <= 0) throw new UsageError('--rate-limit must be a positive number of calls a second, or off');
  const size =
    burst === undefined
      ? perSecond === undefined
        ? defaultRateLimit.burst
        : Math.max(1, Math.ceil(rate * 2))
      : integer('--burst', burst, 1, 1_000_000);
  return { perSecond: rate, burst: size };
}
