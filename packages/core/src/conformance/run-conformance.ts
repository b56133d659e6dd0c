/**
 * The policy conformance corpus: YAML cases (policy, scope, event -> expected decision) under
 * `packages/core/conformance/`, loaded and checked by one runner that core and every adapter
 * reuse. An adapter passes its own `evaluate`, which routes the event through its framework and
 * returns the core decision; core uses `evaluateWithGuard`.
 *
 * A corpus file is a map with `cases` (a list) and optionally `description` and `definitions`
 * (ignored by the loader: a place for YAML anchors that cases share, `config: *acme`).
 * One case:
 *
 * ```yaml
 * - name: blocks a shell call for every tenant       # unique within the file
 *   note: why the expected decision is right          # optional, for the reader
 *   skip: the engine does X; the spec asks for Y      # optional: reported, not run
 *   config: { platform: { rules: [...] } }            # palisade.yaml content (default {})
 *   now: "2030-01-01T00:00:00Z"                       # optional ISO time (suppression expiry)
 *   event:
 *     boundary: tool_call                             # input | output | tool_call | tool_result
 *     text: ...                                       # prompt or model text
 *     tool: shell.execute
 *     args: { command: ls }                           # tool arguments
 *     result: ...                                     # tool result
 *     scope: { tenantId: acme, appId: chatbot, userId: u1, sessionId: s1, policyId: strict }
 *     detections:                                     # given: the scanner does not run
 *       - { ruleId: pi-001, family: PI, severity: HIGH, confidence: 0.9, tags: [attack.injection], span: [0, 10] }
 *   expect:                                           # only the fields named are compared
 *     action: block
 *     resolutionSource: app                           # request | app | tenant | system_default
 *     effectivePolicyId: strict
 *     effectivePolicyMode: strict
 *     decidedBy: { layer: platform, policyId: platform, rule: no shell, priority: 1000 }  # partial
 *     flags: [tenant_not_found]                       # exact list
 *     suppressed: [pi-001]                            # rule ids of suppressedDetections, in order
 *     detections: [pii-001]                           # rule ids of the detections kept, in order
 *     reason: approval                                # substring of the reason
 *     shadow: { policyId: balanced, action: flag, differs: true }  # partial; null: no shadow
 *     redactedText: "mail [REDACTED:EMAIL]"
 *     redactedArgs: { to: "[REDACTED:EMAIL]" }
 * ```
 *
 * A detection's `confidence` defaults to 0.9, `tags` to [], `span` to [0, 0] (also written
 * `{ start, end }`), `name` to the rule id. Without `detections` the guard's real scanner runs.
 * A case whose configuration must be refused expects `error: { code: INVALID_CONFIG, message:
 * <regex source> }` instead (its `event` may be omitted).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { keyPosition } from '../config/yaml-position.js';
import { createGuard, type Guard } from '../guard/create-guard.js';
import type { GuardEvent } from '../guard/decide.js';
import { actions, boundaries, type Decision } from '../policy/types.js';
import { createScanner, type Scanner } from '../scanner/create-scanner.js';
import { type Detection, families, severities } from '../types.js';

/** The corpus shipped with @palisade/core (works from src and from dist). */
export const conformanceDirectory = fileURLToPath(new URL('../../conformance/', import.meta.url));

const detectionSchema = z.strictObject({
  ruleId: z.string().min(1),
  family: z.enum(families),
  severity: z.enum(severities),
  confidence: z.number().min(0).max(1).default(0.9),
  tags: z.array(z.string().min(1)).default([]),
  span: z
    .union([
      z.tuple([z.number().int().min(0), z.number().int().min(0)]),
      z.strictObject({ start: z.number().int().min(0), end: z.number().int().min(0) }),
    ])
    .default([0, 0]),
  name: z.string().optional(),
  path: z.string().optional(),
});

const scopeSchema = z.strictObject({
  tenantId: z.string().optional(),
  appId: z.string().optional(),
  userId: z.string().optional(),
  sessionId: z.string().optional(),
  policyId: z.string().optional(),
});

