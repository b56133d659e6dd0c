#!/usr/bin/env node
// palisade: the operator CLI and setup scaffolder (see run-palisade.ts for the commands and exit codes).
import { runPalisade } from './run-palisade.js';

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    controller.abort();
    // A second signal, or a command that does not stop, ends the process.
    process.once(signal, () => process.exit(130));
  });
}

// A reader that goes away (`palisade audit query | head`) ends the command quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw error;
  });
}

const code = await runPalisade(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
});
process.exitCode = code;
// Output already written is flushed before exit; a handle left open (a served client, a timer)
// must not keep a finished command alive.
setTimeout(() => process.exit(code), 2000).unref();
