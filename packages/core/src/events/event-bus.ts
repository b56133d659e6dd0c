import { severityRank } from '../types.js';
import type { EventFilter, PalisadeEvent, PalisadeEventType } from './events.js';

/** A subscriber. Its return value is ignored; a returned promise is only watched for rejection. */
export type EventHandler<E extends PalisadeEvent = PalisadeEvent> = (event: E) => void | Promise<void>;

/** The events of one type (or of several), narrowed from the union. */
/** The events whose type is `T` (members of the union that carry several types are narrowed to `T`). */
export type EventOfType<T extends PalisadeEventType> = PalisadeEvent extends infer E
  ? E extends PalisadeEvent
    ? [Extract<E['type'], T>] extends [never]
      ? never
      : E & { type: Extract<E['type'], T> }
    : never
  : never;

export interface EventBusOptions {
  /**
   * Called when a handler throws or its promise rejects. It runs outside the emitter and its own
   * errors are swallowed. Default: nothing (the error is only counted in `stats().subscriberErrors`).
   */
  onSubscriberError?(error: unknown, event: PalisadeEvent): void;
}

export interface EventBusStats {
  /** Events passed to `emit`. */
  emitted: number;
  /** Handler calls that returned (or whose promise resolved) without an error. */
  delivered: number;
  /** Handler calls that threw or rejected. */
  subscriberErrors: number;
}

/**
 * Fans out guard events (decisions, approvals, budgets, reloads, audit and alert failures) to
 * subscribers such as the alerter, metrics or a dashboard stream.
 *
 * INVARIANT: `emit` never runs a handler synchronously, never throws and never waits. Deliveries are
 * scheduled with `setImmediate`, so a caller that emits and then resolves a decision hands that
 * decision back before any subscriber runs. A throwing, rejecting or slow handler cannot change,
 * fail or delay a decision, nor delay the other handlers (STYLE.md point 4).
 *
 * INVARIANT: handlers receive a frozen deep copy of the event, made after the emitter has moved on,
 * so no subscriber can change the emitter's objects (a `Decision` the caller still holds) or what
 * the other subscribers see. Values that cannot be copied (functions) fall back to the original.
 *
 * Ordering: one subscriber gets events in the order they were emitted; async handlers are not
 * awaited before the next event, so their work may overlap. A handler that unsubscribes gets no
 * further events, including those emitted but not yet delivered.
 */
export interface EventBus {
  /**
   * Subscribes to one type, several types or every type (`'*'`), optionally narrowed by a filter
   * (see `matchesEventFilter`). Returns the function that unsubscribes (calling it twice is harmless).
   */
  on<T extends PalisadeEventType>(type: T | readonly T[], handler: EventHandler<EventOfType<T>>, filter?: EventFilter): () => void;
  on(type: '*', handler: EventHandler, filter?: EventFilter): () => void;
  /** Schedules delivery of `event` to every matching subscriber. Never throws, never waits. */
  emit(event: PalisadeEvent): void;
  /** Subscriptions currently active. */
  readonly subscriberCount: number;
  stats(): EventBusStats;
  /**
   * Resolves once every delivery scheduled so far has ended, async handlers included. For tests and
   * graceful shutdown; emitters never wait on it.
   */
  idle(): Promise<void>;
}

interface Subscription {
  types: ReadonlySet<PalisadeEventType> | undefined;
  filter: EventFilter | undefined;
  handler: EventHandler;
  active: boolean;
}

/**
 * Whether an event passes a filter: every field given must match, and a list matches when it holds
 * the event's value (an empty list matches nothing).
 *
 * INVARIANT: `boundary` and `action` exist only on decision events; any other event does not match
 * a filter that names either of them. A subscriber asking for "blocks on tool calls" never receives
 * a budget or reload event. Events without a tenant have `tenantId: ''` and match only a filter
 * that lists `''`.
 *
 * @example
 * matchesEventFilter(event, { types: ['decision'], action: ['block', 'escalate'], minSeverity: 'HIGH' })
 */
