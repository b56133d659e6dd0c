import { describe, expect, it } from 'vitest';
import { createSchemaValidator } from './create-schema-validator.js';

const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: { path: { type: 'string' }, mode: { enum: ['soft', 'hard'] }, tags: { type: 'array', items: { type: 'string' } } },
  required: ['path'],
  additionalProperties: false,
};

describe('createSchemaValidator', () => {
  const validator = createSchemaValidator();

  it('accepts a value that matches and explains one that does not', () => {
    expect(validator.check('a', schema, { path: 'x', mode: 'soft', tags: ['t'] })).toEqual({ valid: true });
    expect(validator.check('a', schema, { mode: 'soft' })).toEqual({ valid: false, message: "data must have required property 'path'" });
    expect(validator.check('a', schema, { path: 'x', mode: 'rm -rf' })).toMatchObject({
      valid: false,
      message: expect.stringContaining('allowed values'),
    });
    expect(validator.check('a', schema, { path: 'x', extra: 1 })).toMatchObject({
      valid: false,
      message: expect.stringContaining('additional properties'),
    });
    expect(validator.check('a', schema, { path: 'x', tags: [1] })).toMatchObject({
      valid: false,
      message: expect.stringContaining('data/tags/0'),
    });
  });

  it('refuses every value when the schema cannot be compiled (fail closed)', () => {
    expect(validator.check('bad-type', { type: 'objekt' }, {})).toMatchObject({
      valid: false,
      message: expect.stringContaining('cannot be used'),
    });
    expect(validator.check('remote-ref', { $ref: 'https://schemas.example/x.json' }, {})).toMatchObject({ valid: false });
  });

  it('keeps two schemas that claim the same $id apart', () => {
    const strings = { $id: 'urn:shared', type: 'string' };
    const numbers = { $id: 'urn:shared', type: 'number' };
    expect(validator.check('strings', strings, 'x')).toEqual({ valid: true });
    expect(validator.check('numbers', numbers, 3)).toEqual({ valid: true });
    expect(validator.check('numbers', numbers, 'x').valid).toBe(false);
  });
});
