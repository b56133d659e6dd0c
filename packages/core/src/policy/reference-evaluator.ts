import { type Detection, type Severity, severities } from '../types.js';
import { type ConditionData, compileCondition } from './compile-condition.js';
import { type Action, actions, type Boundary, type PolicyRuleDefinition } from './types.js';

/**
 * A deliberately naive evaluator, written from the documented semantics (compile-policy.ts,
 * decide.ts) and used only by the differential property tests: no index, no memoisation, no
 * split into families, one loop over every rule. It must stay obviously correct rather than fast.
 * Conditions (`when`) reuse compileCondition: the condition language is tested on its own.
 */

/** A rule in file order; `inherited` rules come from a preset or parent policy. */
export interface ReferenceRule {
  definition: PolicyRuleDefinition;
  inherited: boolean;
}

export interface ReferenceEvent {
  boundary: Boundary;
  tool: string | undefined;
  data: ConditionData;
  detections: readonly Detection[];
}

export interface ReferenceLayerResult {
  action: Action;
  /** The best-ranked rule among those that produced the event's action, if any did. */
  winner: PolicyRuleDefinition | undefined;
  /** Per detection: the effective action of its winning rule, or undefined when the default applied. */
  perDetection: (Action | undefined)[];
}

const rank = (action: Action) => actions.indexOf(action);
const lower = (left: Action, right: Action) => (rank(left) <= rank(right) ? left : right);
const list = <T>(value: T | T[] | undefined): T[] | undefined => (value === undefined ? undefined : Array.isArray(value) ? value : [value]);

