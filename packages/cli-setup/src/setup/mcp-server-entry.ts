import { join, win32 } from 'node:path';
import type { McpServerEntry } from './setup-types.js';

export interface McpServerEntryOptions {
  /** `@palisade/mcp-server@<version>`: pinned, so the client runs the version setup was made for. */
  mcpPackage: string;
  /** palisade.yaml as the client should pass it (absolute, or `${workspaceFolder}/…` for Cursor). */
  configPath: string;
  /** The stdio session's tenant; omitted when the config names none. */
  tenantId: string | undefined;
  /** Windows clients cannot start `npx` (a .cmd script) directly; they get `cmd /c npx`. */
  windows?: boolean;
  /** `proxy` fronts another stdio server (`upstream`); `serve` (default) is the governance server. */
  proxy?: { upstream: string[] };
}

/**
 * The `mcpServers` entry that runs Palisade over stdio through npx.
 *
 * Setup writes the `serve` form: the governance server (scan, explain, approvals) that needs no
 * other server. The `proxy` form fronts an existing server and is only shown (README, notes): it
 * replaces that server's own entry, a change setup leaves to the user.
 *
 * @example
 * mcpServerEntry({ mcpPackage: '@palisade/mcp-server@0.1.0', configPath: '/srv/app/palisade.yaml', tenantId: 'default' })
 * // { command: 'npx', args: ['-y', '@palisade/mcp-server@0.1.0', 'serve', '--config', '/srv/app/palisade.yaml', '--tenant', 'default'] }
 */
export function mcpServerEntry(options: McpServerEntryOptions): McpServerEntry {
  const tenant = options.tenantId === undefined ? [] : ['--tenant', options.tenantId];
  const command = options.proxy
    ? ['proxy', '--config', options.configPath, ...tenant, '--', ...options.proxy.upstream]
    : ['serve', '--config', options.configPath, ...tenant];
  const args = ['-y', options.mcpPackage, ...command];
  return options.windows ? { command: 'cmd', args: ['/c', 'npx', ...args] } : { command: 'npx', args };
}

export interface ClaudeDesktopLocationOptions {
  platform: NodeJS.Platform;
  homeDir: string;
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Where Claude Desktop keeps its configuration (outside any project: setup only prints it, and
 * writes it only when given as `--client-config`).
 *
 * @example
 * claudeDesktopConfigPath({ platform: 'darwin', homeDir: '/Users/ada', env: {} })
 * // '/Users/ada/Library/Application Support/Claude/claude_desktop_config.json'
 */
export function claudeDesktopConfigPath(options: ClaudeDesktopLocationOptions): string {
  if (options.platform === 'darwin') return join(options.homeDir, 'Library', 'Application Support', 'Claude', 'claude_desktop_config.json');
  if (options.platform === 'win32') {
    const appData = options.env.APPDATA ?? win32.join(options.homeDir, 'AppData', 'Roaming');
    return win32.join(appData, 'Claude', 'claude_desktop_config.json');
  }
  return join(options.env.XDG_CONFIG_HOME ?? join(options.homeDir, '.config'), 'Claude', 'claude_desktop_config.json');
}
