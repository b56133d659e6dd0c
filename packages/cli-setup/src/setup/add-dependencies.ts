import { dependsOn } from './detect-project.js';
import { defaultJsonLayout, parseJsonObject, stringifyJson } from './json-text.js';
import { SetupError } from './setup-error.js';
import type { DependencyAddition } from './setup-types.js';

export interface AddDependenciesOptions {
  /** package.json as it is, or `undefined` when the folder has none (one is created). */
  text: string | undefined;
  /** Absolute path, for messages. */
  file: string;
  dependencies: readonly DependencyAddition[];
  /** `name` of a package.json setup creates. */
  packageName: string;
}

export interface AddDependenciesResult {
  /** The new text; the very same text when nothing was added. */
  text: string;
  added: DependencyAddition[];
}

/**
 * Adds the dependencies package.json does not list yet (in any dependency field, at any version:
 * setup never changes a version the project chose). The file keeps its indentation, line ends
 * and final newline. New names go in sorted order; the whole `dependencies` map is sorted only if
 * it already was, so a hand-ordered map is not reshuffled.
 *
 * @example
 * addDependencies({ text: '{\n    "name": "app"\n}\n', file, packageName: 'app', dependencies: [{ name: 'ai', version: '^6.0.0' }] }).text
 * // '{\n    "name": "app",\n    "dependencies": {\n        "ai": "^6.0.0"\n    }\n}\n'
 */
export function addDependencies(options: AddDependenciesOptions): AddDependenciesResult {
  const parsed =
    options.text === undefined
      ? { value: { name: options.packageName, private: true, type: 'module' } as Record<string, unknown>, layout: defaultJsonLayout }
      : parseJsonObject(options.text, options.file, 'package.json');
  const packageJson = parsed.value;
  const added = options.dependencies.filter((dependency) => !dependsOn(packageJson, dependency.name));
  if (added.length === 0 && options.text !== undefined) return { text: options.text, added };

  const current = packageJson.dependencies;
  if (current !== undefined && (typeof current !== 'object' || current === null || Array.isArray(current))) {
    throw new SetupError({
      code: 'INVALID_PROJECT_FILE',
      message: `${options.file}: "dependencies" must be an object.`,
      file: options.file,
    });
  }
  const existing = Object.entries((current ?? {}) as Record<string, unknown>);
  const additions = added
    .map((dependency): [string, unknown] => [dependency.name, dependency.version])
    .sort(([a], [b]) => compareNames(a, b));
  const wasSorted = existing.every(([name], index) => index === 0 || compareNames(existing[index - 1]![0], name) <= 0);
  const entries = wasSorted ? [...existing, ...additions].sort(([a], [b]) => compareNames(a, b)) : [...existing, ...additions];
  packageJson.dependencies = Object.fromEntries(entries);
  return { text: stringifyJson(packageJson, parsed.layout), added };
}

/** npm's order for dependency names. */
function compareNames(a: string, b: string): number {
  return a.localeCompare(b, 'en');
}
