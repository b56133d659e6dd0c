import type { Readable, Writable } from 'node:stream';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { localCaller } from './caller.js';
import { createPalisadeMcpServer, type PalisadeMcpServerOptions } from './create-palisade-mcp-server.js';

export interface PalisadeStdioServerOptions extends Omit<PalisadeMcpServerOptions, 'caller'> {
  /** Default tenant of calls that name none (stdio is local: the `tenant` argument may name any). */
  tenant?: string;
  /** Default process.stdin / process.stdout. */
  stdin?: Readable;
  stdout?: Writable;
}

export interface PalisadeStdioServer {
  server: McpServer;
  /** Resolves when the client goes away (stdin ends) or `close` is called. */
  closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves the governance tools over stdio, for a client that starts this process (Claude
 * Desktop, an IDE). The caller is the local user, with the admin role: whoever can start the
 * process can read its configuration anyway. Nothing but MCP messages is written to stdout.
 *
 * @example
 * const stdio = await startPalisadeStdioServer({ guard, tenant: 'acme' });
 * await stdio.closed;
 * await guard.close();
 */
export async function startPalisadeStdioServer(options: PalisadeStdioServerOptions): Promise<PalisadeStdioServer> {
  const { tenant, stdin = process.stdin, stdout = process.stdout, ...serverOptions } = options;
  const server = createPalisadeMcpServer({ ...serverOptions, caller: localCaller({ tenant, transport: 'stdio' }) });
  const transport = new StdioServerTransport(stdin, stdout);
  let finish: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    finish = resolve;
  });
  transport.onclose = () => finish();
  // The SDK's transport does not watch for the end of stdin: a client that exits closes it.
  const ended = () => void server.close().finally(finish);
  stdin.once('end', ended);
  stdin.once('close', ended);
  await server.connect(transport);
  return {
    server,
    closed,
    close: async () => {
      await server.close();
      finish();
    },
  };
}
