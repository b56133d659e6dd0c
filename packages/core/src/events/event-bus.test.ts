import { describe, expect, it } from 'vitest';
import type { Action, Boundary, Decision } from '../policy/types.js';
import type { Severity } from '../types.js';
import { createEventBus, matchesEventFilter } from './event-bus.js';
import type { PalisadeEvent } from './events.js';

function decisionEvent(overrides: { tenantId?: string; action?: Action; boundary?: Boundary; severity?: Severity } = {}): PalisadeEvent {
  const action = overrides.action ?? 'block';
  const boundary = overrides.boundary ?? 'input';
  return {
    type: 'decision',
    time: '2026-01-01T00:00:00.000Z',
    tenantId: overrides.tenantId ?? 'acme',
    severity: overrides.severity ?? 'HIGH',
    boundary,
    action,
    decision: { action, boundary, eventId: 'evt-1', scope: { tenantId: overrides.tenantId ?? 'acme' } } as Decision,
  };
}

function reloadEvent(severity: Severity = 'LOW'): PalisadeEvent {
  return { type: 'policy.reloaded', time: '2026-01-01T00:00:00.000Z', tenantId: '', severity, version: 'v2', previousVersion: 'v1' };
}

describe('createEventBus', () => {
  it('delivers after the emitter has moved on, never during emit', async () => {
    const bus = createEventBus();
    const seen: string[] = [];
    bus.on('*', (event) => {
      seen.push(event.type);
    });
    bus.emit(reloadEvent());
    expect(seen).toEqual([]);
    // The caller's own await resolves before any subscriber runs.
    await Promise.resolve();
    expect(seen).toEqual([]);
    await bus.idle();
    expect(seen).toEqual(['policy.reloaded']);
  });

  it('keeps emitting and delivering to the other subscribers when one throws or rejects', async () => {
    const reported: [unknown, string][] = [];
    const bus = createEventBus({ onSubscriberError: (error, event) => reported.push([error, event.type]) });
    const seen: string[] = [];
    bus.on('*', () => {
      throw new Error('sync failure');
    });
    bus.on('*', async () => {
      throw new Error('async failure');
    });
    bus.on('*', (event) => {
      seen.push(event.type);
    });

    expect(() => bus.emit(reloadEvent())).not.toThrow();
    await bus.idle();

    expect(seen).toEqual(['policy.reloaded']);
    expect(reported.map(([error, type]) => [(error as Error).message, type])).toEqual([
      ['sync failure', 'policy.reloaded'],
      ['async failure', 'policy.reloaded'],
    ]);
    expect(bus.stats()).toEqual({ emitted: 1, delivered: 1, subscriberErrors: 2 });
  });

  it('survives an error reporter that throws', async () => {
    const bus = createEventBus({
      onSubscriberError: () => {
        throw new Error('reporter failure');
      },
    });
    bus.on('*', () => {
      throw new Error('handler failure');
    });
    bus.emit(reloadEvent());
    await bus.idle();
    expect(bus.stats().subscriberErrors).toBe(1);
  });

  it('does not let a slow subscriber delay the emitter or the other subscribers', async () => {
    const bus = createEventBus();
    let releaseSlow: () => void = () => {};
    const slowDone = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    const fastSeen: number[] = [];
    bus.on('*', () => slowDone);
    bus.on('*', () => {
      fastSeen.push(Date.now());
    });

    const started = performance.now();
    for (let index = 0; index < 100; index += 1) bus.emit(reloadEvent());
    expect(performance.now() - started).toBeLessThan(50);

    await new Promise((resolve) => setImmediate(resolve));
    expect(fastSeen).toHaveLength(100);

    let idle = false;
    const idlePromise = bus.idle().then(() => {
      idle = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(idle).toBe(false);
    releaseSlow();
    await idlePromise;
    expect(bus.stats()).toEqual({ emitted: 100, delivered: 200, subscriberErrors: 0 });
  });

  it('delivers events to one subscriber in the order they were emitted', async () => {
    const bus = createEventBus();
    const seen: string[] = [];
    bus.on('*', (event) => {
      seen.push(event.tenantId);
    });
    for (const tenantId of ['a', 'b', 'c']) bus.emit(decisionEvent({ tenantId }));
    await bus.idle();
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('hands subscribers a frozen copy, so none can change the decision the caller holds', async () => {
    const bus = createEventBus();
    const event = decisionEvent({ action: 'block' });
    const errors: unknown[] = [];
    const tamper = createEventBus({ onSubscriberError: (error) => errors.push(error) });
    tamper.on('decision', (received) => {
      (received.decision as { action: Action }).action = 'allow';
    });
    tamper.emit(event);
    await tamper.idle();

    expect(event.type === 'decision' && event.decision.action).toBe('block');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TypeError);

    let received: PalisadeEvent | undefined;
    bus.on('*', (value) => {
      received = value;
    });
    bus.emit(event);
    await bus.idle();
    expect(received).toEqual(event);
    expect(received).not.toBe(event);
  });

  it('subscribes to one type, a list of types or every type', async () => {
    const bus = createEventBus();
    const byType: string[] = [];
    const byList: string[] = [];
    const all: string[] = [];
    bus.on('decision', (event) => {
      byType.push(event.action);
    });
    bus.on(['policy.reloaded', 'policy.reload_failed'], (event) => {
      byList.push(event.version);
    });
    bus.on('*', (event) => {
      all.push(event.type);
    });
    bus.emit(decisionEvent());
    bus.emit(reloadEvent());
    await bus.idle();
    expect(byType).toEqual(['block']);
    expect(byList).toEqual(['v2']);
    expect(all).toEqual(['decision', 'policy.reloaded']);
  });

  it('stops delivering after unsubscribe, even events emitted before it', async () => {
    const bus = createEventBus();
    const seen: string[] = [];
    const off = bus.on('*', (event) => {
      seen.push(event.type);
    });
    expect(bus.subscriberCount).toBe(1);
    bus.emit(reloadEvent());
    off();
    off();
    expect(bus.subscriberCount).toBe(0);
    await bus.idle();
    expect(seen).toEqual([]);
  });

  it('applies a filter given with the subscription', async () => {
    const bus = createEventBus();
    const seen: string[] = [];
    bus.on(
      '*',
      (event) => {
        seen.push(`${event.type}:${event.tenantId}`);
      },
      { tenantId: ['acme', 'globex'], action: 'block' },
    );
    bus.emit(decisionEvent({ tenantId: 'acme' }));
    bus.emit(decisionEvent({ tenantId: 'initech' }));
    bus.emit(decisionEvent({ tenantId: 'globex', action: 'flag' }));
    bus.emit(reloadEvent());
    await bus.idle();
    expect(seen).toEqual(['decision:acme']);
  });
});

describe('matchesEventFilter', () => {
  it('matches everything with an empty filter', () => {
    expect(matchesEventFilter(reloadEvent(), {})).toBe(true);
  });

  it('matches one tenant or a list of tenants, and an empty list matches none', () => {
    expect(matchesEventFilter(decisionEvent({ tenantId: 'acme' }), { tenantId: 'acme' })).toBe(true);
    expect(matchesEventFilter(decisionEvent({ tenantId: 'acme' }), { tenantId: ['globex', 'acme'] })).toBe(true);
    expect(matchesEventFilter(decisionEvent({ tenantId: 'acme' }), { tenantId: 'globex' })).toBe(false);
    expect(matchesEventFilter(decisionEvent({ tenantId: 'acme' }), { tenantId: [] })).toBe(false);
  });

  it('keeps events without a tenant out of a tenant filter unless it lists the empty tenant', () => {
    expect(matchesEventFilter(reloadEvent(), { tenantId: 'acme' })).toBe(false);
    expect(matchesEventFilter(reloadEvent(), { tenantId: ['acme', ''] })).toBe(true);
  });

  it('matches boundary and action on decision events only', () => {
    expect(
      matchesEventFilter(decisionEvent({ boundary: 'tool_call', action: 'escalate' }), {
        boundary: 'tool_call',
        action: ['block', 'escalate'],
      }),
    ).toBe(true);
    expect(matchesEventFilter(decisionEvent({ boundary: 'input' }), { boundary: 'tool_call' })).toBe(false);
    expect(matchesEventFilter(decisionEvent({ action: 'flag' }), { action: 'block' })).toBe(false);
    expect(matchesEventFilter(reloadEvent(), { boundary: 'input' })).toBe(false);
    expect(matchesEventFilter(reloadEvent(), { action: ['allow', 'block'] })).toBe(false);
  });

  it('matches a minimum severity inclusively', () => {
    expect(matchesEventFilter(decisionEvent({ severity: 'HIGH' }), { minSeverity: 'HIGH' })).toBe(true);
    expect(matchesEventFilter(decisionEvent({ severity: 'CRITICAL' }), { minSeverity: 'HIGH' })).toBe(true);
    expect(matchesEventFilter(decisionEvent({ severity: 'MEDIUM' }), { minSeverity: 'HIGH' })).toBe(false);
  });

  it('matches a list of types', () => {
    expect(matchesEventFilter(reloadEvent(), { types: ['policy.reloaded', 'decision'] })).toBe(true);
    expect(matchesEventFilter(reloadEvent(), { types: ['decision'] })).toBe(false);
  });
});
