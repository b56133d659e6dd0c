import type { ProjectInfo } from './detect-project.js';

/** Frameworks and MCP clients `palisade setup <target>` knows how to wire. */
export type SetupTarget = 'langchain' | 'vercel-ai' | 'mcp' | 'claude-desktop' | 'cursor';
export const setupTargets: readonly SetupTarget[] = ['langchain', 'vercel-ai', 'mcp', 'claude-desktop', 'cursor'];

/** Package managers whose install command setup prints (it never runs an install). */
export type PackageManager = 'npm' | 'pnpm' | 'yarn' | 'bun';
export const packageManagers: readonly PackageManager[] = ['npm', 'pnpm', 'yarn', 'bun'];

/** Language of the generated integration files. */
export type SetupLanguage = 'ts' | 'js';

/**
 * One file the plan creates or rewrites, with its whole new content. A plan holds only real
 * changes: a file whose content would not change is not in it.
 */
export interface FileChange {
  /** Absolute path. */
  path: string;
  /** What the user sees: the path relative to the target folder (posix), or the absolute path of an explicit client config. */
  displayPath: string;
  kind: 'create' | 'update';
  /** The content the plan was made against (`undefined` for `create`); `applyPlan` refuses to write if the file changed since. */
  before: string | undefined;
  after: string;
  /** Copy the current file aside before rewriting it (explicit client configs outside the project). */
  backup: boolean;
  /** Why this file changes, one line. */
  reason: string;
}

/** A dependency setup adds to package.json. */
export interface DependencyAddition {
  name: string;
  version: string;
}

/** The `mcpServers` entry an MCP client runs for Palisade. */
export interface McpServerEntry {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

/** An MCP client configuration file the plan adds (or updates) the palisade server in. */
export interface ClientConfigPatch {
  /** Absolute path. */
  file: string;
  server: string;
  entry: McpServerEntry;
  /** False when the entry is already there as it should be. */
  changed: boolean;
}

/** Everything `palisade setup` would do, as data: `applyPlan` writes it, `formatPlanDiff` shows it. */
export interface SetupPlan {
  target: SetupTarget;
  /** The target folder (absolute). */
  cwd: string;
  project: ProjectInfo;
  changes: FileChange[];
  /** Added to package.json (already part of its `FileChange`). */
  dependencies: DependencyAddition[];
  clientConfigs: ClientConfigPatch[];
  /** Printed, never run; set when package.json gained dependencies. */
  installCommand: string | undefined;
  /**
   * Absolute paths outside `cwd` the plan may write: only an explicit `--client-config` (and its
   * backup beside it). `applyPlan` refuses any other path outside the folder.
   */
  allowedOutside: string[];
  /** Next steps and things left as they were, for the user. */
  notes: string[];
}
