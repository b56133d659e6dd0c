import { InputTooDeepError } from '../errors/input-too-deep-error.js';
import { InvalidInputError } from '../errors/invalid-input-error.js';

export interface WalkLimits {
  maxDepth: number;
  maxKeys: number;
}

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** JSON path of a child: `$.args.to`, `$.items[3]`, `$["odd key"]`. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return identifier.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/**
 * Visits every string (and number, as text) in a JSON-like value, depth first, with its JSON path.
 * Throws `InputTooDeepError` past the limits and `InvalidInputError` for values JSON cannot hold.
 */
export function walkValue(value: unknown, limits: WalkLimits, visit: (text: string, path: string) => void): void {
  let keys = 0;
  const active = new Set<object>();
  const walk = (node: unknown, path: string, depth: number): void => {
    if (node === null || node === undefined || typeof node === 'boolean') return;
    if (typeof node === 'string') {
      visit(node, path);
      return;
    }
    if (typeof node === 'number' || typeof node === 'bigint') {
      visit(String(node), path);
      return;
    }
    if (typeof node !== 'object') {
      throw new InvalidInputError({ path, message: `a ${typeof node} is not data` });
    }
    if (depth >= limits.maxDepth) throw new InputTooDeepError({ path, limit: limits.maxDepth, kind: 'depth' });
    if (active.has(node)) throw new InvalidInputError({ path, message: 'the value refers to itself (a cycle)' });
    active.add(node);
    if (Array.isArray(node)) {
      node.forEach((item, index) => {
        if (++keys > limits.maxKeys) throw new InputTooDeepError({ path, limit: limits.maxKeys, kind: 'keys' });
        walk(item, childPath(path, index), depth + 1);
      });
    } else {
      for (const [key, item] of Object.entries(node)) {
        if (++keys > limits.maxKeys) throw new InputTooDeepError({ path, limit: limits.maxKeys, kind: 'keys' });
        walk(item, childPath(path, key), depth + 1);
      }
    }
    active.delete(node);
  };
  walk(value, '$', 0);
}
