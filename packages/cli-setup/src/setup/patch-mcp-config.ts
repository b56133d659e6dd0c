import { setJsonValue } from './json-edit.js';
import { defaultJsonLayout, jsonEqual, parseJsonObject, stringifyJson } from './json-text.js';
import { SetupError } from './setup-error.js';
import type { McpServerEntry } from './setup-types.js';

export interface PatchMcpConfigOptions {
  /** The client config as it is, or `undefined` when the file does not exist yet. */
  text: string | undefined;
  /** Absolute path, for messages. */
  file: string;
  /** Key under `mcpServers`. */
  server: string;
  entry: McpServerEntry;
}

/**
 * Adds or updates one server under `mcpServers` of an MCP client config (Claude Desktop, Cursor
 * and most clients share this shape). Every other key and server stays as it was, and so do keys
 * of the entry that setup does not set (an `env` the user added, say).
 *
 * INVARIANT: idempotent. When the entry already holds what setup would write, the original text
 * comes back byte for byte (so a second run plans nothing, whatever the file's formatting).
 *
 * @example
 * patchMcpConfig({ text: '{"mcpServers":{"fs":{"command":"fs-mcp"}}}', file, server: 'palisade', entry })
 * // '{\n  "mcpServers": {\n    "fs": { … },\n    "palisade": { "command": "npx", … }\n  }\n}\n'
 */
export function patchMcpConfig(options: PatchMcpConfigOptions): string {
  const { value: config, layout } =
    options.text === undefined
      ? { value: {} as Record<string, unknown>, layout: defaultJsonLayout }
      : parseJsonObject(options.text, options.file, 'MCP client config');
  const servers = config.mcpServers ?? {};
  if (typeof servers !== 'object' || servers === null || Array.isArray(servers)) {
    throw new SetupError({
      code: 'INVALID_PROJECT_FILE',
      message: `${options.file}: "mcpServers" must be an object (server name → { command, args }).`,
      file: options.file,
    });
  }
  const current = (servers as Record<string, unknown>)[options.server];
  const base = typeof current === 'object' && current !== null && !Array.isArray(current) ? (current as Record<string, unknown>) : {};
  const next = { ...base, ...options.entry };
  if (options.text !== undefined && jsonEqual(current, next)) return options.text;
  config.mcpServers = { ...(servers as Record<string, unknown>), [options.server]: next };
  if (options.text === undefined || options.text.trim() === '') return stringifyJson(config, layout);
  // A minimal edit keeps the user's layout; should it ever disagree with the intended object, the
  // whole file is written out instead (correct content beats kept spacing).
  const unit = typeof layout.indent === 'number' ? ' '.repeat(layout.indent) : layout.indent;
  const edited = setJsonValue(options.text, ['mcpServers', options.server], next, unit, layout.eol);
  return jsonEqual(parseJsonObject(edited, options.file, 'MCP client config').value, config) ? edited : stringifyJson(config, layout);
}

/** The `mcpServers.<server>` entry of a client config text, if it has one (for tests and notes). */
export function readMcpServer(text: string, file: string, server: string): unknown {
  const servers = parseJsonObject(text, file, 'MCP client config').value.mcpServers;
  return typeof servers === 'object' && servers !== null ? (servers as Record<string, unknown>)[server] : undefined;
}