const eventSchema = z.strictObject({
  boundary: z.enum(boundaries),
  text: z.string().optional(),
  tool: z.string().optional(),
  args: z.unknown().optional(),
  result: z.unknown().optional(),
  scope: scopeSchema.optional(),
  detections: z.array(detectionSchema).optional(),
});

const decidingRuleSchema = z.strictObject({
  layer: z.enum(['platform', 'policy', 'default', 'resolution', 'error']).optional(),
  policyId: z.string().optional(),
  rule: z.string().optional(),
  priority: z.number().optional(),
});

const expectationSchema = z.strictObject({
  action: z.enum(actions).optional(),
  resolutionSource: z.enum(['request', 'app', 'tenant', 'system_default']).optional(),
  effectivePolicyId: z.string().optional(),
  effectivePolicyMode: z.enum(['monitor', 'balanced', 'strict', 'custom']).optional(),
  decidedBy: decidingRuleSchema.optional(),
  flags: z.array(z.string()).optional(),
  suppressed: z.array(z.string()).optional(),
  detections: z.array(z.string()).optional(),
  reason: z.string().optional(),
  shadow: z
    .strictObject({
      policyId: z.string().optional(),
      action: z.enum(actions).optional(),
      differs: z.boolean().optional(),
      decidedBy: decidingRuleSchema.optional(),
    })
    .nullable()
    .optional(),
  redactedText: z.string().optional(),
  redactedArgs: z.unknown().optional(),
  error: z
    .strictObject({
      code: z.string().min(1),
      message: z.string().optional(),
    })
    .optional(),
});

const nothingToCheck = 'expect names nothing to check';

const caseSchema = z
  .strictObject({
    name: z.string().min(1),
    note: z.string().optional(),
    skip: z.string().min(1, 'say why the case is skipped').optional(),
    config: z.record(z.string(), z.unknown()).optional(),
    now: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
    event: eventSchema.optional(),
    expect: expectationSchema.refine((value) => Object.keys(value).length > 0, nothingToCheck),
  })
  .superRefine((value, context) => {
    if (value.expect.error && Object.keys(value.expect).length > 1) {
      context.addIssue({ code: 'custom', path: ['expect'], message: 'a case that expects an error expects nothing else' });
    }
    if (!value.expect.error && !value.event) {
      context.addIssue({ code: 'custom', path: ['event'], message: 'event is required (only error cases may omit it)' });
    }
    if (value.expect.error?.message !== undefined) {
      try {
        new RegExp(value.expect.error.message);
      } catch (error) {
        context.addIssue({ code: 'custom', path: ['expect', 'error', 'message'], message: (error as Error).message });
      }
    }
  });

const fileSchema = z.strictObject({
  description: z.string().optional(),
  definitions: z.unknown().optional(),
  cases: z.array(z.unknown()).min(1, 'a corpus file needs at least one case'),
});

export type ConformanceExpectation = z.infer<typeof expectationSchema>;

/** One case of the corpus, as loaded. */
export interface ConformanceCase {
  /** The corpus file's name (`operators.yaml`). */
  file: string;
  /** Line of the case in its file. */
  line: number;
  name: string;
  note?: string;
  /** Why the case is not run (the engine disagrees with the spec); undefined for cases that run. */
  skip?: string;
  /** palisade.yaml content. Cases that share a YAML anchor share this object (and one guard). */
  config: Record<string, unknown>;
  /** Epoch milliseconds, when the case fixes the clock. */
  now?: number;
  /** Absent only for cases that expect an error. */
  event?: GuardEvent;
  expect: ConformanceExpectation;
}

/** What `runConformanceCase` asks an adapter to do: decide one event under one configuration. */
export interface ConformanceEvaluateOptions {
  config: Record<string, unknown>;
  event: GuardEvent;
  /** Epoch milliseconds to use as the clock, or undefined for the real one. */
  now: number | undefined;
}

