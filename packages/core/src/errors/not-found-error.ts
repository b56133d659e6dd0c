import { PalisadeError } from './palisade-error.js';

const symbol: unique symbol = Symbol.for('palisade.error.not-found');

/** What was looked up. */
export type NotFoundKind = 'approval' | 'reservation' | 'receipt' | 'token';

/**
 * An approval, reservation, receipt or token does not exist for this tenant.
 *
 * INVARIANT: the message names only what the caller asked for (kind, id, its own tenant). A row of
 * another tenant is reported exactly like a row that does not exist, so the error never tells a
 * caller that an id is in use elsewhere.
 *
 * @example
 * const ticket = await store.getApproval(tenantId, id);
 * if (!ticket) throw new NotFoundError({ kind: 'approval', id, tenantId });
 */
export class NotFoundError extends PalisadeError {
  readonly [symbol] = true;
  readonly kind: NotFoundKind;
  readonly id: string;
  readonly tenantId: string;

  constructor({ kind, id, tenantId }: { kind: NotFoundKind; id: string; tenantId: string }) {
    super({
      code: 'NOT_FOUND',
      message: `No ${kind} ${JSON.stringify(id)} for tenant ${JSON.stringify(tenantId)}.`,
      hint: `Check the ${kind} id and the tenant the request is made for.`,
    });
    this.name = 'NotFoundError';
    this.kind = kind;
    this.id = id;
    this.tenantId = tenantId;
  }

  static override isInstance(error: unknown): error is NotFoundError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[symbol] === true;
  }
}
