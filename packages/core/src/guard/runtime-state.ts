import { dirname, isAbsolute, resolve } from 'node:path';
import type { AuditFileSystem } from '../audit/audit-file-system.js';
import type { CompiledConfig } from '../config/compile-config.js';
import { type AlertsConfig, type ApprovalsConfig, type AuditConfig, parseSection, type StoreConfig } from '../config/config-schema.js';
import type { PalisadeEvent } from '../events/events.js';
import type { Store } from '../store/store.js';

/** Where a guard keeps its state, when it keeps any (see `GuardOptions.state`). */
export interface StateOptions {
  /**
   * Folder that relative paths in `store:` and `audit:` are resolved against (the defaults put
   * everything under `<directory>/.palisade/`). Default: the config file's folder, else the
   * working directory.
   */
  directory?: string;
  /** A store to use instead of opening the one `store:` describes (e.g. `createMemoryStore()`). */
  store?: Store;
  /** Write audit receipts. Default: `audit.enabled` (true). */
  audit?: boolean;
  /** File operations of the audit writer; tests pass one that fails on demand. Default: node:fs. */
  auditFileSystem?: AuditFileSystem;
}

/** The configuration sections runtime state reads, with defaults filled in. */
export interface StateSections {
  store: StoreConfig;
  audit: AuditConfig;
  approvals: ApprovalsConfig;
  alerts: AlertsConfig;
}

const parsedSections = new WeakMap<CompiledConfig, StateSections>();

/** The state sections of a compiled configuration, parsed once per (re)load. */
export function stateSections(config: CompiledConfig): StateSections {
  let sections = parsedSections.get(config);
  if (!sections) {
    sections = {
      store: parseSection('store', config.raw.store),
      audit: parseSection('audit', config.raw.audit),
      approvals: parseSection('approvals', config.raw.approvals),
      alerts: parseSection('alerts', config.raw.alerts),
    };
    parsedSections.set(config, sections);
  }
  return sections;
}

/** Resolves a configured path against the state folder. */
export function statePath(base: string, path: string): string {
  return isAbsolute(path) ? path : resolve(base, path);
}

/** The folder relative state paths hang from. */
export function stateBase(options: { directory?: string }, configPath: string | undefined): string {
  if (options.directory) return resolve(options.directory);
  if (configPath) return dirname(resolve(configPath));
  return process.cwd();
}

/** Severity of a decision event: its highest detection, else by action. */
export function decisionSeverity(action: string, severities: readonly string[]): PalisadeEvent['severity'] {
  const order = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
  let top = -1;
  for (const severity of severities) top = Math.max(top, order.indexOf(severity as (typeof order)[number]));
  if (top >= 0) return order[top] as PalisadeEvent['severity'];
  return action === 'block' ? 'HIGH' : action === 'escalate' ? 'MEDIUM' : 'LOW';
}