export type ConformanceEvaluate = (options: ConformanceEvaluateOptions) => Promise<Decision>;

export type ConformanceResult = { ok: true; skipped?: string } | { ok: false; mismatches: string[]; decision?: Decision };

const emptyConfig: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/**
 * Loads every `*.yaml` file of a corpus directory, sorted by name, and validates each case.
 * Throws an Error naming the file, line and case of every problem found.
 *
 * @example
 * const cases = loadConformanceCases();
 * cases.filter((testCase) => testCase.file === 'operators.yaml').length; // > 0
 */
export function loadConformanceCases(directory: string = conformanceDirectory): ConformanceCase[] {
  const names = readdirSync(directory)
    .filter((name) => name.endsWith('.yaml'))
    .sort();
  const problems: string[] = [];
  const cases: ConformanceCase[] = [];
  for (const file of names) {
    cases.push(...parseConformanceFile(file, readFileSync(join(directory, file), 'utf8'), problems));
  }
  if (problems.length > 0) {
    throw new Error(
      `Invalid conformance corpus in ${directory} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${problems.join('\n  ')}`,
    );
  }
  return cases;
}

/** Parses one corpus file's text; problems are pushed to `problems` as `file:line: ...` lines. */
export function parseConformanceFile(file: string, text: string, problems: string[]): ConformanceCase[] {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    for (const error of document.errors) {
      const at = lineCounter.linePos(error.pos[0]);
      problems.push(`${file}:${at.line}:${at.col}: ${error.message}`);
    }
    return [];
  }
  const lineOf = (path: (string | number)[]): number => {
    for (let length = path.length; length >= 0; length--) {
      const node = document.getIn(path.slice(0, length), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return 1;
  };
  const issueLine = (path: (string | number)[], issue: z.core.$ZodIssue): number => {
    if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) {
      const key = keyPosition(document, [...path, issue.keys[0]]);
      if (key !== undefined) return lineCounter.linePos(key).line;
    }
    return lineOf(path);
  };
  const data: unknown = document.toJS({ maxAliasCount: 10_000 });
  const parsedFile = fileSchema.safeParse(data);
  if (!parsedFile.success) {
    for (const issue of parsedFile.error.issues) {
      const path = issue.path.filter((part): part is string | number => typeof part !== 'symbol');
      problems.push(`${file}:${issueLine(path, issue)}: ${describePath(path, issue)}`);
    }
    return [];
  }
  const cases: ConformanceCase[] = [];
  const seen = new Map<string, number>();
  parsedFile.data.cases.forEach((raw, index) => {
    const line = lineOf(['cases', index]);
    const rawName = (raw as { name?: unknown } | null)?.name;
    const label = `case ${index + 1}${typeof rawName === 'string' ? ` "${rawName}"` : ''}`;
    const parsed = caseSchema.safeParse(raw);
    if (!parsed.success) {
      const unknownKeys = parsed.error.issues.some((issue) => issue.code === 'unrecognized_keys');
      for (const issue of parsed.error.issues) {
        // An unknown key explains an empty expectation; say it once.
        if (unknownKeys && issue.code === 'custom' && issue.message === nothingToCheck) continue;
        const path = issue.path.filter((part): part is string | number => typeof part !== 'symbol');
        problems.push(`${file}:${issueLine(['cases', index, ...path], issue)}: ${label}: ${describePath(path, issue)}`);
      }
      return;
    }
    const value = parsed.data;
    const previous = seen.get(value.name);
    if (previous !== undefined) {
      problems.push(`${file}:${line}: ${label}: the name is also used by the case on line ${previous}; names must be unique in a file`);
      return;
    }
    seen.set(value.name, line);
    // The raw config object (not zod's copy), so cases sharing an anchor share one object.
    const config = ((raw as { config?: Record<string, unknown> }).config ?? emptyConfig) as Record<string, unknown>;
    cases.push({
      file,
      line,
      name: value.name,
      ...(value.note !== undefined ? { note: value.note } : {}),
      ...(value.skip !== undefined ? { skip: value.skip } : {}),
      config,
      ...(value.now !== undefined ? { now: Date.parse(value.now) } : {}),
      ...(value.event !== undefined ? { event: toGuardEvent(value.event) } : {}),
      expect: value.expect,
    });
  });
  return cases;
}

