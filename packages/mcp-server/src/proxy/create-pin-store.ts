import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { canonicalJson, InvalidInputError } from '@palisade/core';
import { z } from 'zod';
import type { ToolDefinition } from './scan-tool-definition.js';

/** Why a definition waits for approval instead of being pinned. */
export type PinHoldReason = 'changed' | 'poisoned';

/** What the pin file holds about one tool of one server. */
export interface ToolPin {
  /** Hash of the approved definition (absent until one is approved). */
  hash?: string;
  pinnedAt?: string;
  /** `first_sight`: pinned when first listed with a clean description; `approval`: through a ticket. */
  via?: 'first_sight' | 'approval';
  /** The ticket that approved the pinned definition. */
  approvalId?: string;
  /** A definition seen since, not approved: its hash, why it is held and its ticket (with state). */
  held?: { hash: string; reason: PinHoldReason; approvalId?: string; at: string };
}

/** Approved tool definitions, by server and tool name. */
export interface PinStore {
  /** The JSON file written on every change, or undefined for pins kept in memory. */
  readonly file: string | undefined;
  get(serverId: string, tool: string): ToolPin | undefined;
  /** Records a pin and, with a file, writes the whole file atomically before returning. */
  set(serverId: string, tool: string, pin: ToolPin): void;
}

const pinSchema = z.strictObject({
  hash: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/)
    .optional(),
  pinnedAt: z.string().optional(),
  via: z.enum(['first_sight', 'approval']).optional(),
  approvalId: z.string().optional(),
  held: z
    .strictObject({
      hash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
      reason: z.enum(['changed', 'poisoned']),
      approvalId: z.string().optional(),
      at: z.string(),
    })
    .optional(),
});

const fileSchema = z.strictObject({
  version: z.literal(1),
  servers: z.record(z.string(), z.record(z.string(), pinSchema)),
});

type PinFile = z.infer<typeof fileSchema>;

/**
 * Hash of what a tool is: the server's name and the tool's name, title, description, input schema
 * and output schema, as canonical JSON (key order does not matter). Annotations are left out:
 * they are untrusted hints and decide nothing.
 *
 * @example
 * toolDefinitionHash('mail-server', { name: 'send_email', description: 'Send an email', inputSchema: { type: 'object' } })
 * // 'sha256:4f1c…'
 */
export function toolDefinitionHash(server: string, definition: ToolDefinition): string {
  const canonical = canonicalJson({
    server,
    name: definition.name,
    title: definition.title ?? null,
    description: definition.description ?? null,
    inputSchema: definition.inputSchema,
    outputSchema: definition.outputSchema ?? null,
  });
  return `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
}

/**
 * Opens the pins of approved tool definitions: a JSON file (`{ version: 1, servers: { <server>:
 * { <tool>: { hash, pinnedAt, via, approvalId?, held? } } } }`) when `file` is given, else memory.
 * A missing file is an empty one. Throws `InvalidInputError` for a file that is not a pin file:
 * the proxy refuses to start rather than forget what was approved.
 *
 * INVARIANT: the file on disk is always a complete pin file: it is written to a temporary file,
 * synced, then renamed over the old one.
 *
 * @example
 * const pins = createPinStore({ file: '.palisade/mcp-pins.json' });
 * pins.set('mail', 'send_email', { hash, pinnedAt: new Date().toISOString(), via: 'first_sight' });
 */
export function createPinStore(options: { file?: string } = {}): PinStore {
  const file = options.file;
  const data: PinFile = file ? readPinFile(file) : { version: 1, servers: {} };
  return {
    file,
    get: (serverId, tool) => data.servers[serverId]?.[tool],
    set(serverId, tool, pin) {
      const server = data.servers[serverId] ?? {};
      server[tool] = pin;
      data.servers[serverId] = server;
      if (file) writeAtomically(file, `${JSON.stringify(data, null, 2)}\n`);
    },
  };
}

function readPinFile(file: string): PinFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, servers: {} };
    throw new InvalidInputError({ path: file, message: `cannot read the pin file (${(error as Error).message})`, hint: pinHint });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError({ path: file, message: `the pin file is not JSON (${(error as Error).message})`, hint: pinHint });
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError({
      path: file,
      message: `not a pin file: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unexpected shape'}`,
      hint: pinHint,
    });
  }
  return parsed.data;
}

const pinHint =
  'Restore it from a backup, or delete it to pin every tool again at its next listing (changed tools then pass unnoticed once).';

function writeAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  const descriptor = openSync(temporary, 'w', 0o600);
  try {
    writeSync(descriptor, text);
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
  renameSync(temporary, file);
}
