import { parseDuration } from '@palisade/core';

/** `palisade-mcp proxy` options, parsed; everything a run needs besides the process itself. */
export interface ProxyArguments {
  command: string;
  args: string[];
  configPath?: string;
  tenantId?: string;
  appId?: string;
  userId?: string;
  pinFile?: string;
  serverId?: string;
  uncoveredTools: 'escalate' | 'block' | 'allow';
  waitMs: number;
  onTimeout: 'deny' | 'allow';
  rateLimit: { perSecond: number; burst: number } | false;
  callTimeoutMs: number;
  mode: 'enforce' | 'shadow';
  annotations: 'strip' | 'forward';
  /** Variables set for the upstream (`--env KEY=VALUE`). */
  env: Record<string, string>;
  /** Variables of this process passed to the upstream by name (`--pass-env KEY`). */
  passEnv: string[];
  cwd?: string;
}

export type ParsedProxyArguments = { kind: 'help' } | { kind: 'run'; options: ProxyArguments } | { kind: 'error'; message: string };

export const proxyUsage = `Usage: palisade-mcp proxy [options] -- <command> [args...]

Fronts a stdio MCP server: every tools/call is checked by Palisade before the server sees it,
every result before the client sees it, and tool definitions are pinned (changes are held for approval).

Options:
  --config <path>           palisade.yaml (default: ./palisade.yaml when it exists; state lives beside it)
  --tenant <id>             tenant of every call            --app <id>   app of every call
  --user <id>               user of every call
  --pin-file <path>         approved tool definitions (default: .palisade/mcp-pins.json beside the config)
  --server-id <id>          key of this server in the pin file (default: the command line)
  --uncovered <action>      calls to tools no rule names: escalate (default) | block | allow
  --escalation-wait <time>  how long a call waits for approval, e.g. 30s (default), 5m
  --on-timeout <outcome>    an undecided call after the wait: deny (default) | allow
  --rate-limit <n>/<unit>   tool calls per session, e.g. 10/s (default), 600/m; or off
  --rate-burst <n>          calls allowed at once (default: 30, or n of --rate-limit)
  --call-timeout <time>     timeout of one upstream call (default 60s)
  --mode <mode>             enforce (default) | shadow (record decisions, change nothing)
  --annotations <what>      upstream tool annotations: strip (default) | forward
  --env KEY=VALUE           set a variable for the upstream (repeatable)
  --pass-env KEY            pass this variable of the proxy's environment to the upstream (repeatable)
  --cwd <dir>               working directory of the upstream
  -h, --help                this text

The upstream gets no other variable of the proxy's environment (besides HOME, LOGNAME, PATH, SHELL,
TERM, USER), so a token meant for the proxy or its client never reaches it.
Exit codes: 0 the client closed the session, 1 the proxy or the upstream failed, 2 bad arguments.`;

const choices = {
  '--uncovered': ['escalate', 'block', 'allow'],
  '--on-timeout': ['deny', 'allow'],
  '--mode': ['enforce', 'shadow'],
  '--annotations': ['strip', 'forward'],
} as const;

const unitSeconds: Record<string, number> = { s: 1, sec: 1, m: 60, min: 60, h: 3600 };

/**
 * Parses the arguments after `proxy`: options, then `--`, then the upstream command line.
 *
 * @example
 * parseProxyArguments(['--tenant', 'acme', '--', 'npx', 'server-filesystem', '/data'])
 * // { kind: 'run', options: { command: 'npx', args: ['server-filesystem', '/data'], tenantId: 'acme', … } }
 */
