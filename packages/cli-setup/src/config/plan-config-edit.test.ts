import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileConfig, loadConfig } from '@palisade/core';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError } from '../cli-error.js';
import { applyConfigEdit, type ConfigEdit, planConfigEdit } from './plan-config-edit.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/config-edits/', import.meta.url));
const folders: string[] = [];

function folderWith(files: Record<string, string>): string {
  const folder = mkdtempSync(join(tmpdir(), 'palisade-edit-'));
  folders.push(folder);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(folder, name, '..'), { recursive: true });
    writeFileSync(join(folder, name), content);
  }
  return folder;
}

afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function refusal(action: () => unknown): CliError {
  try {
    action();
  } catch (error) {
    if (CliError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a CliError');
}

describe('planConfigEdit golden files (test/fixtures/config-edits/<case>: input.yaml + edit.json -> expected.yaml)', () => {
  const cases = readdirSync(fixtures).sort();
  it('has cases', () => expect(cases.length).toBeGreaterThan(10));
  for (const name of cases) {
    it(name, () => {
      const input = readFileSync(join(fixtures, name, 'input.yaml'), 'utf8');
      const edit = JSON.parse(readFileSync(join(fixtures, name, 'edit.json'), 'utf8')) as ConfigEdit;
      const folder = folderWith({ 'palisade.yaml': input });
      const configPath = join(folder, 'palisade.yaml');
      const plan = planConfigEdit({ configPath, edit, env: {} });
      // Only the edited lines change: the splice was kept, not a re-printed document.
      expect(plan.layout).toBe('preserved');
      expect(applyConfigEdit(plan)).toEqual({ written: true });
      const written = readFileSync(configPath, 'utf8');
      const expectedFile = join(fixtures, name, 'expected.yaml');
      if (process.env.UPDATE_GOLDEN) writeFileSync(expectedFile, written);
      expect(written).toBe(readFileSync(expectedFile, 'utf8'));
      // The result is a valid configuration.
      expect(() => compileConfig(loadConfig({ path: configPath }))).not.toThrow();
    });
  }
});

const base = `version: 1
# Tenants, one per customer.
tenants:
  acme:
    name: Acme Corp
    default_policy: balanced   # reviewed
    apps:
      chatbot: { name: Support bot }
    suppressions:
      - rule: pii-001
        reason: The bot must see emails
        app: chatbot
`;

describe('planConfigEdit', () => {
  it('plans without writing; applyConfigEdit writes', () => {
    const folder = folderWith({ 'palisade.yaml': base });
    const configPath = join(folder, 'palisade.yaml');
    const plan = planConfigEdit({ configPath, edit: { kind: 'tenant.create', tenantId: 'beta' }, env: {} });
    expect(readFileSync(configPath, 'utf8')).toBe(base);
    expect(plan.summary).toBe('Created tenant "beta"');
    expect(applyConfigEdit(plan, { dryRun: true })).toEqual({ written: false });
    expect(readFileSync(configPath, 'utf8')).toBe(base);
    applyConfigEdit(plan);
    expect(loadConfig({ path: configPath }).config.tenants.beta).toBeDefined();
  });

  it('refuses an edit that would make the configuration invalid, naming file:line:col, and writes nothing', () => {
    const folder = folderWith({ 'palisade.yaml': base });
    const configPath = join(folder, 'palisade.yaml');
    // Deleting the app leaves a suppression that names it.
    const error = refusal(() => planConfigEdit({ configPath, edit: { kind: 'app.delete', tenantId: 'acme', appId: 'chatbot' }, env: {} }));
    expect(error.code).toBe('EDIT_REFUSED');
    expect(error.message).toContain(`${configPath}:12:14 at tenants.acme.suppressions.0.app: tenant "acme" has no app "chatbot"`);
    expect(readFileSync(configPath, 'utf8')).toBe(base);
  });

  it('refuses an unknown policy with the line of the field it sets', () => {
    const folder = folderWith({ 'palisade.yaml': base });
    const error = refusal(() =>
      planConfigEdit({
        configPath: join(folder, 'palisade.yaml'),
        edit: { kind: 'policy.set', tenantId: 'acme', policyId: 'stritc' },
        env: {},
      }),
    );
    expect(error.code).toBe('EDIT_REFUSED');
    expect(error.message).toMatch(
      /palisade\.yaml:6:21 at tenants\.acme\.default_policy: unknown policy "stritc"; known: monitor, balanced, strict/,
    );
  });

  it('names the tenants there are when the tenant does not exist', () => {
    const folder = folderWith({ 'palisade.yaml': base });
    const error = refusal(() =>
      planConfigEdit({
        configPath: join(folder, 'palisade.yaml'),
        edit: { kind: 'suppression.add', tenantId: 'acmee', suppression: { rule: 'pii-002', reason: 'because' } },
        env: {},
      }),
    );
    expect(error.code).toBe('NOT_FOUND');
    expect(error.hint).toContain('Known tenants: acme');
  });

  it('refuses to create what exists, and to suppress the same rule twice', () => {
    const folder = folderWith({ 'palisade.yaml': base });
    const configPath = join(folder, 'palisade.yaml');
    expect(refusal(() => planConfigEdit({ configPath, edit: { kind: 'tenant.create', tenantId: 'acme' }, env: {} })).message).toContain(
      `Tenant "acme" exists already (${configPath}:5:5)`,
    );
    expect(
      refusal(() => planConfigEdit({ configPath, edit: { kind: 'app.create', tenantId: 'acme', appId: 'chatbot' }, env: {} })).code,
    ).toBe('ALREADY_EXISTS');
    const duplicate = refusal(() =>
      planConfigEdit({
        configPath,
        edit: { kind: 'suppression.add', tenantId: 'acme', suppression: { rule: 'pii-001', app: 'chatbot', reason: 'again' } },
        env: {},
      }),
    );
    expect(duplicate.code).toBe('ALREADY_EXISTS');
  });

  it('refuses a suppression the schema refuses (a bare *)', () => {
    const folder = folderWith({ 'palisade.yaml': base });
    const error = refusal(() =>
      planConfigEdit({
        configPath: join(folder, 'palisade.yaml'),
        edit: { kind: 'suppression.add', tenantId: 'acme', suppression: { rule: '*', reason: 'everything' } },
        env: {},
      }),
    );
    expect(error.code).toBe('EDIT_REFUSED');
    expect(error.message).toContain('a bare "*" would suppress everything');
    expect(error.message).toContain('(line numbers as the file would be after the edit)');
  });

  it('refuses to edit a configuration that is invalid already', () => {
    const folder = folderWith({ 'palisade.yaml': 'version: 1\ntenants:\n  acme: { default_polcy: strict }\n' });
    const error = refusal(() =>
      planConfigEdit({ configPath: join(folder, 'palisade.yaml'), edit: { kind: 'tenant.create', tenantId: 'b' }, env: {} }),
    );
    expect(error.code).toBe('EDIT_REFUSED');
    expect(error.message).toContain('palisade.yaml:3:11 at tenants.acme.default_polcy: unknown key "default_polcy"');
  });

  it('does not need the environment variables the configuration names', () => {
    const folder = folderWith({
      'palisade.yaml': `${base}alerts:\n  channels:\n    slack:\n      type: slack\n      webhook_url: \${SLACK_WEBHOOK_URL}\n`,
    });
    const configPath = join(folder, 'palisade.yaml');
    applyConfigEdit(planConfigEdit({ configPath, edit: { kind: 'tenant.create', tenantId: 'beta' }, env: {} }));
    // The reference is written back untouched, not the placeholder used to validate it.
    expect(readFileSync(configPath, 'utf8')).toContain('webhook_url: ${SLACK_WEBHOOK_URL}\n');
  });

  it('edits the included file that defines a tenant, validating it through the root', () => {
    const tenants = '# Customers live here.\ntenants:\n  acme:\n    default_policy: strict   # contract\n';
    const folder = folderWith({ 'palisade.yaml': 'version: 1\ninclude: [tenants/customers.yaml]\n', 'tenants/customers.yaml': tenants });
    const configPath = join(folder, 'palisade.yaml');
    const plan = planConfigEdit({ configPath, edit: { kind: 'policy.set', tenantId: 'acme', policyId: 'balanced' }, env: {} });
    expect(plan.file).toBe(join(folder, 'tenants/customers.yaml'));
    applyConfigEdit(plan);
    expect(readFileSync(join(folder, 'tenants/customers.yaml'), 'utf8')).toBe(
      '# Customers live here.\ntenants:\n  acme:\n    default_policy: balanced   # contract\n',
    );
    const bad = refusal(() => planConfigEdit({ configPath, edit: { kind: 'policy.set', tenantId: 'acme', policyId: 'nope' }, env: {} }));
    expect(bad.message).toContain(`${join(folder, 'tenants/customers.yaml')}:4:21 at tenants.acme.default_policy: unknown policy "nope"`);
    // The temporary copy used for the check is gone.
    expect(readdirSync(join(folder, 'tenants'))).toEqual(['customers.yaml']);
  });

  it('refuses to write when the file changed after the plan', () => {
    const folder = folderWith({ 'palisade.yaml': base });
    const configPath = join(folder, 'palisade.yaml');
    const plan = planConfigEdit({ configPath, edit: { kind: 'tenant.delete', tenantId: 'acme' }, env: {} });
    writeFileSync(configPath, `${base}# someone else's change\n`);
    expect(refusal(() => applyConfigEdit(plan)).code).toBe('FILE_CHANGED');
    expect(readFileSync(configPath, 'utf8')).toContain("someone else's change");
  });

  it('removes every suppression of a rule, or only the one of an app', () => {
    const two = `${base}      - rule: pii-001\n        reason: Everywhere else too\n`;
    const folder = folderWith({ 'palisade.yaml': two });
    const configPath = join(folder, 'palisade.yaml');
    const onlyApp = planConfigEdit({
      configPath,
      edit: { kind: 'suppression.remove', tenantId: 'acme', rule: 'pii-001', appId: 'chatbot' },
      env: {},
    });
    expect(onlyApp.after).not.toContain('The bot must see emails');
    expect(onlyApp.after).toContain('Everywhere else too');
    const all = planConfigEdit({ configPath, edit: { kind: 'suppression.remove', tenantId: 'acme', rule: 'pii-001' }, env: {} });
    expect(all.summary).toBe('Removed 2 suppressions of "pii-001" from tenant "acme"');
    expect(all.after).toContain('suppressions: []');
    expect(
      refusal(() => planConfigEdit({ configPath, edit: { kind: 'suppression.remove', tenantId: 'acme', rule: 'sec-*' }, env: {} })).code,
    ).toBe('NOT_FOUND');
  });
});
