import { type Command, Option } from 'commander';
import type { CommandContext } from '../command-context.js';

/** Wraps a command's action so that its result becomes the exit code of the run. */
export type Run = <Args extends unknown[]>(action: (...args: Args) => Promise<number> | number) => (...args: Args) => Promise<void>;

/** What a `registerXCommand` function gets. */
export interface RegisterOptions {
  program: Command;
  context: CommandContext;
  run: Run;
}

/** `--output table|json`, on every command that prints a list or a decision. */
export function outputOption(): Option {
  return new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table');
}
