import { RE2JS } from 're2js';
import type { ConditionDefinition, OperatorDefinition } from './types.js';

/** What conditions read: tool arguments (or result) and the event's context. */
export interface ConditionData {
  args?: unknown;
  result?: unknown;
  context: Readonly<Record<string, unknown>>;
}

export type Predicate = (data: ConditionData) => boolean;

/** A condition that cannot be compiled; `path` is the field path inside the condition. */
export class ConditionSyntaxError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

const roots = new Set(['args', 'result', 'context']);
const operatorAliases: Record<string, string> = {
  equals: 'eq',
  notEquals: 'neq',
  notIn: 'not_in',
  startsWith: 'starts_with',
  endsWith: 'ends_with',
};
const operatorNames = new Set([
  'eq',
  'neq',
  'in',
  'not_in',
  'contains',
  'starts_with',
  'ends_with',
  'matches',
  'exists',
  'gt',
  'gte',
  'lt',
  'lte',
  'not',
  'all',
  'any',
]);

type Segment = string | number;

/** Parses `args.items[0].name` into segments; the first must be args, result or context. */
export function parsePath(path: string, where: string): Segment[] {
  const segments: Segment[] = [];
  const pattern = /([A-Za-z_$][\w$-]*)|\[(\d+)\]|\["([^"\\]*)"\]|(\.)/gy;
  let expectName = true;
  let index = 0;
  for (let match = pattern.exec(path); match !== null && index < path.length; match = pattern.exec(path)) {
    index = pattern.lastIndex;
    if (match[1] !== undefined) {
      if (!expectName) throw new ConditionSyntaxError(where, `bad path "${path}": expected "." before "${match[1]}"`);
      segments.push(match[1]);
      expectName = false;
    } else if (match[2] !== undefined) segments.push(Number(match[2]));
    else if (match[3] !== undefined) segments.push(match[3]);
    else expectName = true;
  }
  if (index !== path.length || segments.length === 0 || expectName) {
    throw new ConditionSyntaxError(where, `bad path "${path}": use dotted names and [index], e.g. args.to or args.items[0].name`);
  }
  if (!roots.has(String(segments[0]))) {
    throw new ConditionSyntaxError(where, `bad path "${path}": it must start with args, result or context`);
  }
  return segments;
}

function read(data: ConditionData, segments: readonly Segment[]): unknown {
  let value: unknown = data;
  for (const segment of segments) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

const reference = /\$\{((?:args|result|context)(?:\.[A-Za-z_$][\w$-]*|\[\d+\])*)\}/g;

/** An operand; strings may hold `${context.tenantId}`-style references resolved per event. */
function operand(value: unknown, where: string): (data: ConditionData) => unknown {
  if (typeof value !== 'string' || !value.includes('${')) return () => value;
  const whole = /^\$\{([^}]+)\}$/.exec(value);
  if (whole) {
    const segments = parsePath(whole[1] as string, where);
    return (data) => read(data, segments);
  }
  const parts: ({ text: string } | { segments: Segment[] })[] = [];
  let last = 0;
  for (const match of value.matchAll(reference)) {
    parts.push({ text: value.slice(last, match.index) });
    parts.push({ segments: parsePath(match[1] as string, where) });
    last = (match.index ?? 0) + match[0].length;
  }
  parts.push({ text: value.slice(last) });
  return (data) => parts.map((part) => ('text' in part ? part.text : String(read(data, part.segments) ?? ''))).join('');
}

/** True when `test` holds for the value, or for every element of a non-empty array value. */
function every(value: unknown, test: (item: unknown) => boolean): boolean {
  if (Array.isArray(value)) return value.length > 0 && value.every(test);
  return test(value);
}

function equal(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (typeof left !== 'object' || typeof right !== 'object' || left === null || right === null) return false;
  return JSON.stringify(left) === JSON.stringify(right);
}

type ValueTest = (value: unknown, data: ConditionData) => boolean;

