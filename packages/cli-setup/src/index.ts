// @palisade/cli: the `palisade` command, and the pure functions behind it.

export type { CliErrorCode, CliErrorOptions } from './cli-error.js';
export { CliError } from './cli-error.js';
export type { CliIo, CliOutput } from './cli-io.js';
export { useColor } from './cli-io.js';
export { parseBatchLine } from './commands/batch-command.js';
export type { BuildScanEventOptions } from './commands/scan-command.js';
export { buildScanEvent } from './commands/scan-command.js';
export type { YamlEdit, YamlEditResult, YamlPath } from './config/edit-yaml-text.js';
export { editYamlText } from './config/edit-yaml-text.js';
export type {
  ApplyConfigEditOptions,
  ConfigEdit,
  ConfigEditPlan,
  PlanConfigEditOptions,
  SuppressionInput,
} from './config/plan-config-edit.js';
export { applyConfigEdit, planConfigEdit } from './config/plan-config-edit.js';
export type { InitFile, InitPlan, PlanInitOptions } from './config/plan-init.js';
export { applyInitPlan, planInit } from './config/plan-init.js';
export type { ConfigLocation, ResolveConfigPathOptions } from './config/resolve-config-path.js';
export { resolveConfigPath } from './config/resolve-config-path.js';
export { writeFileAtomic } from './config/write-file-atomic.js';
export type { DoctorCheck, RunDoctorOptions } from './doctor/run-doctor.js';
export { runDoctor } from './doctor/run-doctor.js';
export type { FormatDecisionOptions } from './output/format-decision.js';
export { formatDecision } from './output/format-decision.js';
export type { PolicyTestReport, PolicyTestResult, RunPolicyTestsOptions } from './policy/run-policy-tests.js';
export { policyTestsDirectory, runPolicyTests } from './policy/run-policy-tests.js';
export { exitCodes, runPalisade } from './run-palisade.js';
