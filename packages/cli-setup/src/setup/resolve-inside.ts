import { isAbsolute, relative, resolve, sep } from 'node:path';
import { SetupError } from './setup-error.js';

/**
 * Resolves `path` against `root` and proves the result stays inside `root` (lexically: symlinks
 * are checked by `applyPlan`, which sees the disk).
 *
 * INVARIANT: every path `palisade setup` writes goes through this (or is the one explicit
 * `--client-config` path), so no template, option or config value can steer a write elsewhere.
 *
 * @example
 * resolveInside('/srv/app', 'src/palisade.ts'); // '/srv/app/src/palisade.ts'
 * resolveInside('/srv/app', '../.ssh/config');  // throws SetupError PATH_OUTSIDE_TARGET
 */
export function resolveInside(root: string, path: string, what = 'path'): string {
  const base = resolve(root);
  const target = resolve(base, path);
  if (!isInside(base, target)) {
    throw new SetupError({
      code: 'PATH_OUTSIDE_TARGET',
      message: `The ${what} ${JSON.stringify(path)} resolves to ${target}, outside the target folder ${base}.`,
      hint: 'setup only writes inside the folder it runs in; run it from the project folder (or pass --client-config for an MCP client file).',
      file: target,
    });
  }
  return target;
}

/** Whether `path` is `root` itself or below it (both absolute and normalised). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || !(rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel));
}