function globMatches(glob: string, name: string): boolean {
  const source = [...glob].map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${source.join('')}$`, 's').test(name);
}

function severityMatches(spec: string | string[], severity: Severity): boolean {
  if (Array.isArray(spec)) return spec.includes(severity);
  const [, operator = '=', name] = /^(>=|<=|>|<|=)?\s*(\w+)$/.exec(spec) ?? [];
  const difference = severities.indexOf(severity) - severities.indexOf(name as Severity);
  if (operator === '>=') return difference >= 0;
  if (operator === '>') return difference > 0;
  if (operator === '<=') return difference <= 0;
  if (operator === '<') return difference < 0;
  return difference === 0;
}

/** Whether a rule applies to the event at all (boundary, tool, `when`). */
function appliesToEvent(rule: PolicyRuleDefinition, event: ReferenceEvent): boolean {
  const match = rule.match ?? {};
  if (match.boundary !== undefined && !list(match.boundary)?.includes(event.boundary)) return false;
  if (match.tool !== undefined && (event.tool === undefined || !list(match.tool)?.some((glob) => globMatches(glob, event.tool as string))))
    return false;
  if (match.when !== undefined && !compileCondition(match.when)(event.data)) return false;
  return true;
}

/** Whether a rule has detection targets (it then decides detections, otherwise the event). */
function targetsDetections(rule: PolicyRuleDefinition): boolean {
  const match = rule.match ?? {};
  return [match.family, match.rule_id, match.tags, match.severity, match.min_confidence].some((field) => field !== undefined);
}

function matchesDetection(rule: PolicyRuleDefinition, detection: Detection): boolean {
  const match = rule.match ?? {};
  if (match.family !== undefined && !list(match.family)?.includes(detection.family)) return false;
  if (match.rule_id !== undefined && !list(match.rule_id)?.some((glob) => globMatches(glob, detection.ruleId))) return false;
  if (match.severity !== undefined && !severityMatches(match.severity, detection.severity)) return false;
  if (match.min_confidence !== undefined && detection.confidence < match.min_confidence) return false;
  const tags = match.tags;
  if (tags !== undefined && !tags.some((pattern) => detection.tags.some((tag) => tag === pattern || tag.startsWith(`${pattern}.`))))
    return false;
  return true;
}

/** Own rules outrank inherited ones at equal priority; then the rule with more match fields. */
function specificity(rule: ReferenceRule): number {
  const fields = Object.values(rule.definition.match ?? {}).filter((value) => value !== undefined).length;
  return (rule.inherited ? 0 : 100) + fields;
}

/** Sorts best first: priority, then specificity, then more restrictive action, then file order. */
function bestFirst(rules: readonly ReferenceRule[], all: readonly ReferenceRule[]): ReferenceRule[] {
  return [...rules].sort(
    (a, b) =>
      b.definition.priority - a.definition.priority ||
      specificity(b) - specificity(a) ||
      rank(b.definition.action) - rank(a.definition.action) ||
      all.indexOf(a) - all.indexOf(b),
  );
}

/**
 * One policy layer over one event: the event's action is the most restrictive of the event
 * rules' winner and every detection's outcome. `caps[i]` lowers what detection i can cause
 * (downgrading suppressions); `defaultAction` is what a detection no rule matches causes.
 */
export function referenceEvaluateLayer(
  rules: readonly ReferenceRule[],
  defaultAction: Action,
  event: ReferenceEvent,
  caps: readonly (Action | undefined)[] = [],
): ReferenceLayerResult {
  const outcomes: { action: Action; rule: ReferenceRule | undefined }[] = [];
  const perDetection: (Action | undefined)[] = [];
  // Rules without detection targets decide the event, whether or not it has detections.
  const eventRules = rules.filter((rule) => !targetsDetections(rule.definition) && appliesToEvent(rule.definition, event));
  const eventBest = bestFirst(eventRules, rules)[0];
  if (eventBest) outcomes.push({ action: eventBest.definition.action, rule: eventBest });
  // Rules with detection targets decide each detection; a detection none matches takes the default.
  event.detections.forEach((detection, index) => {
    const matching = rules.filter(
      (rule) =>
        targetsDetections(rule.definition) && appliesToEvent(rule.definition, event) && matchesDetection(rule.definition, detection),
    );
    const best = bestFirst(matching, rules)[0];
    const cap = caps[index];
    const action = best ? best.definition.action : defaultAction;
    const effective = cap === undefined ? action : lower(cap, action);
    perDetection.push(best ? effective : undefined);
    outcomes.push({ action: effective, rule: best });
  });
  const action = outcomes.reduce<Action>((most, outcome) => (rank(outcome.action) > rank(most) ? outcome.action : most), 'allow');
  const deciders = outcomes.filter((outcome) => outcome.action === action).flatMap((outcome) => (outcome.rule ? [outcome.rule] : []));
  return { action, winner: bestFirst(deciders, rules)[0]?.definition, perDetection };
}

/** A tenant suppression: the first whose glob matches a detection's rule id applies. */
export interface ReferenceSuppression {
  rule: string;
  action: 'suppress' | 'flag' | 'log';
}

export interface ReferenceDecision {
  action: Action;
  decidedBy: { layer: 'platform' | 'policy' | 'default'; rule: string };
}

/**
 * The platform layer over every detection, then the effective policy over the detections left
 * after suppressions; the final action is the more restrictive one, and the platform names the
 * deciding rule on a tie when one of its rules matched.
 */
export function referenceDecide(options: {
  platform: readonly PolicyRuleDefinition[];
  policy: readonly ReferenceRule[];
  defaultAction: Action;
  suppressions?: readonly ReferenceSuppression[];
  event: ReferenceEvent;
}): ReferenceDecision {
  const platformRules = options.platform.map((definition) => ({ definition, inherited: false }));
  const platform = referenceEvaluateLayer(platformRules, 'allow', options.event);
  const kept: Detection[] = [];
  const caps: (Action | undefined)[] = [];
  for (const detection of options.event.detections) {
    const suppression = (options.suppressions ?? []).find((item) => globMatches(item.rule, detection.ruleId));
    if (suppression?.action === 'suppress') continue;
    kept.push(detection);
    caps.push(suppression?.action);
  }
  const policy = referenceEvaluateLayer(options.policy, options.defaultAction, { ...options.event, detections: kept }, caps);
  if (rank(platform.action) >= rank(policy.action) && platform.winner)
    return { action: platform.action, decidedBy: { layer: 'platform', rule: platform.winner.name } };
  if (policy.winner) return { action: policy.action, decidedBy: { layer: 'policy', rule: policy.winner.name } };
  return { action: policy.action, decidedBy: { layer: 'default', rule: policy.action === 'allow' ? 'no rule matched' : 'default_action' } };
}
