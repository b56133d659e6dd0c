import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGuard, PalisadeError } from '@palisade/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createToolCoverage } from './create-tool-coverage.js';

const config = `
platform:
  rules:
    - name: no shell
      priority: 1000
      action: block
      match: { boundary: tool_call, tool: shell.execute }
policies:
  mail:
    extends: balanced
    rules:
      - name: external email
        priority: 90
        action: escalate
        match: { boundary: tool_call, tool: "email.*", when: { args.to: { not: { ends_with: "@acme.com" } } } }
      - name: results of web fetches are checked
        priority: 50
        action: redact
        match: { boundary: tool_result, tool: web.fetch, family: PII }
      - name: secrets never go to the crm
        priority: 80
        action: block
        match: { tool: [crm.update, crm.create], family: SEC }
  files:
    rules:
      - name: reads are fine
        priority: 10
        action: allow
        match: { boundary: tool_call, tool: files.read }
tenants:
  acme: { default_policy: mail }
  globex: { default_policy: files }
`;

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('createToolCoverage', () => {
  const guard = createGuard({ config });
  const coverage = createToolCoverage({ guard, config });
  const acme = { tenantId: 'acme' };

  it('covers a tool a rule of the effective policy names by glob, whatever its condition', () => {
    expect(coverage.covers('email.send', acme)).toBe(true);
    expect(coverage.covers('sms.send', acme)).toBe(false);
  });

  it('covers a tool the platform layer names, for every tenant', () => {
    expect(coverage.covers('shell.execute', acme)).toBe(true);
    expect(coverage.covers('shell.execute', { tenantId: 'globex' })).toBe(true);
  });

  it('does not count a rule for tool results only, but counts a rule with no boundary', () => {
    expect(coverage.covers('web.fetch', acme)).toBe(false);
    expect(coverage.covers('crm.update', acme)).toBe(true);
  });

  it("does not let another tenant's rules cover a tool", () => {
    expect(coverage.covers('files.read', acme)).toBe(false);
    expect(coverage.covers('files.read', { tenantId: 'globex' })).toBe(true);
    expect(coverage.covers('email.send', { tenantId: 'globex' })).toBe(false);
  });

  it('covers nothing for a scope the guard refuses (an unknown tenant)', () => {
    expect(coverage.covers('shell.execute', { tenantId: 'initech' })).toBe(false);
  });

  it('refuses a configuration that is not the one the guard serves', () => {
    expect(() => createToolCoverage({ guard, config: {} })).toThrow(PalisadeError);
    expect(() => createToolCoverage({ guard })).toThrow(/not the one the guard serves/);
  });

  it('follows a reload of the config file, and covers nothing when it cannot read what the guard serves', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'palisade-coverage-'));
    folders.push(folder);
    const configPath = join(folder, 'palisade.yaml');
    writeFileSync(configPath, config);
    const fileGuard = createGuard({ configPath, state: false });
    const fileCoverage = createToolCoverage({ guard: fileGuard, configPath });
    expect(fileCoverage.covers('sms.send', acme)).toBe(false);
    writeFileSync(configPath, config.replace('tool: "email.*"', 'tool: ["email.*", "sms.*"]'));
    await fileGuard.reload();
    expect(fileCoverage.covers('sms.send', acme)).toBe(true);

    const inlineGuard = createGuard({ config });
    const inlineCoverage = createToolCoverage({ guard: inlineGuard, config });
    expect(inlineCoverage.covers('email.send', acme)).toBe(true);
    // An inline config cannot be read again; once the guard serves another version, fail closed.
    Object.defineProperty(inlineGuard, 'policyVersion', { get: () => 'something-else' });
    expect(inlineCoverage.covers('email.send', acme)).toBe(false);
  });
});
