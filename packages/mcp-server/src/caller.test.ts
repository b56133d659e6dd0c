import { describe, expect, it } from 'vitest';
import { hashApiKey } from './api-keys.js';
import { callerFromKey, localCaller, resolveTenant } from './caller.js';
import { canCall, roleTools, toolNames } from './role-tools.js';

describe('resolveTenant', () => {
  const viewer = callerFromKey({ id: 'v', hash: hashApiKey('k'), tenant: 'acme', role: 'viewer' });
  const admin = callerFromKey({ id: 'a', hash: hashApiKey('k2'), tenant: 'acme', role: 'admin' });

  it('binds a non-admin key to its tenant: its own is fine, any other is not found', () => {
    expect(resolveTenant(viewer, undefined)).toEqual({ ok: true, tenantId: 'acme' });
    expect(resolveTenant(viewer, 'acme')).toEqual({ ok: true, tenantId: 'acme' });
    expect(resolveTenant(viewer, 'globex')).toEqual({ ok: false });
    expect(resolveTenant(viewer, '*')).toEqual({ ok: false });
  });

  it('lets an admin name any tenant, defaulting to its own', () => {
    expect(resolveTenant(admin, undefined)).toEqual({ ok: true, tenantId: 'acme' });
    expect(resolveTenant(admin, 'globex')).toEqual({ ok: true, tenantId: 'globex' });
  });

  it('takes the tenant of a local caller from the arguments or its default', () => {
    expect(resolveTenant(localCaller(), undefined)).toEqual({ ok: true, tenantId: undefined });
    expect(resolveTenant(localCaller({ tenant: 'acme', transport: 'stdio' }), 'globex')).toEqual({ ok: true, tenantId: 'globex' });
    expect(localCaller({ transport: 'stdio' })).toEqual({ id: 'stdio', role: 'admin', transport: 'stdio' });
  });
});

describe('roleTools', () => {
  it('gives an admin every tool and keeps approve, deny and reload away from scanners and viewers', () => {
    expect(roleTools.admin).toEqual(toolNames);
    for (const tool of ['approve', 'deny', 'reload_policies'] as const) {
      expect(canCall('scanner', tool)).toBe(false);
      expect(canCall('viewer', tool)).toBe(false);
    }
    expect(canCall('approver', 'approve')).toBe(true);
    expect(canCall('approver', 'reload_policies')).toBe(false);
    expect(canCall('viewer', 'scan')).toBe(false);
    expect(canCall('scanner', 'query_audit')).toBe(false);
  });
});
