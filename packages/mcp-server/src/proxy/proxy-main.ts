#!/usr/bin/env node
// Runnable entry of the guarded proxy alone: `node dist/proxy/proxy-main.js [options] -- <command> [args]`
// (the same as `palisade-mcp proxy …`). Used by the stdio tests and the bench.
import { runProxyCommand } from './run-proxy-command.js';

const code = await runProxyCommand(process.argv.slice(2));
// Exit explicitly: the session is over, and nothing left (the upstream's pipes, timers) should keep the process up.
process.exit(code);
