import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';

/** The outcome of checking a value against a tool's JSON Schema. */
export type SchemaCheck = { valid: true } | { valid: false; message: string };

/** Checks values against JSON Schemas, compiling each schema once. */
export interface SchemaValidator {
  /**
   * `key` identifies the schema (the tool's definition hash and which schema): a schema is
   * compiled the first time its key is seen.
   */
  check(key: string, schema: Record<string, unknown>, value: unknown): SchemaCheck;
}

/**
 * The MCP SDK's own validator (`AjvJsonSchemaValidator`: AJV with formats, all errors, draft-07
 * and 2020-12 keywords), the one its `Client` checks `structuredContent` with, so the proxy and a
 * well-behaved client agree.
 *
 * INVARIANT (fail closed): a schema that does not compile (an unknown type, a `$ref` to a remote
 * document) makes every value invalid, with the compiler's message.
 *
 * @example
 * const validator = createSchemaValidator();
 * validator.check('sha256:…/input', { type: 'object', required: ['path'] }, {}); // { valid: false, message: "data must have required property 'path'" }
 */
export function createSchemaValidator(): SchemaValidator {
  const provider = new AjvJsonSchemaValidator();
  const compiled = new Map<string, (value: unknown) => SchemaCheck>();
  const compile = (schema: Record<string, unknown>): ((value: unknown) => SchemaCheck) => {
    // `$id` is dropped: AJV caches by id, and two upstream tools sharing one would share a
    // validator. `$schema` is dropped: the dialect is not negotiable here.
    const { $id: _id, $schema: _schema, ...rest } = schema;
    try {
      const validate = provider.getValidator(rest);
      return (value) => {
        const result = validate(value);
        return result.valid ? { valid: true } : { valid: false, message: result.errorMessage };
      };
    } catch (error) {
      const message = `the schema cannot be used (${error instanceof Error ? error.message : String(error)})`;
      return () => ({ valid: false, message });
    }
  };
  return {
    check(key, schema, value) {
      let validate = compiled.get(key);
      if (!validate) {
        validate = compile(schema);
        if (compiled.size >= 5000) compiled.clear();
        compiled.set(key, validate);
      }
      return validate(value);
    },
  };
}
