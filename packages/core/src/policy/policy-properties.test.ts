import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGuard } from '../guard/create-guard.js';
import { createTestScanner } from '../test/index.js';
import type { Detection } from '../types.js';
import { CompiledPolicy, compilePolicyRule, evaluatePolicyLayer } from './compile-policy.js';
import { isPresetName, presets } from './presets.js';
import { type ReferenceEvent, type ReferenceRule, referenceDecide, referenceEvaluateLayer } from './reference-evaluator.js';
import { type Action, actionRank, actions, type Boundary, boundaries, type Decision, type PolicyRuleDefinition } from './types.js';

// Random policies and events over small pools, so that rules, tools, detections and ties collide
// often. PALISADE_PROPERTY_RUNS raises the number of cases per property (default 300).
const numRuns = Number(process.env.PALISADE_PROPERTY_RUNS ?? 300);
const settings = { numRuns };
const timeout = Math.max(30_000, numRuns * 25);

// '' is there on purpose: an empty tool name once shared a cache key with "no tool" (see the
// regression test at the end).
const tools = ['email.send', 'email.read', 'shell.execute', 'db.query', 'fs.write', 'http.get', ''];
const toolGlobs = ['email.*', 'email.send', '*', 'db.?uery', 'shell.execute', 'fs.*', '*.send', 'http.get'];
const detectionFamilies = ['PI', 'JB', 'PII', 'SEC', 'CMD'] as const;
const ruleIds = ['pi-001', 'pi-002', 'jb-001', 'pii-001', 'pii-002', 'sec-001', 'cmd-001'];
const ruleIdGlobs = ['pi-*', 'pii-*', '*-001', 'sec-00?', 'pi-001', 'cmd-001', 'jb-*'];
const tagPool = ['attack.injection.override', 'attack.jailbreak', 'personal.pii.email', 'personal.pii.phone', 'secret.key', 'personality'];
const tagPatterns = ['attack', 'personal', 'personal.pii', 'personal.pii.email', 'secret', 'person', 'attack.jailbreak'];
const severityNames = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
const tenantIds = ['a', 'b'];

const conditions: Record<string, unknown>[] = [
  { 'args.to': { ends_with: '@a.com' } },
  { 'args.to': { not: { ends_with: '@a.com' } } },
  { 'args.n': { gt: 3 } },
  { 'args.n': { lte: 3 } },
  { 'args.sql': { contains: "tenant_id = '${context.tenantId}'" } },
  { not: { 'args.sql': { contains: "tenant_id = '${context.tenantId}'" } } },
  { 'context.tenantId': 'a' },
  { 'context.tenantId': { in: ['b', 'c'] } },
  { 'args.to': { exists: true } },
  { any: [{ 'args.n': { eq: 1 } }, { 'args.to': { matches: '^bob@' } }] },
  { all: [{ 'context.boundary': 'tool_call' }, { 'args.n': { gte: 2 } }] },
];

const oneOrMany = <T>(items: readonly T[]) =>
  fc.oneof(fc.constantFrom(...items), fc.uniqueArray(fc.constantFrom(...items), { minLength: 1, maxLength: 3 }));

const matchArbitrary = fc.record(
  {
    boundary: oneOrMany(boundaries),
    tool: oneOrMany(toolGlobs),
    family: oneOrMany(detectionFamilies),
    severity: fc.oneof(
      fc.constantFrom(...severityNames),
      fc.uniqueArray(fc.constantFrom(...severityNames), { minLength: 1, maxLength: 3 }),
      fc.tuple(fc.constantFrom('>=', '>', '<=', '<', '='), fc.constantFrom(...severityNames)).map(([op, name]) => `${op}${name}`),
    ),
    rule_id: oneOrMany(ruleIdGlobs),
    min_confidence: fc.constantFrom(0, 0.5, 0.85, 0.9),
    tags: fc.uniqueArray(fc.constantFrom(...tagPatterns), { minLength: 1, maxLength: 2 }),
    when: fc.constantFrom(...conditions),
  },
  { requiredKeys: [] },
);

