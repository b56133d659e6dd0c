import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the server received, recorded once its body has been read in full. */
export interface RecordedRequest {
  method: string;
  /** The request target: path and query string, e.g. `/hooks/palisade?token=x`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The body as UTF-8 text. */
  body: string;
  /** `performance.now()` when the body had been read, for measuring the time between attempts. */
  receivedAt: number;
}

/** How to answer a request; `'hang'` never answers, leaving the client to time out or cancel. */
export type ScriptedResponse = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

export interface LocalHttpServer {
  /** The server's origin, `http://127.0.0.1:<port>`, without a trailing slash: append any path. */
  url: string;
  /** Every request received so far, in order of arrival. */
  requests: RecordedRequest[];
  /** Drops open connections (hanging requests too) and stops listening; safe to call again. */
  close(): Promise<void>;
}

/**
 * Starts an HTTP server on 127.0.0.1 on a free port that records every request and answers them
 * with `responses` in turn, the last one repeating (with none given, every answer is an empty 200).
 * Close it when the test is done, for example with vitest's `onTestFinished(server.close)`; once
 * closed, its port is one nothing listens on.
 *
 * @example
 * const server = await startLocalHttpServer({ status: 503, headers: { 'retry-after': '1' } }, { status: 200 });
 * onTestFinished(server.close);
 * await fetch(`${server.url}/hooks`, { method: 'POST', body: '{}' }); // answered 503
 * await fetch(`${server.url}/hooks`, { method: 'POST', body: '{}' }); // answered 200, as is every later one
 * expect(server.requests.map((request) => request.path)).toEqual(['/hooks', '/hooks']);
 */
export async function startLocalHttpServer(...responses: ScriptedResponse[]): Promise<LocalHttpServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: performance.now(),
      });
      const reply = responses[Math.min(requests.length, responses.length) - 1] ?? { status: 200 };
      if (reply !== 'hang') response.writeHead(reply.status, reply.headers).end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
    return closed;
  };
  return { url, requests, close };
}
