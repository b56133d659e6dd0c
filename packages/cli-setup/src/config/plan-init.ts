import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { CliError } from '../cli-error.js';
import { initConfigTemplate, initPolicyTestTemplate } from './init-template.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** One file `palisade init` writes. */
export interface InitFile {
  path: string;
  content: string;
  /** `create`: new; `overwrite`: exists and differs (only with `force`); `keep`: exists as is. */
  kind: 'create' | 'overwrite' | 'keep';
}

/** Everything `palisade init` would write, as data. */
export interface InitPlan {
  /** The folder everything goes in (the config file's). */
  directory: string;
  configPath: string;
  /** The state folder, `.palisade/` beside the config. */
  stateDirectory: string;
  files: InitFile[];
}

export interface PlanInitOptions {
  /** Where palisade.yaml goes. */
  configPath: string;
  /** Overwrite a palisade.yaml (and example policy tests) that exist. */
  force?: boolean;
}

/**
 * Plans `palisade init`: a commented palisade.yaml (the balanced preset, one example tenant),
 * example policy tests in `policy-tests/support.yaml`, and the state folder `.palisade/` with a
 * `.gitignore`. Refuses (`FILE_EXISTS`) to overwrite a file that exists without `force`; state
 * already in `.palisade/` is never touched.
 *
 * @example
 * applyInitPlan(planInit({ configPath: '/srv/app/palisade.yaml' }));
 */
export function planInit(options: PlanInitOptions): InitPlan {
  const configPath = resolve(options.configPath);
  const directory = dirname(configPath);
  const stateDirectory = join(directory, '.palisade');
  const wanted: Omit<InitFile, 'kind'>[] = [
    { path: configPath, content: initConfigTemplate },
    { path: join(directory, 'policy-tests', 'support.yaml'), content: initPolicyTestTemplate },
    { path: join(stateDirectory, '.gitignore'), content: '# Runtime state (SQLite, audit log, seal key): not for version control.\n*\n' },
  ];
  const files = wanted.map((file): InitFile => {
    if (!existsSync(file.path)) return { ...file, kind: 'create' };
    return { ...file, kind: readFileSync(file.path, 'utf8') === file.content ? 'keep' : 'overwrite' };
  });
  const state = files[2];
  // The state folder's .gitignore is the user's once written: it is created, never replaced.
  if (state && state.kind === 'overwrite') state.kind = 'keep';
  const clashes = files.filter((file) => file.kind === 'overwrite');
  if (clashes.length > 0 && !options.force) {
    const shown = clashes.map((file) => relative(process.cwd(), file.path) || file.path).join(', ');
    throw new CliError({
      code: 'FILE_EXISTS',
      message: `${shown} exist${clashes.length === 1 ? 's' : ''} already; nothing was written.`,
      hint: 'Pass --force to overwrite (state in .palisade/ is kept), or --config <path> to write elsewhere.',
    });
  }
  return { directory, configPath, stateDirectory, files };
}

/**
 * Writes an init plan (each file atomically). With `dryRun`, writes nothing.
 *
 * @example
 * const { written } = applyInitPlan(plan, { dryRun: false }); // paths written
 */
export function applyInitPlan(plan: InitPlan, options: { dryRun?: boolean } = {}): { written: string[] } {
  if (options.dryRun) return { written: [] };
  const written: string[] = [];
  mkdirSync(plan.stateDirectory, { recursive: true });
  for (const file of plan.files) {
    if (file.kind === 'keep') continue;
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileAtomic(file.path, file.content);
    written.push(file.path);
  }
  return { written };
}
