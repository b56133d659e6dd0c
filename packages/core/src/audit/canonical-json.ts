/** Nesting deeper than this is refused: it is either a cycle or not a receipt. */
const maxDepth = 200;

/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, `undefined` members
 * dropped, numbers as JavaScript prints them (the RFC 8785 number form for finite values). Two
 * values that are deeply equal serialise to the same string, so hashes of them agree.
 *
 * Throws a TypeError for values JSON cannot carry faithfully: non-finite numbers, invalid dates,
 * bigints, functions, symbols, and cycles (or nesting deeper than 200).
 *
 * @example canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  return write(value, 0);
}

/**
 * The members of an object as canonical `"key":value` strings, in canonical order. Lets a caller
 * splice one more member into the serialisation without serialising everything twice.
 */
export function canonicalMembers(record: Readonly<Record<string, unknown>>): string[] {
  const keys = Object.keys(record).sort();
  const members: string[] = [];
  for (const key of keys) {
    const item = record[key];
    if (item !== undefined) members.push(`${JSON.stringify(key)}:${write(item, 1)}`);
  }
  return members;
}

function write(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot carry the number ${value}`);
      return Object.is(value, -0) ? '0' : String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (depth > maxDepth) throw new TypeError('canonical JSON cannot carry a cycle (or nesting deeper than 200)');
      if (Array.isArray(value)) {
        let out = '[';
        for (let index = 0; index < value.length; index++) {
          if (index > 0) out += ',';
          const item = value[index];
          out += item === undefined ? 'null' : write(item, depth + 1);
        }
        return `${out}]`;
      }
      if (value instanceof Date) {
        // JSON.stringify writes an invalid date as null; a receipt would then not say what it held.
        if (Number.isNaN(value.getTime())) throw new TypeError('canonical JSON cannot carry an invalid Date');
        return JSON.stringify(value.toISOString());
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const item = record[key];
        if (item === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += `${JSON.stringify(key)}:${write(item, depth + 1)}`;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot carry a ${typeof value}`);
  }
}