export function matchesEventFilter(event: PalisadeEvent, filter: EventFilter): boolean {
  if (filter.types !== undefined && !filter.types.includes(event.type)) return false;
  if (filter.tenantId !== undefined && !oneOf(filter.tenantId, event.tenantId)) return false;
  if (filter.boundary !== undefined && (event.type !== 'decision' || !oneOf(filter.boundary, event.boundary))) return false;
  if (filter.action !== undefined && (event.type !== 'decision' || !oneOf(filter.action, event.action))) return false;
  if (filter.minSeverity !== undefined && severityRank(event.severity) < severityRank(filter.minSeverity)) return false;
  return true;
}

function oneOf<T extends string>(expected: T | readonly T[], actual: T): boolean {
  return typeof expected === 'string' ? expected === actual : expected.includes(actual);
}

/**
 * Creates an in-process event bus.
 *
 * @example
 * const bus = createEventBus({ onSubscriberError: (error, event) => metrics.count('subscriber_error', event.type) });
 * const off = bus.on('decision', (event) => dashboard.push(event), { action: ['block', 'escalate'] });
 * bus.emit({ type: 'decision', time, tenantId: 'acme', severity: 'HIGH', boundary: 'input', action: 'block', decision });
 * off();
 */
export function createEventBus(options: EventBusOptions = {}): EventBus {
  const subscriptions = new Set<Subscription>();
  const counters: EventBusStats = { emitted: 0, delivered: 0, subscriberErrors: 0 };
  let pending = 0;
  let idleWaiters: (() => void)[] = [];

  function settle(): void {
    pending -= 1;
    if (pending > 0 || idleWaiters.length === 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  function reportError(error: unknown, event: PalisadeEvent): void {
    counters.subscriberErrors += 1;
    try {
      options.onSubscriberError?.(error, event);
    } catch {
      // INVARIANT: an error reporter that throws is ignored; it must not reach the emitter or a handler.
    }
  }

  function call(subscription: Subscription, event: PalisadeEvent): void {
    if (!subscription.active) return;
    let result: unknown;
    try {
      result = subscription.handler(event);
    } catch (error) {
      reportError(error, event);
      return;
    }
    if (!isThenable(result)) {
      counters.delivered += 1;
      return;
    }
    pending += 1;
    result.then(
      () => {
        counters.delivered += 1;
        settle();
      },
      (error: unknown) => {
        reportError(error, event);
        settle();
      },
    );
  }

  function deliver(event: PalisadeEvent, targets: readonly Subscription[]): void {
    try {
      const snapshot = frozenCopy(event);
      for (const subscription of targets) call(subscription, snapshot);
    } catch (error) {
      // `call` catches handler errors; this only guards the bus itself against crashing the process.
      reportError(error, event);
    } finally {
      settle();
    }
  }

  function on(
    type: PalisadeEventType | '*' | readonly PalisadeEventType[],
    handler: EventHandler<never>,
    filter?: EventFilter,
  ): () => void {
    const types = type === '*' ? undefined : new Set<PalisadeEventType>(typeof type === 'string' ? [type] : type);
    const subscription: Subscription = { types, filter, handler: handler as EventHandler, active: true };
    subscriptions.add(subscription);
    return () => {
      subscription.active = false;
      subscriptions.delete(subscription);
    };
  }

  return {
    on: on as EventBus['on'],
    emit(event) {
      counters.emitted += 1;
      try {
        const targets: Subscription[] = [];
        for (const subscription of subscriptions) {
          if (subscription.types !== undefined && !subscription.types.has(event.type)) continue;
          if (subscription.filter !== undefined && !matchesEventFilter(event, subscription.filter)) continue;
          targets.push(subscription);
        }
        if (targets.length === 0) return;
        pending += 1;
        setImmediate(deliver, event, targets);
      } catch (error) {
        // Only a malformed event can get here (emitters are typed); it is reported, never thrown.
        reportError(error, event);
      }
    },
    get subscriberCount() {
      return subscriptions.size;
    },
    stats: () => ({ ...counters }),
    idle() {
      if (pending === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function frozenCopy(event: PalisadeEvent): PalisadeEvent {
  let copy: PalisadeEvent;
  try {
    copy = structuredClone(event);
  } catch {
    return event;
  }
  return deepFreeze(copy);
}

function deepFreeze<T>(value: T): T {
  // Typed arrays with elements cannot be frozen (and Buffers come out of structuredClone as them).
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
