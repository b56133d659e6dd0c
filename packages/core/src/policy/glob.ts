const cache = new Map<string, RegExp>();

/**
 * Compiles a glob (`*` any run of characters, `?` one character) to an anchored RegExp.
 * Globs match short names (tools, rule ids), so the `.*` runs stay cheap.
 */
export function globToRegExp(glob: string): RegExp {
  let regex = cache.get(glob);
  if (!regex) {
    const source = glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    regex = new RegExp(`^${source}$`, 's');
    if (cache.size < 10_000) cache.set(glob, regex);
  }
  return regex;
}

/**
 * Whether `name` matches any of the globs (`*` any run of characters, `?` one character; every
 * other character stands for itself). The matching rules use for `match.tool` and `rule_id`.
 *
 * @example
 * matchesAnyGlob(['email.*', 'shell'], 'email.send') // true
 * matchesAnyGlob(['db.?et'], 'db.delete') // false
 */
export function matchesAnyGlob(globs: readonly string[], name: string): boolean {
  return globs.some((glob) => (glob.includes('*') || glob.includes('?') ? globToRegExp(glob).test(name) : glob === name));
}