function describePath(path: (string | number)[], issue: z.core.$ZodIssue): string {
  const where = path.length > 0 ? `${path.join('.')}: ` : '';
  if (issue.code === 'unrecognized_keys') return `${where}unknown key "${issue.keys.join('", "')}"`;
  return `${where}${issue.message}`;
}

function toGuardEvent(event: z.infer<typeof eventSchema>): GuardEvent {
  const { detections, ...rest } = event;
  return {
    ...rest,
    ...(detections !== undefined
      ? {
          detections: detections.map(
            (detection): Detection => ({
              ruleId: detection.ruleId,
              family: detection.family,
              name: detection.name ?? detection.ruleId,
              severity: detection.severity,
              confidence: detection.confidence,
              tags: detection.tags,
              span: Array.isArray(detection.span) ? { start: detection.span[0], end: detection.span[1] } : detection.span,
              ...(detection.path !== undefined ? { path: detection.path } : {}),
            }),
          ),
        }
      : {}),
  };
}

export interface RunConformanceCaseOptions {
  /** Run a case even if it is marked `skip` (to see whether it still fails). */
  includeSkipped?: boolean;
}

/**
 * Runs one case through `evaluate` and compares only the fields its `expect` names.
 *
 * @example
 * for (const testCase of loadConformanceCases()) {
 *   const result = await runConformanceCase(testCase, evaluateWithGuard);
 *   if (!result.ok) report(testCase.file, testCase.name, result.mismatches);
 * }
 */
export async function runConformanceCase(
  testCase: ConformanceCase,
  evaluate: ConformanceEvaluate,
  options: RunConformanceCaseOptions = {},
): Promise<ConformanceResult> {
  if (testCase.skip !== undefined && !options.includeSkipped) return { ok: true, skipped: testCase.skip };
  const expected = testCase.expect;
  const event = testCase.event ?? { boundary: 'input', text: 'hello' };
  let decision: Decision;
  try {
    decision = await evaluate({ config: testCase.config, event, now: testCase.now });
  } catch (error) {
    if (!expected.error) return { ok: false, mismatches: [`evaluate threw: ${describeError(error)}`] };
    const mismatches: string[] = [];
    const code = (error as { code?: unknown } | null)?.code;
    if (code !== expected.error.code)
      mismatches.push(`error.code: expected ${JSON.stringify(expected.error.code)}, got ${JSON.stringify(code)}`);
    const message = error instanceof Error ? error.message : String(error);
    if (expected.error.message !== undefined && !new RegExp(expected.error.message).test(message)) {
      mismatches.push(`error.message: expected to match /${expected.error.message}/, got ${JSON.stringify(message)}`);
    }
    return mismatches.length === 0 ? { ok: true } : { ok: false, mismatches };
  }
  if (expected.error) {
    return { ok: false, mismatches: [`expected error ${expected.error.code}, got a decision: ${decision.action}`], decision };
  }

  const mismatches: string[] = [];
  const same = (field: string, want: unknown, got: unknown) => {
    if (want !== undefined && !deepEqual(want, got)) mismatches.push(`${field}: expected ${show(want)}, got ${show(got)}`);
  };
  same('action', expected.action, decision.action);
  same('resolutionSource', expected.resolutionSource, decision.resolutionSource);
  same('effectivePolicyId', expected.effectivePolicyId, decision.effectivePolicyId);
  same('effectivePolicyMode', expected.effectivePolicyMode, decision.effectivePolicyMode);
  if (expected.decidedBy) partial('decidedBy', expected.decidedBy, decision.decidedBy, mismatches);
  same('flags', expected.flags, decision.flags);
  same(
    'suppressed',
    expected.suppressed,
    decision.suppressedDetections.map((item) => item.detection.ruleId),
  );
  same(
    'detections',
    expected.detections,
    decision.detections.map((detection) => detection.ruleId),
  );
  if (expected.reason !== undefined && !decision.reason.includes(expected.reason)) {
    mismatches.push(`reason: expected to contain ${show(expected.reason)}, got ${show(decision.reason)}`);
  }
  if (expected.shadow === null) {
    if (decision.shadow !== undefined) mismatches.push(`shadow: expected none, got ${show(decision.shadow)}`);
  } else if (expected.shadow !== undefined) {
    if (decision.shadow === undefined) mismatches.push(`shadow: expected ${show(expected.shadow)}, got none`);
    else partial('shadow', expected.shadow, decision.shadow, mismatches);
  }
  same('redactedText', expected.redactedText, decision.redactedText);
  if ('redactedArgs' in expected) same('redactedArgs', expected.redactedArgs, decision.redactedArgs);
  return mismatches.length === 0 ? { ok: true } : { ok: false, mismatches, decision };
}