/** A rule without a name; names are given by position so they stay unique. */
const ruleArbitrary = fc.record(
  {
    priority: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 4 }) }, { weight: 1, arbitrary: fc.constant(1000) }),
    action: fc.constantFrom(...actions),
    match: matchArbitrary,
  },
  { requiredKeys: ['priority', 'action'] },
);

const rulesArbitrary = (prefix: string, maxLength = 12) =>
  fc
    .array(ruleArbitrary, { maxLength })
    .map((rules) => rules.map((rule, index) => ({ name: `${prefix}${index}`, ...rule }) as PolicyRuleDefinition));

const detectionArbitrary: fc.Arbitrary<Detection> = fc.record({
  ruleId: fc.constantFrom(...ruleIds),
  family: fc.constantFrom(...detectionFamilies),
  name: fc.constant('test detection'),
  severity: fc.constantFrom(...severityNames),
  confidence: fc.constantFrom(0, 0.3, 0.5, 0.85, 0.9, 1),
  tags: fc.uniqueArray(fc.constantFrom(...tagPool), { maxLength: 2 }),
  span: fc.constant({ start: 0, end: 4 }),
});

const argsArbitrary = fc.record(
  {
    to: fc.oneof(
      fc.constantFrom('bob@a.com', 'eve@evil.example', 'alice@a.com'),
      fc.uniqueArray(fc.constantFrom('bob@a.com', 'eve@evil.example', 'alice@a.com'), { maxLength: 2 }),
    ),
    n: fc.integer({ min: 0, max: 5 }),
    sql: fc.constantFrom("SELECT 1 WHERE tenant_id = 'a'", "SELECT 1 WHERE tenant_id = 'b'", 'SELECT 1'),
  },
  { requiredKeys: [] },
);

interface GeneratedEvent {
  boundary: Boundary;
  tool: string | undefined;
  args: Record<string, unknown> | undefined;
  detections: Detection[];
  tenantId: string;
}

const eventArbitrary: fc.Arbitrary<GeneratedEvent> = fc.record({
  boundary: fc.constantFrom(...boundaries),
  tool: fc.option(fc.constantFrom(...tools), { nil: undefined }),
  args: fc.option(argsArbitrary, { nil: undefined }),
  detections: fc.array(detectionArbitrary, { maxLength: 3 }),
  tenantId: fc.constantFrom(...tenantIds),
});

/** The condition data decide() builds for an event. */
function referenceEvent(event: GeneratedEvent, scope: Record<string, unknown> = { tenantId: event.tenantId }): ReferenceEvent {
  return {
    boundary: event.boundary,
    tool: event.tool,
    data: { args: event.args, result: undefined, context: { ...scope, boundary: event.boundary, tool: event.tool } },
    detections: event.detections,
  };
}

/** A policy as a list of rules: the first `inheritedCount` come from a parent. */
interface GeneratedPolicy {
  rules: PolicyRuleDefinition[];
  inheritedCount: number;
  defaultAction: Action;
}

const policyArbitrary: fc.Arbitrary<GeneratedPolicy> = rulesArbitrary('r').chain((rules) =>
  fc.record({
    rules: fc.constant(rules),
    inheritedCount: fc.integer({ min: 0, max: rules.length }),
    defaultAction: fc.constantFrom<Action>('allow', 'log', 'flag'),
  }),
);

function compile(policy: GeneratedPolicy): CompiledPolicy {
  const rules = policy.rules.map((rule, index) => compilePolicyRule(rule, 'p', index, index < policy.inheritedCount));
  return new CompiledPolicy('p', 'custom', rules, policy.defaultAction, 'block');
}

