import { attemptSignal, type DeliveryResult, defaultTimeoutMs, scrubSecrets } from './alert-channel.js';

/** A JSON POST as a channel builds it. */
export interface JsonRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface PostJsonOptions {
  fetch?: typeof fetch;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Names the receiver in messages without its secrets, e.g. `slack channel "ops" (https://hooks.slack.com)`. */
  label: string;
  /** Values to scrub from every message (keys, secrets, secret URLs). */
  secrets: readonly (string | undefined)[];
}

const snippetBytes = 300;

/**
 * Sends one JSON POST and classifies the answer: 2xx is delivered; 408, 429 and 5xx are retryable
 * (with `retryAfterMs` from a Retry-After header); a redirect and any other 4xx are permanent; a
 * timeout or a network error is retryable; a cancelled attempt is not.
 *
 * Redirects are not followed: a signed or keyed request is only ever sent to the configured URL.
 *
 * @example
 * const result = await postJson({ url, headers: { 'content-type': 'application/json' }, body }, { label: 'webhook', secrets: [] });
 */
export async function postJson(request: JsonRequest, options: PostJsonOptions): Promise<DeliveryResult> {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const attempt = attemptSignal(timeoutMs, options.signal);
  const scrub = (text: string) => scrubSecrets(text, [...options.secrets, request.url]);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: attempt.signal,
      redirect: 'manual',
    });
  } catch (error) {
    if (options.signal?.aborted) return { ok: false, retryable: false, message: `${options.label}: cancelled` };
    if (attempt.timedOut()) return { ok: false, retryable: true, message: `${options.label}: no answer within ${timeoutMs} ms` };
    return { ok: false, retryable: true, message: scrub(`${options.label}: request failed (${describeFetchError(error)})`) };
  }

  const { status } = response;
  if (status >= 200 && status < 300) {
    // Delivered: the body (Slack's "ok", PagerDuty's dedup_key) adds nothing worth waiting for.
    response.body?.cancel().catch(() => {});
    return { ok: true, status };
  }
  const snippet = await readSnippet(response).catch(() => '');
  const answer = snippet ? `: ${JSON.stringify(snippet)}` : '';
  if (status >= 300 && status < 400) {
    return {
      ok: false,
      retryable: false,
      status,
      message: `${options.label}: answered ${status} (a redirect, which is not followed); configure the final URL`,
    };
  }
  const retryable = status === 408 || status === 429 || status >= 500;
  const retryAfterMs = retryable ? parseRetryAfter(response.headers.get('retry-after')) : undefined;
  return {
    ok: false,
    retryable,
    status,
    message: scrub(`${options.label}: answered ${status}${answer}`),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

/**
 * Milliseconds to wait from a Retry-After header: delay-seconds or an HTTP date (RFC 9110).
 * Undefined when absent or unreadable.
 *
 * @example parseRetryAfter('2') // 2000
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

async function readSnippet(response: Response): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < snippetBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    // Frees the connection even when the body is longer than the snippet.
    reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, snippetBytes).trim();
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  const source = cause ?? error;
  const code = (source as { code?: unknown })?.code;
  if (typeof code === 'string') return code;
  if (source instanceof Error) return source.message;
  return String(source);
}
