/**
 * The environment the CLI reads palisade.yaml with when it only needs its structure (listing
 * tenants, editing): the real one, where a variable it lacks reads as a placeholder URL. Whether
 * `${SLACK_WEBHOOK_URL}` is set is a question for the process that runs the guard; `palisade
 * doctor`, `policy validate` and every command that evaluates use the real environment.
 *
 * @example
 * loadConfig({ path, env: structuralEnv(process.env) }) // an unset ${SLACK_WEBHOOK_URL} does not fail
 */
export function structuralEnv(env: Readonly<Record<string, string | undefined>>): Readonly<Record<string, string | undefined>> {
  return new Proxy(env, {
    get: (target, name) => {
      if (typeof name !== 'string') return undefined;
      const value = target[name];
      return value !== undefined && value !== '' ? value : `https://unset.invalid/${name}`;
    },
  });
}