function layerAction(policy: GeneratedPolicy, event: GeneratedEvent): Action {
  const reference = referenceEvent(event);
  return evaluatePolicyLayer(compile(policy), event.boundary, event.tool, reference.data, event.detections).action;
}

function referenceRules(policy: GeneratedPolicy): ReferenceRule[] {
  return policy.rules.map((definition, index) => ({ definition, inherited: index < policy.inheritedCount }));
}

/** Moves every rule to a position held by a rule of the same priority, as `seeds` dictate. */
function shuffleWithinPriority<T extends { priority: number }>(rules: readonly T[], seeds: readonly number[]): T[] {
  const result = [...rules];
  for (const priority of new Set(rules.map((rule) => rule.priority))) {
    const positions = rules.flatMap((rule, index) => (rule.priority === priority ? [index] : []));
    const members = positions.map((index) => rules[index] as T);
    const shuffled = members
      .map((rule, index) => ({ rule, key: seeds[(positions[index] as number) % Math.max(1, seeds.length)] ?? 0 }))
      .sort((left, right) => left.key - right.key)
      .map(({ rule }) => rule);
    positions.forEach((position, index) => {
      result[position] = shuffled[index] as T;
    });
  }
  return result;
}

describe('policy evaluation properties', () => {
  it(
    'gives the same action whatever the order of rules within a priority level',
    () => {
      fc.assert(
        fc.property(policyArbitrary, fc.array(fc.nat(), { minLength: 1, maxLength: 12 }), eventArbitrary, (policy, seeds, event) => {
          // Inherited and own rules are shuffled separately: moving a rule across them changes its specificity.
          const inherited = shuffleWithinPriority(policy.rules.slice(0, policy.inheritedCount), seeds);
          const own = shuffleWithinPriority(policy.rules.slice(policy.inheritedCount), seeds);
          const reordered = { ...policy, rules: [...inherited, ...own] };
          expect(layerAction(reordered, event)).toBe(layerAction(policy, event));
        }),
        settings,
      );
    },
    timeout,
  );

  it(
    'never becomes less restrictive when a block rule is added',
    () => {
      fc.assert(
        fc.property(policyArbitrary, ruleArbitrary, fc.nat(), eventArbitrary, (policy, added, at, event) => {
          const position = at % (policy.rules.length + 1);
          const rules = [...policy.rules];
          rules.splice(position, 0, { ...added, name: 'added', action: 'block' });
          const bigger = { ...policy, rules, inheritedCount: policy.inheritedCount + (position < policy.inheritedCount ? 1 : 0) };
          const before = layerAction(policy, event);
          const after = layerAction(bigger, event);
          expect(actionRank(after)).toBeGreaterThanOrEqual(actionRank(before));
          if (before === 'block') expect(after).toBe('block');
        }),
        settings,
      );
    },
    timeout,
  );

  it(
    'never turns a block into an allow (or anything less) when an allow rule is removed',
    () => {
      fc.assert(
        fc.property(policyArbitrary, ruleArbitrary, fc.nat(), eventArbitrary, (policy, removed, at, event) => {
          const position = at % (policy.rules.length + 1);
          const rules = [...policy.rules];
          rules.splice(position, 0, { ...removed, name: 'removed', action: 'allow' });
          const withAllow = { ...policy, rules, inheritedCount: policy.inheritedCount + (position < policy.inheritedCount ? 1 : 0) };
          const before = layerAction(withAllow, event);
          const after = layerAction(policy, event);
          expect(actionRank(after)).toBeGreaterThanOrEqual(actionRank(before));
          if (before === 'block') expect(after).toBe('block');
        }),
        settings,
      );
    },
    timeout,
  );

  it(
    'agrees with the reference evaluator on one layer (several events per compiled policy)',
    () => {
      fc.assert(
        fc.property(policyArbitrary, fc.array(eventArbitrary, { minLength: 1, maxLength: 4 }), (policy, events) => {
          // One compiled policy for all events, so its memoised candidate index is exercised.
          const compiled = compile(policy);
          for (const event of events) {
            const reference = referenceEvent(event);
            const indexed = evaluatePolicyLayer(compiled, event.boundary, event.tool, reference.data, event.detections);
            const expected = referenceEvaluateLayer(referenceRules(policy), policy.defaultAction, reference);
            expect({ action: indexed.action, winner: indexed.winner?.name, perDetection: indexed.perDetection }).toEqual({
              action: expected.action,
              winner: expected.winner?.name,
              perDetection: expected.perDetection,
            });
          }
        }),
        settings,
      );
    },
    timeout,
  );

  // Regression (found by the differential property above, seed -291238780, shrunk): the
  // candidate cache once keyed "no tool" and the empty tool name alike, so decisions depended on
  // call order and a platform `tool: '*'` block could be missed.
  it('tells an event without a tool from one with an empty tool name, in either order', () => {
    const policy: GeneratedPolicy = {
      rules: [{ name: 'r0', priority: 0, action: 'block', match: { tool: ['*', 'email.*'] } }],
      inheritedCount: 0,
      defaultAction: 'allow',
    };
    const event = (tool: string | undefined): GeneratedEvent => ({
      boundary: 'input',
      tool,
      args: undefined,
      detections: [],
      tenantId: 'a',
    });
    for (const order of [
      [undefined, ''],
      ['', undefined],
    ]) {
      const compiled = compile(policy);
      for (const tool of order) {
        const reference = referenceEvent(event(tool));
        const indexed = evaluatePolicyLayer(compiled, 'input', tool, reference.data, []);
        expect(indexed.action).toBe(referenceEvaluateLayer(referenceRules(policy), 'allow', reference).action);
      }
    }
  });
});

