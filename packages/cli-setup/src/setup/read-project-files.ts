import { readFile } from 'node:fs/promises';
import { resolveInside } from './resolve-inside.js';
import { SetupError } from './setup-error.js';

/**
 * Reads the files `planSetup` decides from (`setupInputPaths(target)`), by relative path; a file
 * that does not exist is left out.
 *
 * @example
 * const files = await readProjectFiles('/srv/app', setupInputPaths('cursor'));
 * // { 'package.json': '{…}', '.cursor/mcp.json': '{…}' }
 */
export async function readProjectFiles(cwd: string, paths: readonly string[]): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  await Promise.all(
    paths.map(async (path) => {
      const text = await readOptional(resolveInside(cwd, path, 'file'));
      if (text !== undefined) files[path] = text;
    }),
  );
  return files;
}

/** A file's text, or `undefined` when it does not exist. A folder where a file should be is a SetupError. */
export async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'EISDIR') {
      throw new SetupError({
        code: 'INVALID_SETUP_OPTIONS',
        message: `${file} is a folder; setup expected a file there.`,
        file,
        cause: error,
      });
    }
    throw new SetupError({
      code: 'INVALID_PROJECT_FILE',
      message: `${file} cannot be read (${(error as Error).message}).`,
      file,
      cause: error,
    });
  }
}