function compileOperators(definition: OperatorDefinition, where: string): ValueTest {
  if (definition === null || typeof definition !== 'object') {
    const expected = operand(definition, where);
    return (value, data) => every(value, (item) => equal(item, expected(data)));
  }
  if (Array.isArray(definition)) return (value) => equal(value, definition);
  const tests: ValueTest[] = Object.entries(definition).map(([rawName, argument]) => {
    const name = operatorAliases[rawName] ?? rawName;
    const at = `${where}.${rawName}`;
    if (!operatorNames.has(name)) {
      throw new ConditionSyntaxError(at, `unknown operator "${rawName}"; use one of ${[...operatorNames].join(', ')}`);
    }
    switch (name) {
      case 'not': {
        const inner = compileOperators(argument as OperatorDefinition, at);
        return (value, data) => !inner(value, data);
      }
      case 'all':
      case 'any': {
        if (!Array.isArray(argument)) throw new ConditionSyntaxError(at, `"${rawName}" takes a list of operators`);
        const inner = argument.map((item, index) => compileOperators(item as OperatorDefinition, `${at}[${index}]`));
        return name === 'all'
          ? (value, data) => inner.every((test) => test(value, data))
          : (value, data) => inner.some((test) => test(value, data));
      }
      case 'exists': {
        if (typeof argument !== 'boolean') throw new ConditionSyntaxError(at, '"exists" takes true or false');
        return (value) => (value !== undefined && value !== null) === argument;
      }
      case 'in':
      case 'not_in': {
        if (!Array.isArray(argument) && !(typeof argument === 'string' && argument.startsWith('${'))) {
          throw new ConditionSyntaxError(at, `"${rawName}" takes a list`);
        }
        const list = operand(argument, at);
        const test: ValueTest = (value, data) => {
          const items = list(data);
          return Array.isArray(items) && every(value, (item) => items.some((candidate) => equal(candidate, item)));
        };
        return name === 'in' ? test : (value, data) => !test(value, data);
      }
      case 'eq':
      case 'neq': {
        const expected = operand(argument, at);
        // A list operand is compared with the whole value; a scalar with every element of a list value.
        const test: ValueTest = Array.isArray(argument)
          ? (value, data) => equal(value, expected(data))
          : (value, data) => every(value, (item) => equal(item, expected(data)));
        return name === 'eq' ? test : (value, data) => !test(value, data);
      }
      case 'contains': {
        const expected = operand(argument, at);
        return (value, data) => {
          const needle = expected(data);
          if (Array.isArray(value)) return value.some((item) => equal(item, needle));
          return typeof value === 'string' && typeof needle === 'string' && value.includes(needle);
        };
      }
      case 'starts_with':
      case 'ends_with': {
        if (typeof argument !== 'string') throw new ConditionSyntaxError(at, `"${rawName}" takes a string`);
        const expected = operand(argument, at);
        return (value, data) => {
          const affix = String(expected(data));
          return every(
            value,
            (item) => typeof item === 'string' && (name === 'starts_with' ? item.startsWith(affix) : item.endsWith(affix)),
          );
        };
      }
      case 'matches': {
        if (typeof argument !== 'string') throw new ConditionSyntaxError(at, '"matches" takes a regular expression string');
        let regex: RE2JS;
        try {
          // INVARIANT: tenant-supplied patterns run on RE2 (linear time); what RE2 cannot run
          // (back-references, look-arounds) is refused here rather than run on a backtracking engine.
          regex = RE2JS.compile(argument);
        } catch (error) {
          throw new ConditionSyntaxError(
            at,
            `"matches" pattern refused: ${(error as Error).message} (patterns run on a linear-time RE2 engine: no back-references or look-arounds)`,
          );
        }
        return (value) => every(value, (item) => typeof item === 'string' && regex.matcher(item).find());
      }
      default: {
        if (typeof argument !== 'number' && !(typeof argument === 'string' && argument.startsWith('${'))) {
          throw new ConditionSyntaxError(at, `"${rawName}" takes a number`);
        }
        const expected = operand(argument, at);
        const compare = {
          gt: (a: number, b: number) => a > b,
          gte: (a: number, b: number) => a >= b,
          lt: (a: number, b: number) => a < b,
          lte: (a: number, b: number) => a <= b,
        }[name as 'gt' | 'gte' | 'lt' | 'lte'];
        return (value, data) => {
          const limit = expected(data);
          return typeof limit === 'number' && every(value, (item) => typeof item === 'number' && compare(item, limit));
        };
      }
    }
  });
  return (value, data) => tests.every((test) => test(value, data));
}

/**
 * Compiles a `when` condition to a predicate. Paths start with `args`, `result` or `context`;
 * operand strings may refer to other values with `${context.tenantId}`. String operators on an
 * array value hold when they hold for every element; `contains` on an array is membership.
 *
 * @example
 * const external = compileCondition({ 'args.to': { not: { ends_with: '@acme.com' } } }, 'when');
 * external({ args: { to: 'eve@evil.example' }, context: {} }); // true
 */
export function compileCondition(definition: ConditionDefinition, where = 'when'): Predicate {
  if (definition === null || typeof definition !== 'object' || Array.isArray(definition)) {
    throw new ConditionSyntaxError(where, 'a condition is a map of paths to operators, or all / any / not');
  }
  const entries = Object.entries(definition);
  if (entries.length === 0) throw new ConditionSyntaxError(where, 'an empty condition');
  const predicates: Predicate[] = entries.map(([key, value]) => {
    const at = `${where}.${key}`;
    if (key === 'all' || key === 'any') {
      if (!Array.isArray(value)) throw new ConditionSyntaxError(at, `"${key}" takes a list of conditions`);
      const inner = value.map((item, index) => compileCondition(item as ConditionDefinition, `${at}[${index}]`));
      return key === 'all' ? (data) => inner.every((test) => test(data)) : (data) => inner.some((test) => test(data));
    }
    if (key === 'not') {
      const inner = compileCondition(value as ConditionDefinition, at);
      return (data) => !inner(data);
    }
    const segments = parsePath(key, at);
    const test = compileOperators(value as OperatorDefinition, at);
    return (data) => test(read(data, segments), data);
  });
  return (data) => predicates.every((predicate) => predicate(data));
}
