import type { PackageManager, SetupLanguage } from './setup-types.js';

/** What setup found out about the target folder, and how. */
export interface ProjectInfo {
  packageManager: PackageManager;
  /** `option`, `package.json#packageManager`, the lockfile's name, or `default`. */
  packageManagerSource: string;
  language: SetupLanguage;
  /** `option`, `tsconfig.json`, `typescript dependency`, or `default`. */
  languageSource: string;
  /** `module` when package.json says `"type": "module"` (or setup creates package.json), else `commonjs`. */
  moduleType: 'module' | 'commonjs';
  hasPackageJson: boolean;
}

export interface DetectProjectOptions {
  packageManager?: PackageManager;
  language?: SetupLanguage;
}

/** Lockfiles in the order they win when several exist. */
export const lockfiles: readonly (readonly [string, PackageManager])[] = [
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
  ['bun.lock', 'bun'],
  ['bun.lockb', 'bun'],
  ['package-lock.json', 'npm'],
  ['npm-shrinkwrap.json', 'npm'],
];

const managers: readonly PackageManager[] = ['npm', 'pnpm', 'yarn', 'bun'];

/**
 * Detects the package manager and the language from the project's files (pure).
 * Package manager: the option, else `packageManager` in package.json (Corepack's field: the
 * project said so), else the first lockfile present, else npm. Language: the option, else
 * TypeScript when tsconfig.json exists or typescript is a dependency, else JavaScript.
 *
 * @example
 * detectProject({ 'package.json': '{"type":"module"}', 'pnpm-lock.yaml': '' }, {}, undefined)
 * // { packageManager: 'pnpm', packageManagerSource: 'pnpm-lock.yaml', language: 'js', moduleType: 'module', … }
 */
export function detectProject(
  files: Readonly<Record<string, string>>,
  options: DetectProjectOptions,
  packageJson: Record<string, unknown> | undefined,
): ProjectInfo {
  let packageManager: PackageManager = 'npm';
  let packageManagerSource = 'default';
  const field = typeof packageJson?.packageManager === 'string' ? packageJson.packageManager.split('@')[0] : undefined;
  const lockfile = lockfiles.find(([name]) => files[name] !== undefined);
  if (options.packageManager) {
    packageManager = options.packageManager;
    packageManagerSource = 'option';
  } else if (field && (managers as readonly string[]).includes(field)) {
    packageManager = field as PackageManager;
    packageManagerSource = 'package.json#packageManager';
  } else if (lockfile) {
    packageManager = lockfile[1];
    packageManagerSource = lockfile[0];
  }

  let language: SetupLanguage = 'js';
  let languageSource = 'default';
  if (options.language) {
    language = options.language;
    languageSource = 'option';
  } else if (files['tsconfig.json'] !== undefined) {
    language = 'ts';
    languageSource = 'tsconfig.json';
  } else if (dependsOn(packageJson, 'typescript')) {
    language = 'ts';
    languageSource = 'typescript dependency';
  }

  return {
    packageManager,
    packageManagerSource,
    language,
    languageSource,
    // A package.json setup creates says "type": "module".
    moduleType: packageJson === undefined || packageJson.type === 'module' ? 'module' : 'commonjs',
    hasPackageJson: packageJson !== undefined,
  };
}

const dependencyFields = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'] as const;

/** Whether package.json lists `name` in any dependency field. */
export function dependsOn(packageJson: Record<string, unknown> | undefined, name: string): boolean {
  return dependencyFields.some((field) => {
    const deps = packageJson?.[field];
    return typeof deps === 'object' && deps !== null && Object.hasOwn(deps, name);
  });
}

/** The command that installs what package.json now lists. */
export function installCommand(packageManager: PackageManager): string {
  return `${packageManager} install`;
}
