import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createGuard, type Guard } from '@palisade/core';
import { createGuardedProxy, type GuardedProxy } from './create-guarded-proxy.js';
import { parseProxyArguments, proxyUsage } from './parse-proxy-arguments.js';

export interface RunProxyCommandOptions {
  /** The MCP client's side: requests come in here. Default process.stdin. */
  stdin?: Readable;
  /** Responses go out here, and nothing else ever does. Default process.stdout. */
  stdout?: Writable;
  /** Messages for people. Default process.stderr. */
  stderr?: Writable;
  /** The proxy's environment: `${VAR}` in the config, `PALISADE_CONFIG` and `--pass-env`. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Folder relative paths (config, pin file, upstream cwd) are resolved against. Default process.cwd(). */
  cwd?: string;
  /** Aborting ends the proxy (exit code 0). Without it, SIGINT and SIGTERM do when stdin is the process's own. */
  signal?: AbortSignal;
}

/**
 * `palisade-mcp proxy [options] -- <command> [args]`: fronts a stdio MCP server with a guarded
 * proxy on this process's stdin and stdout, until the client closes the session (exit code 0), the
 * upstream exits or the proxy cannot start (1), or the arguments are wrong (2). `argv` is
 * everything after `proxy`; `--help` prints the options.
 *
 * With `--config` (else `PALISADE_CONFIG`, else a palisade.yaml in the working directory) the guard keeps its state beside
 * the config: approval tickets, the audit chain, and by default the pin file
 * `.palisade/mcp-pins.json`.
 *
 * @example
 * // In an MCP host's configuration:
 * // { "command": "palisade-mcp", "args": ["proxy", "--config", "/srv/palisade.yaml", "--tenant", "acme",
 * //   "--", "npx", "-y", "@modelcontextprotocol/server-filesystem", "/srv/data"] }
 * process.exitCode = await runProxyCommand(process.argv.slice(3));
 */
export async function runProxyCommand(argv: string[], options: RunProxyCommandOptions = {}): Promise<number> {
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const say = (line: string) => stderr.write(`palisade-mcp proxy: ${line}\n`);

  const parsed = parseProxyArguments(argv);
  if (parsed.kind === 'help') {
    stdout.write(`${proxyUsage}\n`);
    return 0;
  }
  if (parsed.kind === 'error') {
    stderr.write(`palisade-mcp proxy: ${parsed.message}\n\n${proxyUsage}\n`);
    return 2;
  }
  const settings = parsed.options;
  const upstreamEnv: Record<string, string> = {};
  for (const name of settings.passEnv) {
    const value = env[name];
    if (value === undefined) {
      say(`--pass-env ${name}: the variable is not set.`);
      return 2;
    }
    upstreamEnv[name] = value;
  }
  Object.assign(upstreamEnv, settings.env);

  const cwd = options.cwd ?? process.cwd();
  const named = settings.configPath ?? env.PALISADE_CONFIG;
  const configPath = named ? resolve(cwd, named) : existsSync(join(cwd, 'palisade.yaml')) ? join(cwd, 'palisade.yaml') : undefined;
  const pinFile = settings.pinFile
    ? resolve(cwd, settings.pinFile)
    : configPath
      ? join(dirname(configPath), '.palisade', 'mcp-pins.json')
      : undefined;
  let guard: Guard | undefined;
  let proxy: GuardedProxy | undefined;
  try {
    guard = configPath ? createGuard({ configPath, env }) : createGuard({ env });
    if (!configPath) say('no palisade.yaml: the system default policy applies and there is no approval queue or audit log (use --config).');
    if (!pinFile) say('tool definitions are pinned in memory only; give --pin-file to catch changes between runs.');
    proxy = await createGuardedProxy({
      guard,
      ...(configPath ? { configPath } : {}),
      upstream: {
        command: settings.command,
        args: settings.args,
        env: upstreamEnv,
        cwd: resolve(cwd, settings.cwd ?? '.'),
        stderr: 'inherit',
      },
      scope: {
        ...(settings.tenantId !== undefined ? { tenantId: settings.tenantId } : {}),
        ...(settings.appId !== undefined ? { appId: settings.appId } : {}),
        ...(settings.userId !== undefined ? { userId: settings.userId } : {}),
      },
      mode: settings.mode,
      onEscalate: { waitMs: settings.waitMs, onTimeout: settings.onTimeout },
      uncoveredTools: settings.uncoveredTools,
      ...(pinFile ? { pinFile } : {}),
      ...(settings.serverId !== undefined ? { serverId: settings.serverId } : {}),
      rateLimit: settings.rateLimit,
      annotations: settings.annotations,
      callTimeoutMs: settings.callTimeoutMs,
      onDecision: ({ stage, tool, decision, enforced }) => {
        if (decision.action === 'allow' || decision.action === 'log') return;
        say(
          `${enforced ? '' : '[shadow] '}${stage} ${tool}: ${decision.action} (${decision.decidedBy.policyId}/${decision.decidedBy.rule}) ${decision.reason}`,
        );
      },
    });
  } catch (error) {
    say((error as Error).message);
    await proxy?.close();
    await guard?.close().catch(() => undefined);
    return 1;
  }

  const held = proxy.tools().filter((tool) => tool.status === 'held');
  if (held.length > 0)
    say(
      `held until approved: ${held.map((tool) => `${tool.name} (${tool.reason}${tool.approvalId ? `, ${tool.approvalId}` : ''})`).join(', ')}`,
    );

  let detach = () => {};
  const ended = new Promise<number>((settle) => {
    const downstream = () => settle(0);
    stdin.once('end', downstream);
    stdin.once('close', downstream);
    void proxy.upstreamClosed.then(() => settle(1));
    if (options.signal) {
      if (options.signal.aborted) settle(0);
      options.signal.addEventListener('abort', () => settle(0), { once: true });
    } else if (options.stdin === undefined) {
      const stop = () => settle(0);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      detach = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      };
    }
  });
  await proxy.connect(new StdioServerTransport(stdin, stdout));
  const code = await ended;
  detach();
  if (code === 1) say('the upstream server exited.');
  await proxy.close();
  await guard.close();
  return code;
}
