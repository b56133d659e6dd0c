import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { formatPlanDiff } from './format-plan.js';
import { readOptional } from './read-project-files.js';
import { isInside } from './resolve-inside.js';
import { SetupError } from './setup-error.js';
import type { FileChange, SetupPlan } from './setup-types.js';

export interface ApplyPlanOptions {
  /** Check everything, write nothing; the result carries the plan as a unified diff. */
  dryRun?: boolean;
}

export interface ApplyPlanResult {
  dryRun: boolean;
  /** Absolute paths written, in plan order. */
  written: string[];
  /** Backups made (absolute paths), beside the files they copy. */
  backups: string[];
  /** The plan as a unified diff (`formatPlanDiff`). */
  diff: string;
}

/**
 * Writes a plan. Every change is checked before the first write, so a refused plan writes nothing:
 *
 * - its path is inside `plan.cwd` on disk too (the real path of the nearest existing parent, so
 *   a symlinked folder cannot carry a write elsewhere), or is one of `plan.allowedOutside`;
 * - the file still holds what the plan was made from (`PLAN_OUT_OF_DATE` otherwise).
 *
 * Files are written whole through a temporary file and a rename (a crash leaves the old file or
 * the new one, never half of one), keeping an existing file's mode. A change marked `backup`
 * first copies the current file to `<file>.palisade-backup` (`-2`, `-3`, … if taken).
 *
 * @example
 * const plan = planSetup({ target: 'cursor', cwd, files: await readProjectFiles(cwd, setupInputPaths('cursor')) });
 * const { diff } = await applyPlan(plan, { dryRun: true }); // print it
 * await applyPlan(plan);                                    // write it
 */
export async function applyPlan(plan: SetupPlan, options: ApplyPlanOptions = {}): Promise<ApplyPlanResult> {
  const root = await realpath(plan.cwd).catch((error: unknown) => {
    throw new SetupError({
      code: 'INVALID_SETUP_OPTIONS',
      message: `The target folder ${plan.cwd} cannot be opened (${(error as Error).message}).`,
      file: plan.cwd,
      cause: error,
    });
  });
  for (const change of plan.changes) await verify(change, plan, root);
  const result: ApplyPlanResult = { dryRun: options.dryRun === true, written: [], backups: [], diff: formatPlanDiff(plan) };
  if (options.dryRun) return result;

  for (const change of plan.changes) {
    try {
      await mkdir(dirname(change.path), { recursive: true });
      if (change.backup) result.backups.push(await backup(change.path));
      await writeAtomically(change.path, change.after);
      result.written.push(change.path);
    } catch (error) {
      const done = result.written.length === 0 ? 'nothing was written before it' : `already written: ${result.written.join(', ')}`;
      throw new SetupError({
        code: 'WRITE_FAILED',
        message: `Writing ${change.path} failed (${(error as Error).message}); ${done}.`,
        hint: 'Fix the cause and run setup again: it only plans what is still missing.',
        file: change.path,
        cause: error,
      });
    }
  }
  return result;
}

async function verify(change: FileChange, plan: SetupPlan, root: string): Promise<void> {
  const outsideAllowed = plan.allowedOutside.includes(change.path);
  if (!outsideAllowed) {
    const lexical = isInside(plan.cwd, change.path);
    const real = lexical ? await realpathOfNearest(change.path) : change.path;
    if (!lexical || !isInside(root, real)) {
      throw new SetupError({
        code: 'PATH_OUTSIDE_TARGET',
        message: `The plan would write ${change.path}${real === change.path ? '' : ` (really ${real})`}, outside the target folder ${plan.cwd}; nothing was written.`,
        hint: 'setup only writes inside the folder it runs in (or the file given with --client-config). Check for symlinks out of the folder.',
        file: change.path,
      });
    }
  }
  const current = await readOptional(change.path);
  if (current !== change.before) {
    throw new SetupError({
      code: 'PLAN_OUT_OF_DATE',
      message: `${change.displayPath} changed after the plan was made; nothing was written.`,
      hint: 'Run setup again to plan from the current files.',
      file: change.path,
    });
  }
}

/** The real path of `path`, or of its nearest existing parent with the rest appended. */
async function realpathOfNearest(path: string): Promise<string> {
  const rest: string[] = [];
  let current = path;
  for (;;) {
    try {
      return join(await realpath(current), ...rest.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = dirname(current);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === current) throw error;
      rest.push(basename(current));
      current = parent;
    }
  }
}

async function backup(path: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const target = `${path}.palisade-backup${attempt === 1 ? '' : `-${attempt}`}`;
    try {
      // COPYFILE_EXCL: an older backup is never overwritten.
      await copyFile(path, target, 1);
      return target;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 100) throw error;
    }
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const mode = await stat(path).then(
    (stats) => stats.mode & 0o777,
    () => undefined,
  );
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, text, { flag: 'wx', ...(mode === undefined ? {} : { mode }) });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
