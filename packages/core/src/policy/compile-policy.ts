import { type Detection, type Family, type Severity, severityRank } from '../types.js';
import { type ConditionData, compileCondition, type Predicate } from './compile-condition.js';
import { matchesAnyGlob } from './glob.js';
import type { Action, Boundary, PolicyMode, PolicyRuleDefinition, RuleMatchDefinition } from './types.js';
import { actionRank, boundaries } from './types.js';

/** A policy rule ready to evaluate. */
export interface CompiledPolicyRule {
  name: string;
  priority: number;
  action: Action;
  reason: string;
  policyId: string;
  /** Position in the policy after inheritance: inherited rules first, then the policy's own. */
  order: number;
  /** Tie-break after priority: the policy's own rules outrank inherited ones, then more match fields. */
  specificity: number;
  boundaries: ReadonlySet<Boundary> | undefined;
  tools: readonly string[] | undefined;
  families: ReadonlySet<Family> | undefined;
  /** The rule ids it names, when all are exact (no glob): an index key. */
  exactRuleIds: readonly string[] | undefined;
  when: Predicate | undefined;
  /** Rules with detection targets decide per detection; the others decide the event. */
  targetsDetections: boolean;
  detectionMatch: (detection: Detection) => boolean;
}

interface Candidates {
  eventRules: CompiledPolicyRule[];
  /** Detection rules of no family and no exact rule ids: tried on every detection. */
  detectionRules: CompiledPolicyRule[];
  /** Detection rules by family. */
  byFamily: Map<Family, CompiledPolicyRule[]>;
  /** Detection rules of no family that name exact rule ids (no globs), by id. */
  byRuleId: Map<string, CompiledPolicyRule[]>;
}

/** A policy (its own rules plus every rule it inherits), indexed by boundary, tool and family. */
export class CompiledPolicy {
  private readonly byBoundary: Record<Boundary, CompiledPolicyRule[]>;
  private readonly candidateCache = new Map<string, Candidates>();

  constructor(
    readonly id: string,
    readonly mode: PolicyMode,
    readonly rules: readonly CompiledPolicyRule[],
    readonly defaultAction: Action,
    readonly onError: 'block' | 'allow',
  ) {
    this.byBoundary = Object.fromEntries(
      boundaries.map((boundary) => [boundary, rules.filter((rule) => !rule.boundaries || rule.boundaries.has(boundary))]),
    ) as Record<Boundary, CompiledPolicyRule[]>;
  }

  /** The rules that can apply to an event at this boundary and tool (memoised per pair). */
  candidates(boundary: Boundary, tool: string | undefined): Candidates {
    // "No tool" and the empty tool name are different keys: a rule with `tool:` never matches the former.
    const key = tool === undefined ? boundary : `${boundary}\u0000${tool}`;
    let entry = this.candidateCache.get(key);
    if (!entry) {
      const rules = this.byBoundary[boundary].filter((rule) => !rule.tools || (tool !== undefined && matchesAnyGlob(rule.tools, tool)));
      const detectionRules = rules.filter((rule) => rule.targetsDetections);
      const byFamily = new Map<Family, CompiledPolicyRule[]>();
      for (const rule of detectionRules) {
        for (const family of rule.families ?? []) {
          const list = byFamily.get(family) ?? [];
          list.push(rule);
          byFamily.set(family, list);
        }
      }
      // Rules of no family that name exact rule ids are indexed by id; the rest of the
      // family-less rules are tried on every detection. (Iteration order does not matter:
      // `outranks` breaks every tie, file order last.)
      const byRuleId = new Map<string, CompiledPolicyRule[]>();
      const anyFamily: CompiledPolicyRule[] = [];
      for (const rule of detectionRules) {
        if (rule.families) continue;
        if (rule.exactRuleIds) {
          for (const id of rule.exactRuleIds) {
            const list = byRuleId.get(id) ?? [];
            list.push(rule);
            byRuleId.set(id, list);
          }
        } else {
          anyFamily.push(rule);
        }
      }
      entry = { eventRules: rules.filter((rule) => !rule.targetsDetections), detectionRules: anyFamily, byFamily, byRuleId };
      if (this.candidateCache.size >= 4096) this.candidateCache.clear();
      this.candidateCache.set(key, entry);
    }
    return entry;
  }
}

