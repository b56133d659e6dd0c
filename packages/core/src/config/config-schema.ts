import { createRequire } from 'node:module';
import { actions, boundaries } from '../policy/types.js';
import { families, severities } from '../types.js';

// zod is required on first use, not imported: a process that only scans never pays for it.
const require = createRequire(import.meta.url);

function buildSchemas() {
  const { z } = require('zod') as typeof import('zod');

  const oneOrMany = <T extends import('zod').ZodType>(item: T) => z.union([item, z.array(item).min(1)]);
  const identifier = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'expected an id: letters, digits, _ . : - (up to 128)');

  const matchSchema = z.strictObject({
    boundary: oneOrMany(z.enum(boundaries)).optional(),
    tool: oneOrMany(z.string().min(1)).optional(),
    family: oneOrMany(z.enum(families)).optional(),
    severity: z
      .union([
        z.enum(severities),
        z.array(z.enum(severities)).min(1),
        z.string().regex(/^(>=|<=|>|<|=)\s*(LOW|MEDIUM|HIGH|CRITICAL)$/, 'expected a severity threshold such as ">=HIGH"'),
      ])
      .optional(),
    rule_id: oneOrMany(z.string().min(1)).optional(),
    min_confidence: z.number().min(0).max(1).optional(),
    tags: z.array(z.string().min(1)).min(1).optional(),
    when: z.record(z.string(), z.unknown()).optional(),
  });

  const policyRuleSchema = z.strictObject({
    name: z.string().min(1),
    priority: z.number().int().min(0).max(1000),
    action: z.enum(actions),
    reason: z.string().optional(),
    match: matchSchema.optional(),
  });

  const policySchema = z.strictObject({
    extends: identifier.optional(),
    description: z.string().optional(),
    on_error: z.enum(['block', 'allow']).optional(),
    default_action: z.enum(['allow', 'log', 'flag']).optional(),
    rules: z.array(policyRuleSchema).default([]),
  });

  const suppressionSchema = z.strictObject({
    rule: z
      .string()
      .min(1)
      .refine(
        (value) => value.replace(/\*/g, '').length > 0,
        'a bare "*" would suppress everything; name a rule id or a family glob such as "pi-*"',
      ),
    reason: z.string().min(3, 'a suppression needs a reason'),
    app: identifier.optional(),
    expires: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
    action: z.enum(['suppress', 'flag', 'log']).default('suppress'),
  });

  const appSchema = z.strictObject({
    name: z.string().optional(),
    default_policy: identifier.optional(),
    shadow_policy: identifier.optional(),
  });

  const tenantSchema = z.strictObject({
    name: z.string().optional(),
    default_policy: identifier.optional(),
    shadow_policy: identifier.optional(),
    apps: z.record(identifier, appSchema).default({}),
    suppressions: z.array(suppressionSchema).default([]),
  });

  /** Sections later issues define; accepted as maps until then. */
  const reservedSection = z.record(z.string(), z.unknown()).optional();

  const configFileSchema = z.strictObject({
    version: z.literal(1).optional(),
    include: z.array(z.string().min(1)).default([]),
    defaults: z
      .strictObject({
        policy: identifier.default('balanced'),
        require_tenant: z.boolean().default(false),
        on_unknown_tenant: z.enum(['block', 'system_default']).default('block'),
        on_unknown_app: z.enum(['block', 'tenant_default']).default('block'),
      })
      .optional(),
    platform: z.strictObject({ rules: z.array(policyRuleSchema).default([]) }).optional(),
    policies: z.record(identifier, policySchema).default({}),
    tenants: z.record(identifier, tenantSchema).default({}),
    scanner: z
      .strictObject({
        disabled_rules: z.array(z.string()).optional(),
        max_input_length: z.number().int().min(1).optional(),
        oversize: z.enum(['error', 'truncate']).optional(),
      })
      .optional(),
    audit: reservedSection,
    approvals: reservedSection,
    budgets: reservedSection,
    alerts: reservedSection,
    store: reservedSection,
  });

  return { configFileSchema, policySchema, tenantSchema, appSchema };
}

type Schemas = ReturnType<typeof buildSchemas>;
let schemas: Schemas | undefined;

/** The zod schema of a palisade.yaml file (built on first use). */
export function configFileSchema(): Schemas['configFileSchema'] {
  schemas ??= buildSchemas();
  return schemas.configFileSchema;
}

export type ConfigFile = import('zod').infer<Schemas['configFileSchema']>;
export type PolicyDefinition = import('zod').infer<Schemas['policySchema']>;
export type TenantDefinition = import('zod').infer<Schemas['tenantSchema']>;
export type AppDefinition = import('zod').infer<Schemas['appSchema']>;
