import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isInside } from './resolve-inside.js';
import { SetupError } from './setup-error.js';

/** Reads a template by its name (a path relative to the templates folder). */
export type TemplateSource = (name: string) => string;

/** The package's `templates/` folder: `../../templates` from both `src/setup` and `dist/setup`. */
export const templatesDirectory = fileURLToPath(new URL('../../templates/', import.meta.url));

/**
 * A template source over a folder. A name that leaves the folder, or a template that does not
 * exist, is a SetupError `INVALID_TEMPLATE`.
 *
 * @example
 * const read = folderTemplates(templatesDirectory);
 * read('langchain/palisade.ts.tmpl');
 */
export function folderTemplates(directory: string): TemplateSource {
  const root = resolve(directory);
  return (name) => {
    const file = resolve(root, name);
    if (!isInside(root, file) || file === root) {
      throw new SetupError({
        code: 'INVALID_TEMPLATE',
        message: `The template name ${JSON.stringify(name)} leaves the templates folder ${root}.`,
        file,
      });
    }
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new SetupError({
        code: 'INVALID_TEMPLATE',
        message: `The template ${name} cannot be read (${(error as Error).message}).`,
        hint: 'The @palisade/cli install looks incomplete; reinstall it.',
        file,
        cause: error,
      });
    }
  };
}

/**
 * Fills `{{name}}` placeholders. Every placeholder must have a value: a template that asks for
 * one nobody gives is a SetupError `INVALID_TEMPLATE`, never a file with `{{…}}` left in it.
 *
 * @example
 * renderTemplate('tenants:\n  {{tenantId}}:\n', { tenantId: 'default' }, 'palisade.yaml.tmpl'); // 'tenants:\n  default:\n'
 */
export function renderTemplate(text: string, values: Readonly<Record<string, string>>, name: string): string {
  return text.replace(/\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) {
      throw new SetupError({ code: 'INVALID_TEMPLATE', message: `The template ${name} uses {{${key}}}, which setup does not fill.` });
    }
    return value;
  });
}