/** Better of two matching rules: higher priority, then more specific, then more restrictive, then earlier. */
export function outranks(left: CompiledPolicyRule, right: CompiledPolicyRule): boolean {
  if (left.priority !== right.priority) return left.priority > right.priority;
  if (left.specificity !== right.specificity) return left.specificity > right.specificity;
  const rank = actionRank(left.action) - actionRank(right.action);
  if (rank !== 0) return rank > 0;
  return left.order < right.order;
}

const asList = <T>(value: T | T[] | undefined): T[] | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value];

/** A rule definition that cannot be compiled; `path` is relative to the rule. */
export class RuleCompileError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

function severityTest(spec: RuleMatchDefinition['severity']): ((severity: Severity) => boolean) | undefined {
  if (spec === undefined) return undefined;
  if (Array.isArray(spec)) {
    const allowed = new Set(spec);
    return (severity) => allowed.has(severity);
  }
  const match = /^(>=|<=|>|<|=)?\s*(LOW|MEDIUM|HIGH|CRITICAL)$/.exec(spec);
  if (!match)
    throw new RuleCompileError('match.severity', `expected a severity, a list of them, or a threshold such as ">=HIGH"; got "${spec}"`);
  const limit = severityRank(match[2] as Severity);
  switch (match[1]) {
    case '>=':
      return (severity) => severityRank(severity) >= limit;
    case '>':
      return (severity) => severityRank(severity) > limit;
    case '<=':
      return (severity) => severityRank(severity) <= limit;
    case '<':
      return (severity) => severityRank(severity) < limit;
    default:
      return (severity) => severityRank(severity) === limit;
  }
}

/** Hierarchical tags: `personal` matches `personal.pii.email`, not `personality`. */
export function tagMatches(pattern: string, tag: string): boolean {
  return tag === pattern || tag.startsWith(`${pattern}.`);
}

/**
 * Compiles one rule. `inherited` rules come from a preset or parent policy; `order` is the
 * rule's position for the file-order tie-break.
 */
export function compilePolicyRule(
  definition: PolicyRuleDefinition,
  policyId: string,
  order: number,
  inherited: boolean,
): CompiledPolicyRule {
  const match = definition.match ?? {};
  const families = asList(match.family);
  const ruleIds = asList(match.rule_id);
  const tags = match.tags;
  const severity = severityTest(match.severity);
  const minimumConfidence = match.min_confidence;
  let when: Predicate | undefined;
  if (match.when !== undefined) {
    try {
      when = compileCondition(match.when, 'match.when');
    } catch (error) {
      throw new RuleCompileError((error as { path?: string }).path ?? 'match.when', (error as Error).message);
    }
  }
  const targetsDetections =
    families !== undefined || ruleIds !== undefined || tags !== undefined || severity !== undefined || minimumConfidence !== undefined;
  const familySet = families ? new Set(families) : undefined;
  const detectionMatch = (detection: Detection): boolean =>
    (!familySet || familySet.has(detection.family)) &&
    (!ruleIds || matchesAnyGlob(ruleIds, detection.ruleId)) &&
    (!severity || severity(detection.severity)) &&
    (minimumConfidence === undefined || detection.confidence >= minimumConfidence) &&
    (!tags || tags.some((pattern) => detection.tags.some((tag) => tagMatches(pattern, tag))));
  const fields = [
    match.boundary,
    match.tool,
    match.family,
    match.severity,
    match.rule_id,
    match.min_confidence,
    match.tags,
    match.when,
  ].filter((field) => field !== undefined).length;
  return {
    name: definition.name,
    priority: definition.priority,
    action: definition.action,
    reason: definition.reason ?? definition.name,
    policyId,
    order,
    specificity: (inherited ? 0 : 100) + fields,
    boundaries: match.boundary ? new Set(asList(match.boundary)) : undefined,
    tools: asList(match.tool),
    families: familySet,
    exactRuleIds: ruleIds?.every((id) => !id.includes('*') && !id.includes('?')) ? ruleIds : undefined,
    when,
    targetsDetections,
    detectionMatch,
  };
}

