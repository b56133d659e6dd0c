import { createRequire } from 'node:module';
import { families, severities } from '../types.js';

// zod is loaded on first use: the shipped packs are validated at build time and load from a
// cache, so a scanner on the default packs never pays for zod's import (cold start).
const require = createRequire(import.meta.url);

function buildSchemas() {
  const { z } = require('zod') as typeof import('zod');

  const validatorSchema = z.union(
    [
      z.enum(['luhn', 'iban']),
      z.strictObject({ entropy: z.number().min(0).max(8) }),
      z.strictObject({
        context: z.strictObject({
          words: z.array(z.string().min(1)).min(1),
          window: z.number().int().min(1).max(500).default(40),
        }),
      }),
    ],
    { error: 'expected a validator: luhn, iban, { entropy: <bits> } or { context: { words: [...], window: <chars> } }' },
  );

  const ruleSchema = z
    .strictObject({
      id: z.string().regex(/^[a-z]+-\d{3}$/, 'expected <family>-<three digits>, e.g. pi-001'),
      name: z.string().min(3),
      description: z.string().min(10),
      severity: z.enum(severities),
      confidence: z.number().min(0).max(1),
      tags: z.array(z.string().regex(/^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/, 'expected dot-separated lower-case words')).min(1),
      view: z.enum(['words', 'text']).optional(),
      flags: z
        .string()
        .regex(/^[im]{0,2}$/, 'only the flags i and m are allowed')
        .optional(),
      keywords: z.array(z.string().min(1)).min(1).optional(),
      patterns: z.array(z.string().min(1)).min(1).optional(),
      reach: z
        .union([z.number().int().min(16).max(1_000_000), z.literal('all')], {
          error: 'expected a number of characters (16 or more) or "all"',
        })
        .optional(),
      detector: z.string().min(1).optional(),
      validators: z.array(validatorSchema).optional(),
      examples: z.strictObject({
        should_match: z.array(z.string().min(1)).min(2),
        should_not_match: z.array(z.string().min(1)).min(2),
      }),
    })
    .refine((rule) => (rule.patterns === undefined) !== (rule.detector === undefined), {
      message: 'a rule has either `patterns` or `detector`, not both and not neither',
    });

  const rulePackSchema = z.strictObject({
    family: z.enum(families),
    rules: z.array(ruleSchema).min(1),
  });
  return { ruleSchema, rulePackSchema };
}

let schemas: ReturnType<typeof buildSchemas> | undefined;

/** The zod schema of a rule pack file. */
export function rulePackSchema(): ReturnType<typeof buildSchemas>['rulePackSchema'] {
  schemas ??= buildSchemas();
  return schemas.rulePackSchema;
}

type Schemas = ReturnType<typeof buildSchemas>;
export type RuleDefinition = import('zod').infer<Schemas['ruleSchema']>;
export type RulePackDefinition = import('zod').infer<Schemas['rulePackSchema']>;
