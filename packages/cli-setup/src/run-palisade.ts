import { createRequire } from 'node:module';
import { PalisadeError } from '@palisade/core';
import { Command, CommanderError } from 'commander';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { type CommandContext, createCommandContext } from './command-context.js';
import { registerAppCommand } from './commands/app-command.js';
import { registerApprovalsCommand } from './commands/approvals-command.js';
import { registerAuditCommand } from './commands/audit-command.js';
import { registerBatchCommand } from './commands/batch-command.js';
import { registerBudgetCommand } from './commands/budget-command.js';
import type { RegisterOptions, Run } from './commands/command-types.js';
import { registerDoctorCommand } from './commands/doctor-command.js';
import { registerInitCommand } from './commands/init-command.js';
import { registerMcpCommands, runMcpServerCli, serveArguments } from './commands/mcp-command.js';
import { registerPolicyCommand } from './commands/policy-command.js';
import { registerScanCommand } from './commands/scan-command.js';
import { registerSetupCommand } from './commands/setup-command.js';
import { registerSuppressCommand } from './commands/suppress-command.js';
import { registerTenantCommand } from './commands/tenant-command.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/**
 * Exit codes of `palisade`:
 * - 0: done;
 * - 1: a finding (a block with `--ci`), or a failed check (`doctor`, `policy validate`, `policy test`, `audit verify`, a denied approval);
 * - 2: the command could not run (usage, missing configuration, invalid edit, runtime error).
 *
 * @example
 * if ((await runPalisade(['scan', '--ci', text], io)) === exitCodes.finding) failTheBuild();
 */
export const exitCodes = { ok: 0, finding: 1, error: 2 } as const;

/**
 * Runs the `palisade` command line and resolves with its exit code. Everything it reads and
 * writes goes through `io`, so tests run it in-process with memory streams; the bin passes the
 * process's own.
 *
 * @example
 * process.exitCode = await runPalisade(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
 */
export async function runPalisade(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = exitCodes.ok;
  const program = new Command('palisade');
  const context = createCommandContext(io, () => program.opts<{ config?: string }>().config);
  const run: Run =
    (action) =>
    async (...args) => {
      exitCode = await action(...args);
    };
  program
    .description(
      'Palisade: a policy guard for LLM agents. Scan events, manage tenants and policies, approve escalations, verify the audit log.',
    )
    .version(version, '-v, --version')
    .option(
      '-c, --config <path>',
      'palisade.yaml to use (default: $PALISADE_CONFIG, else ./palisade.yaml); state lives in .palisade/ beside it',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
      outputError: (text, write) => write(context.errorColors.red(text)),
    })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `
Exit codes: 0 ok; 1 a finding (block with --ci) or a failed check; 2 usage or runtime error.
Colours only on a terminal; NO_COLOR turns them off.

Start here:
  palisade init && palisade scan "Ignore all previous instructions" --tenant acme`,
    );

  const options: RegisterOptions = { program, context, run };
  registerSetupCommand(options);
  registerInitCommand(options);
  registerScanCommand(options);
  registerBatchCommand(options);
  registerTenantCommand(options);
  registerAppCommand(options);
  registerPolicyCommand(options);
  registerSuppressCommand(options);
  registerApprovalsCommand(options);
  registerAuditCommand(options);
  registerBudgetCommand(options);
  registerMcpCommands(options);
  registerDoctorCommand(options);

  try {
    const direct = passThrough(argv);
    if (direct) {
      // serve and mcp take the MCP server's own arguments verbatim (`--` included), so commander
      // does not parse them; global options before them are applied first.
      program.parseOptions(direct.globals);
      return await runMcpServerCli(
        context,
        direct.command === 'serve' ? ['serve', ...serveArguments(context, direct.rest, direct.config)] : direct.rest,
      );
    }
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version asked for exit 0; everything else commander refuses is a usage error.
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.error;
    }
    return reportError(error, context);
  }
}

interface PassThrough {
  command: 'serve' | 'mcp';
  globals: string[];
  rest: string[];
  config: string | undefined;
}

/** `[global options] serve|mcp …`, split, or undefined for every other command line. */
function passThrough(argv: readonly string[]): PassThrough | undefined {
  const globals: string[] = [];
  let config: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? '';
    if (arg === '--config' || arg === '-c') {
      config = argv[index + 1];
      globals.push(arg, config ?? '');
      index++;
      continue;
    }
    if (arg.startsWith('--config=')) {
      config = arg.slice('--config='.length);
      globals.push(arg);
      continue;
    }
    if ((arg === 'serve' || arg === 'mcp') && !argv.slice(index + 1).some((next) => next === '--help' || next === '-h')) {
      if (arg === 'mcp' && argv[index + 1] === undefined) return undefined;
      return { command: arg, globals, rest: argv.slice(index + 1), config };
    }
    return undefined;
  }
  return undefined;
}

/**
 * The one place errors become output and an exit code: the error's code, its message and a hint,
 * on stderr; exit code 2.
 */
function reportError(error: unknown, context: CommandContext): number {
  const colors = context.errorColors;
  if (CliError.isInstance(error)) {
    context.note(`${colors.red(`palisade: ${error.code}:`)} ${error.message}`);
    if (error.hint) context.note(colors.yellow(`hint: ${error.hint}`));
    return exitCodes.error;
  }
  if (PalisadeError.isInstance(error)) {
    const [text = '', ...hint] = error.message.split('\nHint: ');
    context.note(`${colors.red(`palisade: ${error.code}:`)} ${text}`);
    const shown = error.hint ?? (hint.length ? hint.join('\nHint: ') : undefined);
    if (shown) context.note(colors.yellow(`hint: ${shown}`));
    return exitCodes.error;
  }
  const coded = error as { code?: unknown; hint?: unknown; message?: unknown };
  if (typeof coded?.code === 'string' && typeof coded.message === 'string') {
    context.note(`${colors.red(`palisade: ${coded.code}:`)} ${coded.message}`);
    if (typeof coded.hint === 'string') context.note(colors.yellow(`hint: ${coded.hint}`));
    return exitCodes.error;
  }
  context.note(`${colors.red('palisade: internal error:')} ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  context.note(colors.yellow('hint: this is a bug in palisade; please report it with the command line that caused it.'));
  return exitCodes.error;
}
