import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { PalisadeError } from '@palisade/core';
import type { ApiKeyEntry, RateLimit } from './api-keys.js';
import { callerFromKey } from './caller.js';
import { createKeyRing, type KeyRing } from './create-key-ring.js';
import { createPalisadeMcpServer, type PalisadeMcpServerOptions } from './create-palisade-mcp-server.js';
import { createRateLimiter } from './create-rate-limiter.js';

export interface PalisadeHttpServerOptions extends Omit<PalisadeMcpServerOptions, 'caller' | 'rateLimiter' | 'startedAt'> {
  /** The accepted API keys (hashes), or a key ring. At least one: the server never runs open. */
  keys: readonly ApiKeyEntry[] | KeyRing;
  /** Default 127.0.0.1. Another address exposes the server: put TLS in front of it. */
  host?: string;
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** Default `/mcp`. */
  path?: string;
  /** Per key (a key's own `rateLimit` wins). Default 60 calls/s, bursts of 120. `false`: no limit. */
  rateLimit?: RateLimit | false;
  /** Largest request body in bytes. Default the SDK's 4 MiB. */
  maxBodyBytes?: number;
  /** Host headers accepted (DNS rebinding protection). Default, on a loopback host: `127.0.0.1:<port>`, `localhost:<port>`, `[::1]:<port>`. */
  allowedHosts?: readonly string[];
}

export interface PalisadeHttpServer {
  /** The MCP endpoint, e.g. `http://127.0.0.1:8787/mcp`. */
  url: URL;
  host: string;
  port: number;
  /** Stops accepting connections, ends open ones and resolves when the socket is closed. The guard stays open. */
  close(): Promise<void>;
}

const realm = 'palisade';
/** Idle servers kept per key for reuse. */
const maxIdlePerKey = 8;
const loopback = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Serves the governance tools over MCP Streamable HTTP (stateless: every request is
 * authenticated on its own, and gets a server built for its key's role and tenant).
 *
 * Authentication: `Authorization: Bearer <key>`, checked against the key hashes in constant time.
 * A missing or wrong key is `401` with `WWW-Authenticate: Bearer realm="palisade"` (plus
 * `error="invalid_token"` for a wrong one), before any MCP processing. The token is dropped once
 * verified: tools see the key id, nothing is forwarded anywhere. GET (server-sent events) and
 * DELETE (sessions) answer 405, since a stateless server has neither. Rate limits are per key
 * and answered as tool results (`RATE_LIMITED`, with `retryAfterMs`), not as HTTP 429: the limit
 * counts tool calls, and the model reads the refusal like any other.
 *
 * @example
 * const http = await startPalisadeHttpServer({ guard, keys: loadApiKeys('keys.json'), port: 8787 });
 * console.error(`MCP on ${http.url}`);
 */
export async function startPalisadeHttpServer(options: PalisadeHttpServerOptions): Promise<PalisadeHttpServer> {
  const ring = 'verify' in options.keys ? options.keys : createKeyRing(options.keys);
  if (ring.size === 0) {
    throw new PalisadeError({
      code: 'INVALID_OPTIONS',
      message: 'The HTTP server needs at least one API key; it never serves without authentication.',
      hint: 'Create one with `palisade-mcp keygen --id <id> --tenant <tenant> --role <role>` and pass the keys file with --keys.',
    });
  }
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/mcp';
  const rateLimiter = options.rateLimit === false ? false : createRateLimiter(options.rateLimit ?? {});
  const startedAt = Date.now();
  const {
    keys: _keys,
    host: _host,
    port: _port,
    path: _path,
    rateLimit: _rateLimit,
    maxBodyBytes,
    allowedHosts,
    ...serverOptions
  } = options;
  let hosts: string[] | undefined;
  const pool = new Map<string, McpServer[]>();

  const unauthorized = (response: ServerResponse, error?: string) => {
    const challenge = error ? `Bearer realm="${realm}", error="invalid_token", error_description="${error}"` : `Bearer realm="${realm}"`;
    response.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': challenge });
    response.end(JSON.stringify({ error: 'invalid_token', error_description: error ?? 'Missing bearer token' }));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== path) {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not_found' }));
      return;
    }
    if (request.method !== 'POST') {
      response.writeHead(405, { allow: 'POST', 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this server is stateless.' }, id: null }),
      );
      return;
    }
    const header = request.headers.authorization;
    const match = header ? /^Bearer +(\S+) *$/i.exec(header) : null;
    if (!header) return unauthorized(response);
    const entry = match?.[1] ? ring.verify(match[1]) : undefined;
    if (!entry) return unauthorized(response, 'The API key is not valid');

    // Building a server costs more than most tool calls: idle ones are kept per key and reused.
    // INVARIANT: a pooled server only ever serves the key it was built for (its tools, role and
    // tenant are that key's), and serves one request at a time (it is out of the pool meanwhile).
    const idle = pool.get(entry.id);
    const server = idle?.pop() ?? createPalisadeMcpServer({ ...serverOptions, caller: callerFromKey(entry), rateLimiter, startedAt });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
      ...(maxBodyBytes !== undefined ? { maxRequestBodySize: maxBodyBytes } : {}),
      ...(hosts ? { enableDnsRebindingProtection: true, allowedHosts: hosts } : {}),
    });
    let handled = false;
    response.on('close', () => {
      // Closing the transport disconnects the server, which can then take the next request.
      void transport.close().then(() => {
        const servers = pool.get(entry.id) ?? [];
        if (handled && !server.isConnected() && servers.length < maxIdlePerKey) pool.set(entry.id, [...servers, server]);
        else void server.close();
      });
    });
    await server.connect(transport);
    await transport.handleRequest(request, response);
    handled = true;
  };

  const http = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 8787, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  hosts = allowedHosts ? [...allowedHosts] : loopback.has(host) ? [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`] : undefined;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: new URL(`http://${shownHost}:${port}${path}`),
    host,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        http.close((error) => (error ? reject(error) : resolve()));
        http.closeAllConnections();
      }),
  };
}
