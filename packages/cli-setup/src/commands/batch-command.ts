import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { type Action, actions, type Boundary, boundaries, type Decision, type GuardEvent, PalisadeError, type Scope } from '@palisade/core';
import { Option } from 'commander';
import { CliError } from '../cli-error.js';
import type { CliOutput, Colors } from '../cli-io.js';
import { outputOption, type RegisterOptions } from './command-types.js';
import { addScopeOptions, type ScopeOptions, scopeFromOptions } from './scan-command.js';

const scopeKeys = ['tenantId', 'appId', 'userId', 'sessionId', 'policyId'] as const;

/**
 * The event one JSONL line describes: a JSON string (a prompt at the default boundary), or an
 * object `{ id?, text?, boundary?, tool?, args?, result?, scope?, tenantId?, appId?, userId?,
 * sessionId?, policyId? }`; the command's `--boundary` and scope options fill what it leaves out.
 *
 * @example
 * parseBatchLine('{"text":"hi","tenantId":"acme"}', { boundary: 'input', scope: {} })
 * // { id: undefined, event: { boundary: 'input', text: 'hi', scope: { tenantId: 'acme' } } }
 */
export function parseBatchLine(
  line: string,
  defaults: { boundary: Boundary; scope: Scope },
): { id: string | undefined; event: GuardEvent } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new CliError({ code: 'USAGE', message: `not JSON: ${(error as Error).message}` });
  }
  if (typeof value === 'string') return { id: undefined, event: { boundary: defaults.boundary, text: value, scope: defaults.scope } };
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new CliError({ code: 'USAGE', message: 'a line must be a JSON string or object' });
  const record = value as Record<string, unknown>;
  const boundary = record.boundary ?? defaults.boundary;
  if (typeof boundary !== 'string' || !(boundaries as readonly string[]).includes(boundary)) {
    throw new CliError({ code: 'USAGE', message: `boundary must be one of ${boundaries.join(', ')}` });
  }
  const scope: Scope = { ...defaults.scope, ...(typeof record.scope === 'object' && record.scope !== null ? (record.scope as Scope) : {}) };
  for (const key of scopeKeys) if (typeof record[key] === 'string') scope[key] = record[key] as string;
  const event: GuardEvent = { boundary: boundary as Boundary, scope };
  if (typeof record.text === 'string') event.text = record.text;
  if (typeof record.tool === 'string') event.tool = record.tool;
  if ('args' in record) event.args = record.args;
  if ('result' in record) {
    event.result = record.result;
    if (typeof record.result === 'string' && event.text === undefined) event.text = record.result;
  }
  if ((event.boundary === 'input' || event.boundary === 'output') && event.text === undefined)
    throw new CliError({ code: 'USAGE', message: 'an input or output event needs "text"' });
  if ((event.boundary === 'tool_call' || event.boundary === 'tool_result') && event.tool === undefined)
    throw new CliError({ code: 'USAGE', message: `a ${event.boundary} event needs "tool"` });
  const id = typeof record.id === 'string' || typeof record.id === 'number' ? String(record.id) : undefined;
  return { id, event };
}

/** Counts of a batch run. */
export interface BatchSummary {
  events: number;
  errors: number;
  byAction: Record<Action, number>;
  elapsedMs: number;
}

/** A progress bar on a TTY: redrawn in place at most every 100 ms, erased at the end. */
function createProgress(stream: CliOutput, total: number | undefined, colors: Colors) {
  const enabled = stream.isTTY === true;
  let last = 0;
  const draw = (done: number, events: number, force = false) => {
    if (!enabled) return;
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    if (total && total > 0) {
      const ratio = Math.min(1, done / total);
      const width = 30;
      const filled = Math.round(ratio * width);
      stream.write(
        `\r${colors.cyan('█'.repeat(filled))}${colors.dim('░'.repeat(width - filled))} ${Math.round(ratio * 100)}%  ${events} events`,
      );
    } else stream.write(`\r${events} events`);
  };
  return { draw, clear: () => enabled && stream.write('\r\u001b[2K') };
}

interface BatchOptions extends ScopeOptions {
  boundary: Boundary;
  out?: string;
  state: boolean;
  ci?: boolean;
  output: 'table' | 'json';
}