/** Evaluation of one policy layer over an event. */
export interface LayerResult {
  action: Action;
  /** The winning rule of the most restrictive outcome, or undefined when no rule matched. */
  winner: CompiledPolicyRule | undefined;
  /** Per detection (same order as given): the action its winning rule asked for, or undefined. */
  perDetection: (Action | undefined)[];
  matched: { rule: CompiledPolicyRule; action: Action; detection?: Detection }[];
}

/**
 * Evaluates a policy over an event. Per detection, the best detection rule that matches it wins
 * (highest priority, then more specific, then more restrictive, then earlier); for the event, the
 * best rule without detection targets wins. The event's action is the most restrictive of all
 * winners. A detection no rule matches takes the policy's default action. `caps[i]` lowers the
 * action detection i can cause (downgrading suppressions).
 */
export function evaluatePolicyLayer(
  policy: CompiledPolicy,
  boundary: Boundary,
  tool: string | undefined,
  data: ConditionData,
  detections: readonly Detection[],
  caps?: readonly (Action | undefined)[],
): LayerResult {
  const candidates = policy.candidates(boundary, tool);
  const whenCache = new Map<CompiledPolicyRule, boolean>();
  const applies = (rule: CompiledPolicyRule): boolean => {
    if (!rule.when) return true;
    let result = whenCache.get(rule);
    if (result === undefined) {
      result = rule.when(data);
      whenCache.set(rule, result);
    }
    return result;
  };
  const matched: LayerResult['matched'] = [];
  let action: Action = 'allow';
  let winner: CompiledPolicyRule | undefined;
  const consider = (rule: CompiledPolicyRule, effective: Action) => {
    if (
      actionRank(effective) > actionRank(action) ||
      (effective === action && winner !== undefined && outranks(rule, winner)) ||
      (winner === undefined && effective === action)
    ) {
      action = effective;
      winner = rule;
    }
  };

  // Event rules (no detection targets) decide the event; detection rules decide each detection;
  // the event takes the most restrictive of all (a detection never relaxes what the event's own
  // rules decided, and an event rule never relaxes a detection).
  let eventWinner: CompiledPolicyRule | undefined;
  for (const rule of candidates.eventRules) {
    if (!applies(rule)) continue;
    matched.push({ rule, action: rule.action });
    if (!eventWinner || outranks(rule, eventWinner)) eventWinner = rule;
  }
  if (eventWinner) consider(eventWinner, eventWinner.action);

  const perDetection: (Action | undefined)[] = [];
  detections.forEach((detection, index) => {
    let best: CompiledPolicyRule | undefined;
    for (const rules of [candidates.byFamily.get(detection.family), candidates.byRuleId.get(detection.ruleId), candidates.detectionRules]) {
      if (!rules) continue;
      for (const rule of rules) {
        if (!rule.detectionMatch(detection) || !applies(rule)) continue;
        matched.push({ rule, action: rule.action, detection });
        if (!best || outranks(rule, best)) best = rule;
      }
    }
    const cap = caps?.[index];
    if (!best) {
      const fallback = cap && actionRank(cap) < actionRank(policy.defaultAction) ? cap : policy.defaultAction;
      perDetection.push(undefined);
      if (actionRank(fallback) > actionRank(action)) {
        action = fallback;
        winner = undefined;
      }
      return;
    }
    const effective = cap && actionRank(cap) < actionRank(best.action) ? cap : best.action;
    perDetection.push(effective);
    consider(best, effective);
  });
  return { action, winner, perDetection, matched };
}
