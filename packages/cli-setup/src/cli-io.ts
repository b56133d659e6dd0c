import type { Readable, Writable } from 'node:stream';
import picocolors from 'picocolors';

/** A stream the CLI writes to; `isTTY` and `columns` decide colours, progress bars and widths. */
export type CliOutput = Writable & { isTTY?: boolean; columns?: number };

/** Where the CLI reads and writes. The bin passes the process's own; tests pass memory streams. */
export interface CliIo {
  stdin: Readable;
  stdout: CliOutput;
  stderr: CliOutput;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Aborting stops long-running commands (`serve`, `audit tail --follow`); the bin aborts on SIGINT and SIGTERM. */
  signal?: AbortSignal;
}

export type Colors = ReturnType<typeof picocolors.createColors>;

/**
 * Whether to colour a stream: only a TTY, never with `NO_COLOR` set (https://no-color.org) or
 * `TERM=dumb`; `FORCE_COLOR` (not `0`) turns colours on for a pipe.
 *
 * @example
 * useColor(process.stdout, process.env) // false when piped
 */
export function useColor(stream: CliOutput, env: CliIo['env']): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** picocolors formatters, on or off for `stream`. */
export function colorsFor(stream: CliOutput, env: CliIo['env']): Colors {
  return picocolors.createColors(useColor(stream, env));
}
