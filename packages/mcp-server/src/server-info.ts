import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AdapterInfo } from './tools/define-tool.js';

/** Name and version of this package (read from its package.json, from src or dist alike). */
export const serverInfo: { name: string; version: string } = (() => {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
  return { name: manifest.name, version: manifest.version };
})();

const found = new Map<string, AdapterInfo[]>();

/**
 * The Palisade adapters installed beside an application: every `@palisade/*` package but core in
 * a `node_modules` folder from `directory` up to the root, nearest first, plus this server.
 * Read once per directory.
 *
 * @example
 * discoverAdapters(process.cwd()) // [{ name: '@palisade/mcp-server', version: '0.1.0' }, { name: '@palisade/langchain', … }]
 */
export function discoverAdapters(directory: string): AdapterInfo[] {
  const cached = found.get(directory);
  if (cached) return cached;
  const adapters = new Map<string, AdapterInfo>([[serverInfo.name, { ...serverInfo }]]);
  for (let current = directory; ; current = dirname(current)) {
    const scope = join(current, 'node_modules', '@palisade');
    let names: string[] = [];
    try {
      names = readdirSync(scope);
    } catch {
      // No @palisade packages at this level.
    }
    for (const name of names) {
      const full = `@palisade/${name}`;
      // Core is what adapters adapt, not one of them.
      if (adapters.has(full) || full === '@palisade/core') continue;
      try {
        const manifest = JSON.parse(readFileSync(join(scope, name, 'package.json'), 'utf8')) as { version?: string };
        adapters.set(full, { name: full, ...(manifest.version ? { version: manifest.version } : {}) });
      } catch {
        // Not a package (a stray folder): skip it.
      }
    }
    if (dirname(current) === current) break;
  }
  const list = [...adapters.values()];
  found.set(directory, list);
  return list;
}
