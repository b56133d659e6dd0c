import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { editYamlText } from './edit-yaml-text.js';

describe('editYamlText', () => {
  it('adds a key after the last one of a block map, leaving the comments where they were', () => {
    const text = 'tenants:\n  # ours\n  acme: { name: Acme }\n  # trailing note\n\n# end\n';
    expect(editYamlText(text, { op: 'set', path: ['tenants', 'beta'], value: { name: 'Beta' } })).toEqual({
      text: 'tenants:\n  # ours\n  acme: { name: Acme }\n  beta:\n    name: Beta\n  # trailing note\n\n# end\n',
      layout: 'preserved',
    });
  });

  it('follows the indentation the file uses', () => {
    const text = 'tenants:\n    acme:\n        name: Acme\n';
    expect(editYamlText(text, { op: 'set', path: ['tenants', 'beta'], value: { name: 'Beta' } }).text).toBe(
      'tenants:\n    acme:\n        name: Acme\n    beta:\n        name: Beta\n',
    );
  });

  it('replaces a scalar in place, keeping its trailing comment and the spacing before it', () => {
    const text = 'defaults:\n  policy: balanced      # why\n';
    expect(editYamlText(text, { op: 'set', path: ['defaults', 'policy'], value: 'strict' }).text).toBe(
      'defaults:\n  policy: strict      # why\n',
    );
  });

  it('quotes what YAML would read as something else', () => {
    const text = 'tenants:\n  acme:\n    name: Acme\n';
    const result = editYamlText(text, { op: 'set', path: ['tenants', 'acme', 'name'], value: 'yes: no # not a comment' });
    expect(parse(result.text)).toEqual({ tenants: { acme: { name: 'yes: no # not a comment' } } });
    expect(result.layout).toBe('preserved');
  });

  it('adds to a flow map and a flow sequence in flow style', () => {
    expect(editYamlText('apps: { a: { name: A } }\n', { op: 'set', path: ['apps', 'b'], value: { name: 'B' } }).text).toBe(
      'apps: { a: { name: A }, b: { name: B } }\n',
    );
    expect(editYamlText('rules: [a, b]\n', { op: 'append', path: ['rules'], value: 'c' }).text).toBe('rules: [a, b, c]\n');
  });

  it('fills a key that has no value yet', () => {
    expect(editYamlText('tenants:\nother: 1\n', { op: 'set', path: ['tenants', 'acme'], value: { name: 'A' } }).text).toBe(
      'tenants:\n  acme:\n    name: A\nother: 1\n',
    );
  });

  it('deletes a sequence item and the comment right above it', () => {
    const text = 'list:\n  # first\n  - a\n  # second\n  - b\n  - c\n';
    expect(editYamlText(text, { op: 'delete', path: ['list', 1] }).text).toBe('list:\n  # first\n  - a\n  - c\n');
  });

  it('deletes from a flow map', () => {
    expect(editYamlText('apps: { a: 1, b: 2, c: 3 }\n', { op: 'delete', path: ['apps', 'b'] }).text).toBe('apps: { a: 1, c: 3 }\n');
    expect(editYamlText('apps: { a: 1, b: 2 }\n', { op: 'delete', path: ['apps', 'a'] }).text).toBe('apps: { b: 2 }\n');
    expect(editYamlText('apps: { a: 1 }\n', { op: 'delete', path: ['apps', 'a'] }).text).toBe('apps: {}\n');
  });

  it('writes into a file without a trailing newline', () => {
    expect(editYamlText('a: 1', { op: 'set', path: ['b'], value: 2 }).text).toBe('a: 1\n\nb: 2\n');
  });

  it('falls back to re-printing the document when the splice cannot express the edit, and says so', () => {
    // Replacing a map with a scalar is not spliced; the result is still exactly the edit.
    const result = editYamlText('# keep\na:\n  b: 1\n', { op: 'set', path: ['a'], value: 'flat' });
    expect(result.layout).toBe('reformatted');
    expect(parse(result.text)).toEqual({ a: 'flat' });
    expect(result.text).toContain('# keep');
  });

  it('refuses YAML that does not parse', () => {
    expect(() => editYamlText('a: [1, 2\n', { op: 'set', path: ['b'], value: 1 })).toThrow();
  });
});