export function parseProxyArguments(argv: readonly string[]): ParsedProxyArguments {
  const separator = argv.indexOf('--');
  const flags = separator === -1 ? argv : argv.slice(0, separator);
  if (flags.includes('-h') || flags.includes('--help')) return { kind: 'help' };
  if (separator === -1 || separator === argv.length - 1) {
    return { kind: 'error', message: 'Give the upstream server command after `--`, e.g. `palisade-mcp proxy -- node server.js`.' };
  }
  const options: ProxyArguments = {
    command: argv[separator + 1] as string,
    args: argv.slice(separator + 2),
    uncoveredTools: 'escalate',
    waitMs: 30_000,
    onTimeout: 'deny',
    rateLimit: { perSecond: 10, burst: 30 },
    callTimeoutMs: 60_000,
    mode: 'enforce',
    annotations: 'strip',
    env: {},
    passEnv: [],
  };
  let burst: number | undefined;
  for (let index = 0; index < flags.length; index++) {
    const flag = flags[index] as string;
    const value = flags[index + 1];
    if (!flag.startsWith('--'))
      return { kind: 'error', message: `Unexpected argument "${flag}" (the upstream command goes after \`--\`).` };
    if (value === undefined || value.startsWith('--')) return { kind: 'error', message: `${flag} needs a value.` };
    index++;
    switch (flag) {
      case '--config':
        options.configPath = value;
        break;
      case '--tenant':
        options.tenantId = value;
        break;
      case '--app':
        options.appId = value;
        break;
      case '--user':
        options.userId = value;
        break;
      case '--pin-file':
        options.pinFile = value;
        break;
      case '--server-id':
        options.serverId = value;
        break;
      case '--cwd':
        options.cwd = value;
        break;
      case '--uncovered':
      case '--on-timeout':
      case '--mode':
      case '--annotations': {
        const allowed = choices[flag] as readonly string[];
        if (!allowed.includes(value)) return { kind: 'error', message: `${flag} must be one of ${allowed.join(', ')}; got "${value}".` };
        if (flag === '--uncovered') options.uncoveredTools = value as ProxyArguments['uncoveredTools'];
        else if (flag === '--on-timeout') options.onTimeout = value as ProxyArguments['onTimeout'];
        else if (flag === '--mode') options.mode = value as ProxyArguments['mode'];
        else options.annotations = value as ProxyArguments['annotations'];
        break;
      }
      case '--escalation-wait':
      case '--call-timeout': {
        const milliseconds = parseDuration(value);
        if (milliseconds === undefined) return { kind: 'error', message: `${flag} must be a duration such as 30s or 5m; got "${value}".` };
        if (flag === '--escalation-wait') options.waitMs = milliseconds;
        else options.callTimeoutMs = milliseconds;
        break;
      }
      case '--rate-limit': {
        if (value === 'off') {
          options.rateLimit = false;
          break;
        }
        const match = /^(\d+(?:\.\d+)?)\/(s|sec|m|min|h)$/.exec(value);
        if (!match || Number(match[1]) <= 0) {
          return { kind: 'error', message: `--rate-limit must look like 10/s, 600/m or 1000/h, or be off; got "${value}".` };
        }
        const count = Number(match[1]);
        options.rateLimit = { perSecond: count / (unitSeconds[match[2] as string] as number), burst: Math.max(1, Math.ceil(count)) };
        break;
      }
      case '--rate-burst': {
        const count = Number(value);
        if (!Number.isInteger(count) || count < 1)
          return { kind: 'error', message: `--rate-burst must be a whole number of calls, 1 or more; got "${value}".` };
        burst = count;
        break;
      }
      case '--env': {
        const equals = value.indexOf('=');
        if (equals <= 0) return { kind: 'error', message: `--env takes KEY=VALUE; got "${value}".` };
        options.env[value.slice(0, equals)] = value.slice(equals + 1);
        break;
      }
      case '--pass-env':
        options.passEnv.push(value);
        break;
      default:
        return { kind: 'error', message: `Unknown option ${flag}.` };
    }
  }
  if (burst !== undefined && options.rateLimit !== false) options.rateLimit = { ...options.rateLimit, burst };
  return { kind: 'run', options };
}