export function registerBatchCommand({ program, context, run }: RegisterOptions): void {
  const command = program
    .command('batch')
    .summary('evaluate a JSONL file of events; decisions as JSONL')
    .description(
      'Reads one event per line (a JSON string is a prompt; an object may give id, text, boundary, tool, args, result, scope,\n' +
        'tenantId, appId, …), writes one decision per line as JSONL ({ line, id, ...decision } or { line, id, error }),\n' +
        'shows a progress bar on a terminal and a summary on stderr. Exit code 2 when a line could not be evaluated,\n' +
        '1 with --ci when a decision is block.',
    )
    .argument('<file>', 'JSONL input; `-` reads standard input')
    .addOption(new Option('-b, --boundary <boundary>', 'boundary of lines that do not say').choices(boundaries).default('input'))
    .option('--out <file>', 'write the decisions to a file instead of standard output')
    .option('--no-state', 'decide only: no approval tickets, no audit receipts')
    .option('--ci', 'exit code 1 when any decision is block');
  addScopeOptions(command)
    .addOption(outputOption().default('json').choices(['json']).hideHelp())
    .action(
      run(async (file: string, options: BatchOptions) => {
        const { io } = context;
        const input: Readable = file === '-' ? io.stdin : createReadStream(resolve(io.cwd, file));
        let total: number | undefined;
        if (file !== '-') {
          try {
            total = statSync(resolve(io.cwd, file)).size;
          } catch (error) {
            throw new CliError({ code: 'USAGE', message: `Cannot read ${file}: ${(error as Error).message}` });
          }
        }
        const output: Writable = options.out !== undefined ? createWriteStream(resolve(io.cwd, options.out)) : io.stdout;
        const { guard } = options.state
          ? context.openGuard({ state: 'audit', onAuditLocked: 'continue', optional: true })
          : context.openGuard({ state: 'off', optional: true });
        const progress = createProgress(io.stderr, total, context.errorColors);
        const summary: BatchSummary = {
          events: 0,
          errors: 0,
          byAction: Object.fromEntries(actions.map((action) => [action, 0])) as Record<Action, number>,
          elapsedMs: 0,
        };
        const started = performance.now();
        let bytes = 0;
        input.on('data', (chunk: Buffer | string) => {
          bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
        });
        const write = (line: string) =>
          new Promise<void>((done) => {
            if (output.write(`${line}\n`)) done();
            else output.once('drain', done);
          });
        const defaults = { boundary: options.boundary, scope: scopeFromOptions(options) };
        let lineNumber = 0;
        try {
          for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
            lineNumber++;
            if (line.trim() === '') continue;
            let id: string | undefined;
            try {
              const parsed = parseBatchLine(line, defaults);
              id = parsed.id;
              const decision: Decision = await guard.evaluate(parsed.event);
              summary.events++;
              summary.byAction[decision.action]++;
              await write(JSON.stringify({ line: lineNumber, ...(id !== undefined ? { id } : {}), ...decision }));
            } catch (error) {
              summary.errors++;
              const code = CliError.isInstance(error) ? 'INVALID_LINE' : PalisadeError.isInstance(error) ? error.code : 'ERROR';
              await write(
                JSON.stringify({
                  line: lineNumber,
                  ...(id !== undefined ? { id } : {}),
                  error: { code, message: (error as Error).message },
                }),
              );
            }
            progress.draw(bytes, summary.events);
          }
        } catch (error) {
          throw new CliError({ code: 'USAGE', message: `Cannot read ${file}: ${(error as Error).message}`, cause: error });
        } finally {
          progress.clear();
          await guard.close();
          if (options.out !== undefined) await new Promise<void>((done) => (output as ReturnType<typeof createWriteStream>).end(done));
        }
        summary.elapsedMs = performance.now() - started;
        const { errorColors: colors } = context;
        const counts = actions
          .filter((action) => summary.byAction[action] > 0)
          .map((action) => `${summary.byAction[action]} ${action}`)
          .join(', ');
        const rate = summary.elapsedMs > 0 ? Math.round((summary.events / summary.elapsedMs) * 1000) : 0;
        context.note(
          `${colors.bold(`${summary.events} event${summary.events === 1 ? '' : 's'}`)}${counts ? `: ${counts}` : ''}${summary.errors ? colors.red(`; ${summary.errors} line${summary.errors === 1 ? '' : 's'} failed`) : ''} (${(summary.elapsedMs / 1000).toFixed(1)} s, ${rate}/s)`,
        );
        if (summary.errors > 0) return 2;
        return options.ci && summary.byAction.block > 0 ? 1 : 0;
      }),
    );
}
