import type { Role } from './api-keys.js';

/** Every tool the governance server offers. */
export const toolNames = [
  'scan',
  'check_tool_call',
  'reload_policies',
  'list_pending',
  'approve',
  'deny',
  'check_budget',
  'health_check',
  'list_plugins',
  'explain_policy',
  'query_audit',
  'verify_audit',
] as const;
export type PalisadeToolName = (typeof toolNames)[number];

/**
 * The tools each role may call. A caller is only shown (`tools/list`) the tools of its role, and
 * each call checks again.
 *
 * - `admin`: everything, for any tenant (the `tenant` argument), including `reload_policies`.
 * - `approver`: decides its tenant's escalations, and everything a viewer and a scanner can do.
 * - `viewer`: reads its tenant's state: pending tickets, budgets, policies, receipts.
 * - `scanner`: what an agent needs: scan, check tool calls, its budget, health and plugins.
 */
export const roleTools: Readonly<Record<Role, readonly PalisadeToolName[]>> = {
  admin: toolNames,
  approver: toolNames.filter((tool) => tool !== 'reload_policies'),
  viewer: ['list_pending', 'check_budget', 'health_check', 'list_plugins', 'explain_policy', 'query_audit', 'verify_audit'],
  scanner: ['scan', 'check_tool_call', 'check_budget', 'health_check', 'list_plugins'],
};

/**
 * Whether `role` may call `tool`.
 *
 * @example
 * canCall('scanner', 'approve') // false
 */
export function canCall(role: Role, tool: PalisadeToolName): boolean {
  return roleTools[role].includes(tool);
}