// ---------- through the guard: platform layer, presets, suppressions, tenants ----------

const scanner = createTestScanner({});

const suppressionArbitrary = fc.record(
  {
    rule: fc.constantFrom('pi-*', 'pii-001', '*-001', 'sec-00?', 'jb-*'),
    reason: fc.constant('known false positive'),
    action: fc.constantFrom('suppress', 'flag', 'log'),
    app: fc.constant('app1'),
    expires: fc.constantFrom('2020-01-01', '2999-01-01'),
  },
  { requiredKeys: ['rule', 'reason', 'action'] },
);

const tenantPolicyArbitrary = fc.record(
  {
    extends: fc.constantFrom('monitor', 'balanced', 'strict'),
    default_action: fc.constantFrom('allow', 'log', 'flag'),
    rules: rulesArbitrary('t', 10),
  },
  { requiredKeys: ['rules'] },
);

type TenantPolicy = { extends?: string; default_action?: 'allow' | 'log' | 'flag'; rules: PolicyRuleDefinition[] };

const scopeArbitrary = fc.record({ appId: fc.constantFrom(undefined, 'app1', 'app2') });

function referencePolicy(policy: TenantPolicy | undefined, presetName: string): { rules: ReferenceRule[]; defaultAction: Action } {
  if (!policy) {
    const own = presets[presetName as keyof typeof presets];
    return { rules: own.map((definition) => ({ definition, inherited: false })), defaultAction: 'log' };
  }
  const inherited = policy.extends && isPresetName(policy.extends) ? presets[policy.extends] : [];
  return {
    rules: [
      ...inherited.map((definition) => ({ definition, inherited: true })),
      ...policy.rules.map((definition) => ({ definition, inherited: false })),
    ],
    defaultAction: policy.default_action ?? 'log',
  };
}

/** A decision without the fields that legitimately differ between two runs or two configurations. */
const comparable = ({ eventId: _eventId, evaluationMs: _evaluationMs, policyVersion: _policyVersion, ...rest }: Decision) => rest;

