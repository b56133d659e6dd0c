#!/usr/bin/env node
// palisade-mcp: the governance MCP server (stdio or Streamable HTTP), key tools and the guarded proxy.
import { runCli } from './run-cli.js';

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());

const code = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
});
// Exit explicitly: a served client is gone, and nothing left (sockets, timers) should keep the process up.
process.exit(code);
