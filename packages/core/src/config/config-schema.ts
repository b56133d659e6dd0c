import { createRequire } from 'node:module';
import { actions, boundaries } from '../policy/types.js';
import { families, severities } from '../types.js';
import { parseDuration, parseSize } from './units.js';

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

  const duration = z
    .union([z.string(), z.number()])
    .refine((value) => parseDuration(value) !== undefined, 'expected a duration such as "30s", "15m", "24h" or "7d"')
    .transform((value) => parseDuration(value) as number);
  const size = z
    .union([z.string(), z.number()])
    .refine((value) => parseSize(value) !== undefined, 'expected a size such as "64MB" or a number of bytes')
    .transform((value) => parseSize(value) as number);
  const fraction = z.number().gt(0).max(10);

  const budgetLimitSchema = z.strictObject({
    /** Whom the limit counts: the whole tenant, the app it is written under, or each user. */
    per: z.enum(['tenant', 'app', 'user']).optional(),
    period: z.enum(['day', 'week', 'month']),
    limit_usd: z.number().positive(),
    action: z.enum(['warn', 'soft_block', 'hard_block']).default('hard_block'),
    alert_at: z.array(fraction).min(1).default([0.8, 0.9, 1]),
  });

  const priceSchema = z.strictObject({
    input: z.number().min(0),
    output: z.number().min(0),
    cached_input: z.number().min(0).optional(),
  });

  const storeSchema = z.strictObject({
    kind: z.enum(['sqlite', 'memory']).default('sqlite'),
    path: z.string().min(1).default('.palisade/state.db'),
    /** Seals token-vault values and approval payloads (AES-256-GCM); a key file is made when absent. */
    /** Empty (an unset `${VAR:-}`) means: use the key file. */
    vault_key: z
      .string()
      .optional()
      .transform((value) => (value === '' ? undefined : value)),
    vault_key_file: z.string().min(1).default('.palisade/vault.key'),
  });

  const auditSchema = z.strictObject({
    enabled: z.boolean().default(true),
    directory: z.string().min(1).default('.palisade/audit'),
    fsync: z.enum(['per_receipt', 'batch', 'none']).default('batch'),
    content: z.enum(['hash', 'redacted', 'none']).default('hash'),
    /** Wait for the receipt to be durable before returning the decision. */
    await_durable: z.boolean().default(false),
    on_failure: z.enum(['fail_closed', 'backpressure', 'drop']).default('fail_closed'),
    max_pending: z.number().int().min(1).default(10_000),
    batch: z
      .strictObject({ max_receipts: z.number().int().min(1).default(512), max_delay: duration.default(0) })
      .default({ max_receipts: 512, max_delay: 0 }),
    rotate: z.strictObject({ max_bytes: size.optional(), max_age: duration.optional() }).default({ max_bytes: 64 * 1024 * 1024 }),
    compress: z.boolean().default(true),
    retention: z.strictObject({ max_age: duration.optional(), max_files: z.number().int().min(1).optional() }).default({}),
  });

  const approvalsSchema = z.strictObject({
    timeout: duration.default(15 * 60_000),
    on_timeout: z.enum(['deny', 'allow']).default('deny'),
    required_approvals: z.number().int().min(1).max(10).default(1),
    /** What a ticket shows of the arguments. */
    show_args: z.enum(['redacted', 'full', 'none']).default('redacted'),
  });

  const budgetsSchema = z.strictObject({
    /** USD per million tokens, by model id; overrides and extends the shipped price table. */
    prices: z.record(z.string().min(1), priceSchema).default({}),
    /** Limits for every tenant that has none of its own. */
    default_limits: z.array(budgetLimitSchema).default([]),
    /** Unsettled reservations are released after this long. */
    reservation_ttl: duration.default(10 * 60_000),
    /** Model used for a cost estimate when a call names none. */
    unknown_model: z.enum(['block', 'zero']).default('block'),
  });

  const severity = z.enum(severities);
  const channelSchema = z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('webhook'),
      url: z.url(),
      secret: z.string().min(16, 'the HMAC secret must be at least 16 characters'),
      headers: z.record(z.string(), z.string()).default({}),
    }),
    z.strictObject({ type: z.literal('slack'), webhook_url: z.url() }),
    z.strictObject({ type: z.literal('pagerduty'), routing_key: z.string().min(1), url: z.url().optional() }),
    z.strictObject({
      type: z.literal('opsgenie'),
      api_key: z.string().min(1),
      region: z.enum(['us', 'eu']).default('us'),
      url: z.url().optional(),
    }),
    z.strictObject({
      type: z.literal('email'),
      from: z.string().min(3),
      to: z.array(z.string().min(3)).min(1),
      smtp: z.strictObject({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65_535).default(587),
        secure: z.boolean().default(false),
        user: z.string().optional(),
        password: z.string().optional(),
        /** Refuse to send without STARTTLS. Default true; false only for a local relay. */
        require_tls: z.boolean().default(true),
      }),
    }),
  ]);

  const alertsSchema = z.strictObject({
    channels: z.record(identifier, channelSchema).default({}),
    routes: z
      .array(
        z.strictObject({
          channels: z.array(identifier).min(1),
          events: z.array(z.string().min(1)).optional(),
          min_severity: severity.optional(),
          actions: z.array(z.enum(actions)).optional(),
          tenants: z.array(z.string().min(1)).optional(),
        }),
      )
      .default([]),
    cooldown: duration.default(5 * 60_000),
    retry: z
      .strictObject({
        attempts: z.number().int().min(1).max(20).default(5),
        backoff: duration.default(1000),
        max_backoff: duration.default(60_000),
      })
      .default({ attempts: 5, backoff: 1000, max_backoff: 60_000 }),
    timeout: duration.default(10_000),
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
    budgets: z.array(budgetLimitSchema).default([]),
  });

  const tenantSchema = z.strictObject({
    name: z.string().optional(),
    default_policy: identifier.optional(),
    shadow_policy: identifier.optional(),
    apps: z.record(identifier, appSchema).default({}),
    suppressions: z.array(suppressionSchema).default([]),
    budgets: z.array(budgetLimitSchema).default([]),
  });

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
    audit: auditSchema.optional(),
    approvals: approvalsSchema.optional(),
    budgets: budgetsSchema.optional(),
    alerts: alertsSchema.optional(),
    store: storeSchema.optional(),
  });

  return {
    configFileSchema,
    policySchema,
    tenantSchema,
    appSchema,
    auditSchema,
    approvalsSchema,
    budgetsSchema,
    alertsSchema,
    storeSchema,
    channelSchema,
    budgetLimitSchema,
  };
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
/** Sections after validation: durations in milliseconds, sizes in bytes, defaults filled in. */
export type AuditConfig = import('zod').output<Schemas['auditSchema']>;
export type ApprovalsConfig = import('zod').output<Schemas['approvalsSchema']>;
export type BudgetsConfig = import('zod').output<Schemas['budgetsSchema']>;
export type BudgetLimitConfig = import('zod').output<Schemas['budgetLimitSchema']>;
export type AlertsConfig = import('zod').output<Schemas['alertsSchema']>;
export type AlertChannelConfig = import('zod').output<Schemas['channelSchema']>;
export type StoreConfig = import('zod').output<Schemas['storeSchema']>;

/** Parses one section on its own (defaults filled in), for code that builds state without a config file. */
export function parseSection<K extends 'audit' | 'approvals' | 'budgets' | 'alerts' | 'store'>(
  section: K,
  value: unknown,
): import('zod').output<Schemas[`${K}Schema`]> {
  schemas ??= buildSchemas();
  return (schemas[`${section}Schema`] as import('zod').ZodType).parse(value ?? {}) as never;
}