describe('guard properties', () => {
  it(
    'agrees with the reference evaluator through createGuard (platform, presets, suppressions)',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          rulesArbitrary('platform', 4),
          tenantPolicyArbitrary,
          fc.array(suppressionArbitrary, { maxLength: 3 }),
          fc.array(fc.tuple(eventArbitrary, scopeArbitrary), { minLength: 1, maxLength: 3 }),
          async (platform, policy, suppressions, events) => {
            const guard = createGuard({
              scanner,
              config: {
                platform: { rules: platform },
                policies: { p: policy },
                tenants: {
                  a: { default_policy: 'p', apps: { app1: {}, app2: {} }, suppressions },
                  b: { default_policy: 'strict', apps: { app1: {}, app2: {} } },
                },
              },
            });
            for (const [event, { appId }] of events) {
              const scope = { tenantId: event.tenantId, ...(appId ? { appId } : {}) };
              const decision = await guard.evaluate({
                boundary: event.boundary,
                ...(event.tool !== undefined ? { tool: event.tool } : {}),
                ...(event.args !== undefined ? { args: event.args } : {}),
                detections: event.detections,
                scope,
              });
              const active =
                event.tenantId === 'a'
                  ? suppressions.filter((item) => item.expires !== '2020-01-01' && (!item.app || item.app === appId))
                  : [];
              const effective = referencePolicy(event.tenantId === 'a' ? (policy as TenantPolicy) : undefined, 'strict');
              const expected = referenceDecide({
                platform,
                policy: effective.rules,
                defaultAction: effective.defaultAction,
                suppressions: active,
                event: referenceEvent(event, scope),
              });
              expect({ action: decision.action, decidedBy: { layer: decision.decidedBy.layer, rule: decision.decidedBy.rule } }).toEqual(
                expected,
              );
            }
          },
        ),
        settings,
      );
    },
    timeout,
  );

  it(
    "never lets one tenant's policies, suppressions or default policy change another tenant's decisions",
    async () => {
      const tenantAPart = fc.record({
        policies: fc.record({ 'a-p1': tenantPolicyArbitrary, 'a-p2': tenantPolicyArbitrary }),
        defaultPolicy: fc.constantFrom('a-p1', 'a-p2', 'strict', 'monitor', 'b-p'),
        suppressions: fc.array(suppressionArbitrary, { maxLength: 3 }),
      });
      await fc.assert(
        fc.asyncProperty(
          rulesArbitrary('platform', 3),
          tenantPolicyArbitrary,
          fc.array(suppressionArbitrary, { maxLength: 2 }),
          tenantAPart,
          tenantAPart,
          fc.array(fc.tuple(eventArbitrary, scopeArbitrary), { minLength: 1, maxLength: 3 }),
          async (platform, policyB, suppressionsB, partA1, partA2, events) => {
            const guardWith = (partA: typeof partA1) =>
              createGuard({
                scanner,
                config: {
                  platform: { rules: platform },
                  policies: { 'b-p': policyB, ...partA.policies },
                  tenants: {
                    a: { default_policy: partA.defaultPolicy, apps: { app1: {} }, suppressions: partA.suppressions },
                    b: { default_policy: 'b-p', apps: { app1: {}, app2: {} }, suppressions: suppressionsB },
                  },
                },
              });
            const [first, second] = [guardWith(partA1), guardWith(partA2)];
            for (const [index, [event, { appId }]] of events.entries()) {
              const guardEvent = {
                eventId: `event-${index}`,
                boundary: event.boundary,
                ...(event.tool !== undefined ? { tool: event.tool } : {}),
                ...(event.args !== undefined ? { args: event.args } : {}),
                detections: event.detections,
                scope: { tenantId: 'b', ...(appId ? { appId } : {}) },
              };
              expect(comparable(await second.evaluate(guardEvent))).toEqual(comparable(await first.evaluate(guardEvent)));
            }
          },
        ),
        settings,
      );
    },
    timeout,
  );
});
