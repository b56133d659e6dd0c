import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError } from '../cli-error.js';

/** Where the configuration file is, and who said so. */
export interface ConfigLocation {
  /** Absolute path of palisade.yaml. */
  path: string;
  /** `option`: --config; `env`: PALISADE_CONFIG; `default`: ./palisade.yaml. */
  source: 'option' | 'env' | 'default';
  exists: boolean;
}

export interface ResolveConfigPathOptions {
  /** The `--config` option, if given. */
  option?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

/**
 * The configuration file a command works on: `--config`, else `PALISADE_CONFIG`, else
 * `palisade.yaml` in the working folder. State lives in `.palisade/` beside it.
 *
 * @example
 * resolveConfigPath({ env: {}, cwd: '/srv/app' }) // { path: '/srv/app/palisade.yaml', source: 'default', exists: … }
 */
export function resolveConfigPath({ option, env, cwd }: ResolveConfigPathOptions): ConfigLocation {
  const given = option ?? (env.PALISADE_CONFIG ? env.PALISADE_CONFIG : undefined);
  const source = option !== undefined ? 'option' : given !== undefined ? 'env' : 'default';
  const path = resolve(cwd, given ?? 'palisade.yaml');
  return { path, source, exists: existsSync(path) };
}

/** The path of a configuration that must exist; otherwise a CONFIG_NOT_FOUND error with a hint. */
export function requireConfig(location: ConfigLocation): string {
  if (location.exists) return location.path;
  const how = location.source === 'option' ? ' (from --config)' : location.source === 'env' ? ' (from PALISADE_CONFIG)' : '';
  throw new CliError({
    code: 'CONFIG_NOT_FOUND',
    message: `No configuration file at ${location.path}${how}.`,
    hint: 'Run `palisade init` to write one here, or point to yours with --config <path> or PALISADE_CONFIG.',
  });
}
