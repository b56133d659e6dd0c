import type { Decision, Guard } from '@palisade/core';
import { describe, expect, it } from 'vitest';
import { callKey, callRegistryFor } from './call-registry.js';

const guard = (version = 'v1') => ({ policyVersion: version }) as unknown as Guard;
const decision = (action: Decision['action'], policyVersion = 'v1') => ({ action, policyVersion }) as Decision;
const acme = { tenantId: 'acme' };

describe('callRegistryFor', () => {
  it('reuses a decision for the same call id, tool, arguments and scope', () => {
    const registry = callRegistryFor(guard());
    registry.rememberCall('c1', callKey('email.send', { to: 'a@b.test' }, acme), { decision: decision('escalate'), runId: 'r1' });
    expect(registry.findCall('c1', callKey('email.send', { to: 'a@b.test' }, acme))?.decision.action).toBe('escalate');
    expect(registry.runOf('c1')).toEqual({ runId: 'r1' });
  });

  it('never carries a decision to another tenant, other arguments or another call id', () => {
    const registry = callRegistryFor(guard());
    registry.rememberCall('c1', callKey('email.send', { to: 'a@b.test' }, acme), { decision: decision('allow') });
    expect(registry.findCall('c1', callKey('email.send', { to: 'a@b.test' }, { tenantId: 'globex' }))).toBeUndefined();
    expect(registry.findCall('c1', callKey('email.send', { to: 'x@b.test' }, acme))).toBeUndefined();
    expect(registry.findCall('c2', callKey('email.send', { to: 'a@b.test' }, acme))).toBeUndefined();
  });

  it('forgets decisions made under another policy version', () => {
    const current = { policyVersion: 'v1' };
    const registry = callRegistryFor(current as unknown as Guard);
    const key = callKey('shell', { command: 'ls' }, acme);
    registry.rememberCall('c1', key, { decision: decision('allow', 'v1') });
    current.policyVersion = 'v2';
    expect(registry.findCall('c1', key)).toBeUndefined();
  });

  it('hands a once record out once, and a forgotten call is decided afresh', () => {
    const registry = callRegistryFor(guard());
    const key = callKey('email.send', { to: 'a@b.test' }, acme);
    registry.rememberCall('c1', key, { decision: decision('allow'), once: true });
    expect(registry.findCall('c1', key)).toBeDefined();
    expect(registry.findCall('c1', key)).toBeUndefined();
    registry.rememberCall('c2', key, { decision: decision('escalate') });
    registry.forgetCall('c2');
    expect(registry.findCall('c2', key)).toBeUndefined();
  });

  it('remembers checked results by content, and reuses nothing it cannot key', () => {
    const registry = callRegistryFor(guard());
    registry.rememberResult('c1', callKey('web.fetch', { status: 200 }, acme));
    expect(registry.hasResult('c1', callKey('web.fetch', { status: 200 }, acme))).toBe(true);
    expect(registry.hasResult('c1', callKey('web.fetch', { status: 500 }, acme))).toBe(false);
    expect(callKey('x', { n: Number.NaN }, acme)).toBeUndefined();
    expect(registry.hasResult('c1', undefined)).toBe(false);
  });
});
