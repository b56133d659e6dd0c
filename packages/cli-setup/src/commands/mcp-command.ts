import { CliError } from '../cli-error.js';
import type { CommandContext } from '../command-context.js';
import type { RegisterOptions } from './command-types.js';

type McpServerModule = typeof import('@palisade/mcp-server');

/**
 * Runs the `palisade-mcp` command line of @palisade/mcp-server in this process, loaded only for
 * these commands (the MCP SDK is not needed by the others).
 */
export async function runMcpServerCli(context: CommandContext, argv: readonly string[]): Promise<number> {
  let module: McpServerModule;
  try {
    module = await import('@palisade/mcp-server');
  } catch (error) {
    throw new CliError({
      code: 'UNSUPPORTED',
      message: `The MCP server (@palisade/mcp-server) cannot be loaded: ${(error as Error).message}`,
      hint: 'Install it next to @palisade/cli: npm install @palisade/mcp-server',
      cause: error,
    });
  }
  const { io } = context;
  return module.runCli([...argv], {
    stdin: io.stdin,
    stdout: io.stdout,
    stderr: io.stderr,
    env: io.env,
    cwd: io.cwd,
    ...(io.signal ? { signal: io.signal } : {}),
  });
}

/** `palisade --config x serve …`: `--config` is passed on to the server unless its own arguments name one. */
export function serveArguments(context: CommandContext, argv: readonly string[], option: string | undefined): string[] {
  if (option === undefined || argv.some((arg) => arg === '--config' || arg.startsWith('--config='))) return [...argv];
  return ['--config', context.configLocation().path, ...argv];
}

export function registerMcpCommands({ program, context, run }: RegisterOptions): void {
  program
    .command('serve')
    .summary('serve the guard over MCP (stdio, or Streamable HTTP with --http)')
    .description(
      'Runs the Palisade MCP server (@palisade/mcp-server): scan, check, approval and audit tools for agents and operators.\n' +
        "Every option is the MCP server's: palisade serve --help lists them.",
    )
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[options...]', 'options of the MCP server: --http --port --keys --tenant --watch --shadow …')
    .action(
      run((argv: string[]) => {
        if (argv.includes('--help') || argv.includes('-h')) return runMcpServerCli(context, ['help']);
        return runMcpServerCli(context, ['serve', ...serveArguments(context, argv, program.opts<{ config?: string }>().config)]);
      }),
    );

  const mcp = program.command('mcp').summary('MCP tools: the guarded proxy, API keys');
  mcp
    .command('proxy')
    .description('put the guard in front of another MCP server: palisade mcp proxy [options] -- <command> [args…]')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[arguments...]', 'proxy options, then -- and the server command')
    .action(run((argv: string[]) => runMcpServerCli(context, ['proxy', ...argv])));
  mcp
    .command('keygen')
    .description('create an API key for the HTTP server: --id <id> --tenant <tenant> --role admin|approver|viewer|scanner')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[arguments...]')
    .action(run((argv: string[]) => runMcpServerCli(context, ['keygen', ...argv])));
}
