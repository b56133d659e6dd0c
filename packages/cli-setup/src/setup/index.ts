// `palisade setup`: the planner, the writer and the command, for the package root to re-export.

export type { ApplyPlanOptions, ApplyPlanResult } from './apply-plan.js';
export { applyPlan } from './apply-plan.js';
export type { DetectProjectOptions, ProjectInfo } from './detect-project.js';
export { detectProject } from './detect-project.js';
export type { FormatPlanOptions, FormatPlanSummaryOptions } from './format-plan.js';
export { formatPlanDiff, formatPlanSummary } from './format-plan.js';
export type { ClaudeDesktopLocationOptions, McpServerEntryOptions } from './mcp-server-entry.js';
export { claudeDesktopConfigPath, mcpServerEntry } from './mcp-server-entry.js';
export type { SetupInput } from './plan-setup.js';
export { planSetup, setupInputPaths } from './plan-setup.js';
export { readProjectFiles } from './read-project-files.js';
export { resolveInside } from './resolve-inside.js';
export type { RunSetupCommandOptions } from './run-setup-command.js';
export { runSetupCommand, setupExitCodes, setupUsage } from './run-setup-command.js';
export type { SetupErrorCode, SetupErrorOptions } from './setup-error.js';
export { SetupError } from './setup-error.js';
export type {
  ClientConfigPatch,
  DependencyAddition,
  FileChange,
  McpServerEntry,
  PackageManager,
  SetupLanguage,
  SetupPlan,
  SetupTarget,
} from './setup-types.js';
export { setupTargets } from './setup-types.js';
