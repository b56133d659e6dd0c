import { actions, boundaries, severities } from '@palisade/core';
import { z } from 'zod';

// Output schemas describe what core returns and allow more (`looseObject`): a field core adds
// later must not make every client's output validation fail. Input schemas are the contract.

const text = z.string();

export const scopeInput = {
  tenant: z
    .string()
    .min(1)
    .optional()
    .describe('Tenant. Keys bound to a tenant act for it (another tenant is "not found"); admin keys and stdio may name any.'),
  app: z.string().min(1).optional().describe('App of the tenant.'),
  user: z.string().min(1).optional().describe('End user, for per-user budgets and receipts.'),
  session: z.string().min(1).optional().describe('Conversation or session id, recorded on receipts.'),
};

export const policyInput = z
  .string()
  .min(1)
  .optional()
  .describe('Request override of the effective policy (admin keys, or keys that list the policy). The platform layer still applies.');

export const detectionSchema = z.looseObject({
  ruleId: text,
  family: text,
  name: text,
  severity: z.enum(severities),
  confidence: z.number(),
  tags: z.array(text),
  span: z.looseObject({ start: z.number(), end: z.number() }),
  path: text.optional(),
});

const scopeSchema = z.looseObject({
  tenantId: text.optional(),
  appId: text.optional(),
  userId: text.optional(),
  sessionId: text.optional(),
  policyId: text.optional(),
});

const decidingRuleSchema = z.looseObject({ layer: text, policyId: text, rule: text, priority: z.number() });

/** A core `Decision`, as `scan` and `check_tool_call` return it. */
export const decisionSchema = z.looseObject({
  action: z.enum(actions),
  eventId: text,
  boundary: z.enum(boundaries),
  tool: text.optional(),
  scope: scopeSchema,
  detections: z.array(detectionSchema),
  suppressedDetections: z.array(z.looseObject({ detection: detectionSchema, suppression: z.looseObject({ rule: text, reason: text }) })),
  decidedBy: decidingRuleSchema,
  reason: text,
  redactedText: text.optional(),
  redactedArgs: z.unknown().optional(),
  effectivePolicyId: text,
  effectivePolicyMode: text,
  resolutionSource: text,
  policyVersion: text,
  flags: z.array(text),
  diagnostics: z.looseObject({
    matchedRules: z.array(z.looseObject({ layer: text, policyId: text, rule: text, priority: z.number(), action: z.enum(actions) })),
    errors: z.array(text),
  }),
  approvalId: text.optional(),
  budget: z.looseObject({}).optional(),
  shadow: z.looseObject({ policyId: text, action: z.enum(actions), differs: z.boolean() }).optional(),
  evaluationMs: z.number(),
});

/** An approval ticket without its sealed original event and argument hash. */
export const ticketSchema = z.looseObject({
  id: text,
  tenantId: text,
  appId: text.optional(),
  userId: text.optional(),
  sessionId: text.optional(),
  eventId: text,
  boundary: z.enum(boundaries),
  tool: text.optional(),
  args: z.unknown().optional().describe('The arguments as approvals.show_args allows (PII and secrets masked by default).'),
  reason: text,
  rule: text,
  policyVersion: text,
  createdAt: z.number().describe('Epoch milliseconds.'),
  expiresAt: z.number().describe('Epoch milliseconds.'),
  requiredApprovals: z.number(),
  onTimeout: z.enum(['deny', 'allow']),
  status: z.enum(['pending', 'approved', 'denied', 'expired']),
  approvals: z.array(z.looseObject({ approver: text, note: text.optional(), at: z.number() })),
  resolution: z.looseObject({ by: text, reason: text, at: z.number() }).optional(),
  consumedAt: z.number().optional(),
});

export const budgetLimitSchema = z.looseObject({
  scope: text.describe('tenant, app:<id>, user:<id> or app:<id>/user:<id>'),
  period: text,
  limitUsd: z.number(),
  spentUsd: z.number(),
  reservedUsd: z.number(),
  remainingUsd: z.number(),
  action: text,
  resetsAt: text,
  exceeded: z.boolean(),
});

export const budgetOutput = z.object({
  scope: z.object({ tenantId: text, appId: text.optional(), userId: text.optional() }),
  action: z.enum(['allow', 'warn', 'block']).describe('block: a hard or soft limit is spent; warn: only warn limits are.'),
  limitUsd: z.number().optional().describe('The limit that binds: the one behind block/warn, else the one with least remaining.'),
  spentUsd: z.number().optional(),
  remainingUsd: z.number().optional(),
  resetsAt: text.optional().describe('ISO time the binding limit resets.'),
  period: text.optional(),
  limits: z.array(budgetLimitSchema),
});

export const explanationSchema = z.looseObject({
  scope: scopeSchema,
  ok: z.boolean(),
  reason: text.optional(),
  effectivePolicyId: text.optional(),
  effectivePolicyMode: text.optional(),
  resolutionSource: text.optional(),
  chain: z.array(z.looseObject({ level: text, policyId: text.optional(), chosen: z.boolean() })),
  flags: z.array(text),
  shadowPolicyId: text.optional(),
  rules: z.array(z.looseObject({ layer: text, policyId: text, name: text, priority: z.number(), action: z.enum(actions), reason: text })),
  suppressions: z.array(z.looseObject({ rule: text, reason: text, action: text, active: z.boolean() })),
  policyVersion: text,
});

export const receiptRowSchema = z.looseObject({
  seq: z.number(),
  hash: text,
  eventId: text,
  time: text.describe('ISO time.'),
  tenantId: text,
  appId: text.optional(),
  userId: text.optional(),
  boundary: text.optional(),
  tool: text.optional(),
  action: text.optional(),
  rule: text.optional(),
  kind: text,
  receipt: z.looseObject({}).describe('The receipt as written in the hash chain.'),
});