/** Compares the keys `want` names (recursively for objects) with `got`. */
function partial(field: string, want: Record<string, unknown>, got: unknown, mismatches: string[]): void {
  for (const [key, value] of Object.entries(want)) {
    if (value === undefined) continue;
    const actual = got !== null && typeof got === 'object' ? (got as Record<string, unknown>)[key] : undefined;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      partial(`${field}.${key}`, value as Record<string, unknown>, actual, mismatches);
    } else if (!deepEqual(value, actual)) {
      mismatches.push(`${field}.${key}: expected ${show(value)}, got ${show(actual)}`);
    }
  }
}

function deepEqual(left: unknown, right: unknown): boolean {
  if (Object.is(left, right)) return true;
  if (typeof left !== 'object' || typeof right !== 'object' || left === null || right === null) return false;
  if (Array.isArray(left) !== Array.isArray(right)) return false;
  if (Array.isArray(left) && Array.isArray(right)) {
    return left.length === right.length && left.every((item, index) => deepEqual(item, right[index]));
  }
  const leftKeys = Object.keys(left).filter((key) => (left as Record<string, unknown>)[key] !== undefined);
  const rightKeys = Object.keys(right).filter((key) => (right as Record<string, unknown>)[key] !== undefined);
  return (
    leftKeys.length === rightKeys.length &&
    leftKeys.every((key) => deepEqual((left as Record<string, unknown>)[key], (right as Record<string, unknown>)[key]))
  );
}

const show = (value: unknown): string => (value === undefined ? 'undefined' : JSON.stringify(value));

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

let sharedScanner: Scanner | undefined;
const guards = new WeakMap<object, Map<string, Guard>>();

/**
 * The default `evaluate`: a guard from `createGuard({ config, now })`, cached per configuration
 * object and clock. Configurations without a `scanner:` section share one scanner over the
 * shipped rule packs.
 *
 * @example
 * const result = await runConformanceCase(testCase, evaluateWithGuard);
 */
export const evaluateWithGuard: ConformanceEvaluate = async ({ config, event, now }) => {
  let byClock = guards.get(config);
  if (!byClock) {
    byClock = new Map();
    guards.set(config, byClock);
  }
  const clock = now === undefined ? 'real' : String(now);
  let guard = byClock.get(clock);
  if (!guard) {
    // Building a scanner is the costly part of a guard; configurations that do not tune it share one.
    if (config.scanner === undefined && sharedScanner === undefined) sharedScanner = createScanner();
    const scanner = config.scanner === undefined ? sharedScanner : undefined;
    guard = createGuard({
      config,
      ...(now !== undefined ? { now: () => now } : {}),
      ...(scanner ? { scanner } : {}),
    });
    byClock.set(clock, guard);
  }
  return guard.evaluate(event);
};
