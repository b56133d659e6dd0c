import { existsSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import {
  AuditLockedError,
  type CompiledConfig,
  compileConfig,
  createGuard,
  type Guard,
  type LoadedConfig,
  loadConfig,
  openSqliteStore,
  parseSection,
  type Store,
} from '@palisade/core';
import { type CliIo, type Colors, colorsFor } from './cli-io.js';
import { type ConfigLocation, requireConfig, resolveConfigPath } from './config/resolve-config-path.js';
import { structuralEnv } from './config/structural-env.js';
import { formatTable, type TableColumn } from './output/format-table.js';

export type OutputFormat = 'table' | 'json';

/** A loaded and compiled configuration. */
export interface ReadConfig {
  path: string;
  loaded: LoadedConfig;
  compiled: CompiledConfig;
}

/**
 * How a command opens a guard:
 * - `off`: decisions only (no store, no receipts);
 * - `audit`: full state, receipts written. When another process (a running guard) holds the
 *   audit log, `onAuditLocked: 'fail'` stops with AUDIT_LOCKED; `'continue'` decides without
 *   writing receipts and says so on stderr.
 */
export type GuardState = { state: 'off' } | { state: 'audit'; onAuditLocked: 'fail' | 'continue' };

/** What every command gets: the streams, colours, and the configuration it works on. */
export interface CommandContext {
  io: CliIo;
  /** Colours for stdout (off unless it is a TTY and NO_COLOR is unset). */
  colors: Colors;
  /** Colours for stderr. */
  errorColors: Colors;
  /** The configuration file named by --config, PALISADE_CONFIG or ./palisade.yaml. */
  configLocation(): ConfigLocation;
  /** The configuration, which must exist (CONFIG_NOT_FOUND otherwise), read for its structure. */
  readConfig(): ReadConfig;
  /** Opens a guard on the configuration (or on the built-in defaults when `optional` and none exists). */
  openGuard(options: GuardState & { optional?: boolean }): { guard: Guard; configPath: string | undefined };
  /** The state store beside the configuration, read directly (no sweeps, no receipts); undefined when nothing was stored yet. */
  openStore(config: ReadConfig): Store | undefined;
  /** Writes a line to stdout. */
  print(text: string): void;
  /** Writes a line to stderr. */
  note(text: string): void;
  /** Prints rows as a table, or as JSON with `--output json`. */
  printRows<Row>(
    rows: readonly Row[],
    columns: readonly TableColumn<Row>[],
    output: OutputFormat,
    json?: (rows: readonly Row[]) => unknown,
  ): void;
  /** A path as the user should see it: relative to the working folder when inside it. */
  show(path: string): string;
}

/**
 * Builds the context commands run with. `configOption` returns the value of the global
 * `--config` option once commander has parsed it.
 */
export function createCommandContext(io: CliIo, configOption: () => string | undefined): CommandContext {
  const colors = colorsFor(io.stdout, io.env);
  const errorColors = colorsFor(io.stderr, io.env);
  const configLocation = () => resolveConfigPath({ option: configOption(), env: io.env, cwd: io.cwd });
  const print = (text: string) => void io.stdout.write(`${text}\n`);
  const note = (text: string) => void io.stderr.write(`${text}\n`);
  const show = (path: string) => {
    const shown = relative(io.cwd, path);
    return shown && !shown.startsWith('..') && !isAbsolute(shown) ? shown : path;
  };

  const context: CommandContext = {
    io,
    colors,
    errorColors,
    configLocation,
    readConfig() {
      const path = requireConfig(configLocation());
      const loaded = loadConfig({ path, env: structuralEnv(io.env) });
      return { path, loaded, compiled: compileConfig(loaded) };
    },
    openGuard(options) {
      const location = configLocation();
      const configPath = options.optional && !location.exists && location.source === 'default' ? undefined : requireConfig(location);
      if (!configPath) return { guard: createGuard({ env: io.env, state: false }), configPath };
      if (options.state === 'off') return { guard: createGuard({ configPath, env: io.env, state: false }), configPath };
      try {
        return { guard: createGuard({ configPath, env: io.env }), configPath };
      } catch (error) {
        if (!AuditLockedError.isInstance(error) || options.onAuditLocked === 'fail') throw error;
        note(
          errorColors.yellow(
            `palisade: the audit log is held by ${error.pid === undefined ? 'another process' : `process ${error.pid}`} (a running guard); this command's decisions are not recorded in it.`,
          ),
        );
        return { guard: createGuard({ configPath, env: io.env, state: { audit: false } }), configPath };
      }
    },
    openStore(config) {
      const section = parseSection('store', config.loaded.config.store);
      if (section.kind === 'memory') return undefined;
      const path = isAbsolute(section.path) ? section.path : resolve(dirname(config.path), section.path);
      return existsSync(path) ? openSqliteStore({ path }) : undefined;
    },
    print,
    note,
    printRows(rows, columns, output, json) {
      if (output === 'json') {
        print(JSON.stringify(json ? json(rows) : rows, null, 2));
        return;
      }
      if (rows.length === 0) {
        print(colors.dim('(none)'));
        return;
      }
      print(formatTable(rows, columns, (text) => colors.bold(text)));
    },
    show,
  };
  return context;
}
