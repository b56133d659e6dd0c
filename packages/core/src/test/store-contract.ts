import { afterEach, describe, expect, it } from 'vitest';
import { StoreFailedError } from '../errors/store-failed-error.js';
import type { ApprovalTicket, AuditIndexRow, CounterKey, ReserveRequest, Store, UsageRecord } from '../store/store.js';

export interface StoreContractOptions {
  /**
   * Closes a store and opens a new one on the same state (same file, same database). When given,
   * the contract also checks that everything written survives a reopen.
   */
  reopen?: (store: Store) => Promise<Store> | Store;
  /** Skip the test that indexes 10,050 receipts to check the 10,000-row cap (slow backends). */
  skipLargeQueries?: boolean;
}

/**
 * Registers the behaviour every `Store` must have as vitest `describe`/`it` blocks: approvals and
 * their transitions, budget reservations, usage summaries, the token vault, the audit index,
 * closing, and tenant isolation (tenant b can neither read nor change tenant a's rows by id).
 * `makeStore` is called once per test and must return an empty store.
 *
 * @example
 * // my-store.test.ts
 * import { runStoreContract } from '@palisade/core/test';
 * runStoreContract('postgres', () => openPostgresStore({ url: process.env.TEST_DATABASE_URL }));
 */
export function runStoreContract(name: string, makeStore: () => Promise<Store> | Store, options: StoreContractOptions = {}): void {
  describe(`${name} store (contract)`, () => {
    const open: Store[] = [];
    const fresh = async (): Promise<Store> => {
      const store = await makeStore();
      open.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of open.splice(0)) await store.close().catch(() => undefined);
    });

    describe('approvals', () => {
      it('returns a created ticket with every field as it was given', async () => {
        const store = await fresh();
        const ticket = buildTicket({
          appId: 'chatbot',
          userId: 'u1',
          sessionId: 's1',
          tool: 'send_email',
          args: { to: 'x@example.com', nested: [1, { deep: true }] },
          sealedEvent: 'v1.sealed',
          argsHash: 'abc123',
        });
        await store.createApproval(ticket);
        expect(await store.getApproval('acme', ticket.id)).toEqual(ticket);
      });

      it('answers undefined for an id that was never created', async () => {
        const store = await fresh();
        expect(await store.getApproval('acme', 'nope')).toBeUndefined();
      });

      it('refuses a second ticket with the same id for the same tenant and keeps the first', async () => {
        const store = await fresh();
        await store.createApproval(buildTicket({ id: 't1', reason: 'first' }));
        await expect(store.createApproval(buildTicket({ id: 't1', reason: 'second' }))).rejects.toSatisfy(StoreFailedError.isInstance);
        expect((await store.getApproval('acme', 't1'))?.reason).toBe('first');
      });

      it('hands out copies: changing a returned ticket does not change the stored one', async () => {
        const store = await fresh();
        const ticket = buildTicket({ args: { n: 1 } });
        await store.createApproval(ticket);
        ticket.reason = 'changed after create';
        const read = await store.getApproval('acme', ticket.id);
        read!.approvals.push({ approver: 'mallory', at: 1 });
        (read!.args as { n: number }).n = 2;
        const again = await store.getApproval('acme', ticket.id);
        expect(again?.approvals).toEqual([]);
        expect(again?.args).toEqual({ n: 1 });
        expect(again?.reason).toBe('needs a human');
      });

      it('lists a tenant\u2019s tickets oldest first, filtered by status (one or several) and app, up to the limit', async () => {
        const store = await fresh();
        await store.createApproval(buildTicket({ id: 'c', createdAt: 3, appId: 'x' }));
        await store.createApproval(buildTicket({ id: 'a', createdAt: 1, appId: 'x' }));
        await store.createApproval(buildTicket({ id: 'b', createdAt: 2, appId: 'y', status: 'denied' }));
        await store.createApproval(buildTicket({ id: 'd', createdAt: 4, status: 'approved' }));
        const ids = (tickets: ApprovalTicket[]) => tickets.map((ticket) => ticket.id);
        expect(ids(await store.listApprovals('acme'))).toEqual(['a', 'b', 'c', 'd']);
        expect(ids(await store.listApprovals('acme', { status: 'pending' }))).toEqual(['a', 'c']);
        expect(ids(await store.listApprovals('acme', { status: ['denied', 'approved'] }))).toEqual(['b', 'd']);
        expect(ids(await store.listApprovals('acme', { appId: 'x' }))).toEqual(['a', 'c']);
        expect(ids(await store.listApprovals('acme', { appId: 'x', status: 'denied' }))).toEqual([]);
        expect(ids(await store.listApprovals('acme', { limit: 2 }))).toEqual(['a', 'b']);
        expect(await store.listApprovals('other')).toEqual([]);
      });

      it('approves a ticket that needs one approval, recording the vote', async () => {
        const store = await fresh();
        await store.createApproval(buildTicket({ id: 't1' }));
        const result = await store.transitionApproval('acme', 't1', { kind: 'approve', approver: 'ann', note: 'ok', at: 50 });
        expect(result).toEqual({
          outcome: 'changed',
          ticket: expect.objectContaining({ status: 'approved', approvals: [{ approver: 'ann', note: 'ok', at: 50 }] }),
        });
        expect(await store.getApproval('acme', 't1')).toEqual(result.outcome === 'changed' ? result.ticket : undefined);
      });

      it('stays pending until enough distinct approvers voted; the same approver twice changes nothing', async () => {
        const store = await fresh();
        await store.createApproval(buildTicket({ id: 't1', requiredApprovals: 2 }));
        const first = await store.transitionApproval('acme', 't1', { kind: 'approve', approver: 'ann', at: 10 });
        expect(first.outcome).toBe('changed');
        expect(first.outcome !== 'not_found' && first.ticket.status).toBe('pending');
        const repeat = await store.transitionApproval('acme', 't1', { kind: 'approve', approver: 'ann', at: 11 });
        expect(repeat.outcome).toBe('unchanged');
        expect(repeat.outcome !== 'not_found' && repeat.ticket.approvals).toEqual([{ approver: 'ann', at: 10 }]);
        const second = await store.transitionApproval('acme', 't1', { kind: 'approve', approver: 'bob', at: 12 });
        expect(second.outcome !== 'not_found' && second.ticket.status).toBe('approved');
        expect((await store.getApproval('acme', 't1'))?.approvals.map((vote) => vote.approver)).toEqual(['ann', 'bob']);
      });

      it('denies with the approver, reason and time as the resolution', async () => {
        const store = await fresh();
        await store.createApproval(buildTicket({ id: 't1' }));
        const result = await store.transitionApproval('acme', 't1', { kind: 'deny', approver: 'ann', reason: 'too risky', at: 20 });
        expect(result.outcome).toBe('changed');
        const stored = await store.getApproval('acme', 't1');
        expect(stored?.status).toBe('denied');
        expect(stored?.resolution).toEqual({ by: 'ann', reason: 'too risky', at: 20 });
      });

      it('leaves an ended ticket as it is and says so (unchanged, with its status)', async () => {
        const store = await fresh();
        await store.createApproval(buildTicket({ id: 'denied' }));
        await store.createApproval(buildTicket({ id: 'approved' }));
        await store.transitionApproval('acme', 'denied', { kind: 'deny', approver: 'ann', reason: 'no', at: 20 });
        await store.transitionApproval('acme', 'approved', { kind: 'approve', approver: 'ann', at: 20 });
        const lateApprove = await store.transitionApproval('acme', 'denied', { kind: 'approve', approver: 'bob', at: 30 });
        const lateDeny = await store.transitionApproval('acme', 'approved', { kind: 'deny', approver: 'bob', reason: 'no', at: 30 });
        const lateExpire = await store.transitionApproval('acme', 'approved', { kind: 'expire', at: 10_000 });
        expect(lateApprove).toEqual({ outcome: 'unchanged', ticket: expect.objectContaining({ status: 'denied', approvals: [] }) });
        expect(lateDeny).toEqual({ outcome: 'unchanged', ticket: expect.objectContaining({ status: 'approved' }) });
        expect(lateExpire).toEqual({ outcome: 'unchanged', ticket: expect.objectContaining({ status: 'approved' }) });
        expect((await store.getApproval('acme', 'approved'))?.resolution).toBeUndefined();
      });

      it('expires a pending ticket only at or after its expiry', async () => {
        const store = await fresh();
        await store.createApproval(buildTicket({ id: 't1', expiresAt: 1000 }));
        const early = await store.transitionApproval('acme', 't1', { kind: 'expire', at: 999 });
        expect(early).toEqual({ outcome: 'unchanged', ticket: expect.objectContaining({ status: 'pending' }) });
        const due = await store.transitionApproval('acme', 't1', { kind: 'expire', at: 1000 });
        expect(due).toEqual({ outcome: 'changed', ticket: expect.objectContaining({ status: 'expired' }) });
        const stored = await store.getApproval('acme', 't1');
        expect(stored?.status).toBe('expired');
        expect(stored?.resolution?.at).toBe(1000);
      });

      it('answers not_found for a transition of an unknown id', async () => {
        const store = await fresh();
        expect(await store.transitionApproval('acme', 'nope', { kind: 'approve', approver: 'ann', at: 1 })).toEqual({
          outcome: 'not_found',
        });
      });

      it('lets exactly one of two racing transitions change the ticket; the other sees the outcome', async () => {
        const store = await fresh();
        for (let round = 0; round < 10; round += 1) {
          await store.createApproval(buildTicket({ id: `race-${round}` }));
          const results = await Promise.all([
            store.transitionApproval('acme', `race-${round}`, { kind: 'approve', approver: 'ann', at: 5 }),
            store.transitionApproval('acme', `race-${round}`, { kind: 'deny', approver: 'bob', reason: 'no', at: 5 }),
            store.transitionApproval('acme', `race-${round}`, { kind: 'expire', at: 10_000_000 }),
          ]);
          const changed = results.filter((result) => result.outcome === 'changed');
          expect(changed).toHaveLength(1);
          const final = await store.getApproval('acme', `race-${round}`);
          expect(changed[0]?.outcome === 'changed' && changed[0].ticket.status).toBe(final?.status);
          for (const result of results) if (result.outcome === 'unchanged') expect(result.ticket.status).toBe(final?.status);
        }
      });

      it('lists pending tickets of every tenant that expired at or before now, soonest first, up to the limit', async () => {
        const store = await fresh();
        await store.createApproval(buildTicket({ tenantId: 'a', id: 'late', expiresAt: 300 }));
        await store.createApproval(buildTicket({ tenantId: 'b', id: 'early', expiresAt: 100 }));
        await store.createApproval(buildTicket({ tenantId: 'a', id: 'due-now', expiresAt: 200 }));
        await store.createApproval(buildTicket({ tenantId: 'a', id: 'future', expiresAt: 201 }));
        await store.createApproval(buildTicket({ tenantId: 'b', id: 'denied', expiresAt: 50 }));
        await store.transitionApproval('b', 'denied', { kind: 'deny', approver: 'ann', reason: 'no', at: 10 });
        expect(await store.listExpiredApprovals(200)).toEqual([
          { tenantId: 'b', id: 'early' },
          { tenantId: 'a', id: 'due-now' },
        ]);
        expect(await store.listExpiredApprovals(1000, 2)).toEqual([
          { tenantId: 'b', id: 'early' },
          { tenantId: 'a', id: 'due-now' },
        ]);
        expect(await store.listExpiredApprovals(99)).toEqual([]);
      });

      it('consumes an approved ticket once, recording when', async () => {
        const store = await fresh();
        await store.createApproval(buildTicket({ id: 't1' }));
        expect(await store.consumeApproval('acme', 't1', 70)).toBe(false);
        await store.transitionApproval('acme', 't1', { kind: 'approve', approver: 'ann', at: 60 });
        expect(await store.consumeApproval('acme', 't1', 70)).toBe(true);
        expect(await store.consumeApproval('acme', 't1', 80)).toBe(false);
        expect((await store.getApproval('acme', 't1'))?.consumedAt).toBe(70);
      });

      it('never consumes a denied, expired or unknown ticket', async () => {
        const store = await fresh();
        await store.createApproval(buildTicket({ id: 'denied' }));
        await store.createApproval(buildTicket({ id: 'expired', expiresAt: 5 }));
        await store.transitionApproval('acme', 'denied', { kind: 'deny', approver: 'ann', reason: 'no', at: 1 });
        await store.transitionApproval('acme', 'expired', { kind: 'expire', at: 5 });
        expect(await store.consumeApproval('acme', 'denied', 10)).toBe(false);
        expect(await store.consumeApproval('acme', 'expired', 10)).toBe(false);
        expect(await store.consumeApproval('acme', 'nope', 10)).toBe(false);
      });

      it('lets one of several racing consumers through', async () => {
        const store = await fresh();
        await store.createApproval(buildTicket({ id: 't1', status: 'approved' }));
        const results = await Promise.all(Array.from({ length: 5 }, (_, index) => store.consumeApproval('acme', 't1', index)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('budgets', () => {
      const day: CounterKey = { scope: 'tenant', period: 'day', windowStart: 86_400_000 };
      const month: CounterKey = { scope: 'app:chatbot', period: 'month', windowStart: 0 };

      it('reads zeros for counters never charged, in the order asked', async () => {
        const store = await fresh();
        expect(await store.readCounters('acme', [month, day])).toEqual([
          { ...month, spent: 0, reserved: 0 },
          { ...day, spent: 0, reserved: 0 },
        ]);
      });

      it('charges a reservation to the reserved amount of every counter', async () => {
        const store = await fresh();
        expect(await store.reserveBudget(reservation({ amount: 300, counters: [{ ...day, hardLimit: 1000 }, month] }))).toEqual({
          ok: true,
        });
        expect(await store.readCounters('acme', [day, month])).toEqual([
          { ...day, spent: 0, reserved: 300 },
          { ...month, spent: 0, reserved: 300 },
        ]);
      });

      it('reserves up to the hard limit exactly, and refuses one nano-dollar more, naming the full counter', async () => {
        const store = await fresh();
        expect(
          await store.reserveBudget(reservation({ reservationId: 'r1', amount: 600, counters: [{ ...day, hardLimit: 1000 }] })),
        ).toEqual({
          ok: true,
        });
        await store.settleReservation('acme', 'r1', 600, 1);
        expect(
          await store.reserveBudget(reservation({ reservationId: 'r2', amount: 300, counters: [{ ...day, hardLimit: 1000 }] })),
        ).toEqual({
          ok: true,
        });
        expect(
          await store.reserveBudget(reservation({ reservationId: 'r3', amount: 100, counters: [{ ...day, hardLimit: 1000 }] })),
        ).toEqual({
          ok: true,
        });
        expect(await store.reserveBudget(reservation({ reservationId: 'r4', amount: 1, counters: [{ ...day, hardLimit: 1000 }] }))).toEqual(
          {
            ok: false,
            counter: { ...day, spent: 600, reserved: 400, hardLimit: 1000 },
          },
        );
      });

      it('charges no counter when one of them refuses (all or nothing)', async () => {
        const store = await fresh();
        await store.reserveBudget(reservation({ reservationId: 'fill', amount: 90, counters: [month] }));
        const refused = await store.reserveBudget(
          reservation({
            reservationId: 'r1',
            amount: 20,
            counters: [
              { ...day, hardLimit: 1000 },
              { ...month, hardLimit: 100 },
            ],
          }),
        );
        expect(refused).toEqual({ ok: false, counter: { ...month, spent: 0, reserved: 90, hardLimit: 100 } });
        expect(await store.readCounters('acme', [day, month])).toEqual([
          { ...day, spent: 0, reserved: 0 },
          { ...month, spent: 0, reserved: 90 },
        ]);
        expect(await store.settleReservation('acme', 'r1', 20, 2)).toBe(false);
      });

      it('never refuses for counters without a hard limit', async () => {
        const store = await fresh();
        expect(await store.reserveBudget(reservation({ amount: 5_000_000_000_000, counters: [day] }))).toEqual({ ok: true });
      });

      it('charges a counter listed twice once, within the smaller of its limits', async () => {
        const store = await fresh();
        expect(
          await store.reserveBudget(
            reservation({
              reservationId: 'r1',
              amount: 60,
              counters: [
                { ...day, hardLimit: 1000 },
                { ...day, hardLimit: 100 },
              ],
            }),
          ),
        ).toEqual({ ok: true });
        expect(await store.readCounters('acme', [day])).toEqual([{ ...day, spent: 0, reserved: 60 }]);
        expect(
          (
            await store.reserveBudget(
              reservation({
                reservationId: 'r2',
                amount: 60,
                counters: [
                  { ...day, hardLimit: 1000 },
                  { ...day, hardLimit: 100 },
                ],
              }),
            )
          ).ok,
        ).toBe(false);
        await store.settleReservation('acme', 'r1', 50, 3);
        expect(await store.readCounters('acme', [day])).toEqual([{ ...day, spent: 50, reserved: 0 }]);
      });

      it('keeps counters of different scopes, periods and windows apart', async () => {
        const store = await fresh();
        const nextDay = { ...day, windowStart: day.windowStart + 86_400_000 };
        const weekly = { ...day, period: 'week' as const };
        const user = { ...day, scope: 'user:u1' };
        await store.reserveBudget(reservation({ amount: 7, counters: [day] }));
        expect(await store.readCounters('acme', [nextDay, weekly, user])).toEqual([
          { ...nextDay, spent: 0, reserved: 0 },
          { ...weekly, spent: 0, reserved: 0 },
          { ...user, spent: 0, reserved: 0 },
        ]);
      });

      it('settles a reservation into spending of the actual cost, releasing what it held, once', async () => {
        const store = await fresh();
        await store.reserveBudget(reservation({ reservationId: 'r1', amount: 500, counters: [day, month] }));
        expect(await store.settleReservation('acme', 'r1', 320, 10)).toBe(true);
        expect(await store.readCounters('acme', [day, month])).toEqual([
          { ...day, spent: 320, reserved: 0 },
          { ...month, spent: 320, reserved: 0 },
        ]);
        expect(await store.settleReservation('acme', 'r1', 320, 11)).toBe(false);
        expect(await store.releaseReservation('acme', 'r1')).toBe(false);
        expect(await store.readCounters('acme', [day])).toEqual([{ ...day, spent: 320, reserved: 0 }]);
      });

      it('counts the actual cost even when it is more than was reserved', async () => {
        const store = await fresh();
        await store.reserveBudget(reservation({ reservationId: 'r1', amount: 100, counters: [{ ...day, hardLimit: 100 }] }));
        await store.settleReservation('acme', 'r1', 150, 10);
        expect(await store.readCounters('acme', [day])).toEqual([{ ...day, spent: 150, reserved: 0 }]);
        expect(
          (await store.reserveBudget(reservation({ reservationId: 'r2', amount: 0, counters: [{ ...day, hardLimit: 100 }] }))).ok,
        ).toBe(false);
      });

      it('releases a reservation without spending', async () => {
        const store = await fresh();
        await store.reserveBudget(reservation({ reservationId: 'r1', amount: 500, counters: [day] }));
        expect(await store.releaseReservation('acme', 'r1')).toBe(true);
        expect(await store.releaseReservation('acme', 'r1')).toBe(false);
        expect(await store.readCounters('acme', [day])).toEqual([{ ...day, spent: 0, reserved: 0 }]);
      });

      it('answers false for settling or releasing an unknown reservation', async () => {
        const store = await fresh();
        expect(await store.settleReservation('acme', 'nope', 1, 1)).toBe(false);
        expect(await store.releaseReservation('acme', 'nope')).toBe(false);
      });

      it('releases the reservations of every tenant that expired at or before now, and counts them', async () => {
        const store = await fresh();
        await store.reserveBudget(reservation({ tenantId: 'a', reservationId: 'old', amount: 10, counters: [day], expiresAt: 100 }));
        await store.reserveBudget(reservation({ tenantId: 'b', reservationId: 'due', amount: 20, counters: [day], expiresAt: 200 }));
        await store.reserveBudget(reservation({ tenantId: 'a', reservationId: 'live', amount: 40, counters: [day], expiresAt: 201 }));
        expect(await store.releaseExpiredReservations(200)).toBe(2);
        expect(await store.readCounters('a', [day])).toEqual([{ ...day, spent: 0, reserved: 40 }]);
        expect(await store.readCounters('b', [day])).toEqual([{ ...day, spent: 0, reserved: 0 }]);
        expect(await store.settleReservation('a', 'old', 10, 300)).toBe(false);
        expect(await store.settleReservation('a', 'live', 30, 300)).toBe(true);
        expect(await store.releaseExpiredReservations(10_000)).toBe(0);
      });

      it('refuses a second reservation with the same id for the same tenant without charging it', async () => {
        const store = await fresh();
        await store.reserveBudget(reservation({ reservationId: 'r1', amount: 10, counters: [day] }));
        await expect(store.reserveBudget(reservation({ reservationId: 'r1', amount: 10, counters: [day] }))).rejects.toSatisfy(
          StoreFailedError.isInstance,
        );
        expect(await store.readCounters('acme', [day])).toEqual([{ ...day, spent: 0, reserved: 10 }]);
      });

      it('refuses amounts that are not non-negative integers of nano-dollars', async () => {
        const store = await fresh();
        for (const amount of [1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
          await expect(store.reserveBudget(reservation({ reservationId: `r${amount}`, amount, counters: [day] }))).rejects.toSatisfy(
            StoreFailedError.isInstance,
          );
        }
        await store.reserveBudget(reservation({ reservationId: 'ok', amount: 5, counters: [day] }));
        await expect(store.settleReservation('acme', 'ok', 0.5, 1)).rejects.toSatisfy(StoreFailedError.isInstance);
        expect(await store.readCounters('acme', [day])).toEqual([{ ...day, spent: 0, reserved: 5 }]);
      });

      it('never lets racing reservations overshoot a hard limit', async () => {
        const store = await fresh();
        const results = await Promise.all(
          Array.from({ length: 25 }, (_, index) =>
            store.reserveBudget(reservation({ reservationId: `r${index}`, amount: 7, counters: [{ ...day, hardLimit: 100 }] })),
          ),
        );
        expect(results.filter((result) => result.ok)).toHaveLength(14);
        expect(await store.readCounters('acme', [day])).toEqual([{ ...day, spent: 0, reserved: 98 }]);
      });
    });

    describe('usage', () => {
      it('sums usage between from (inclusive) and to (exclusive), by model, tenant and app', async () => {
        const store = await fresh();
        await store.recordUsage(
          usage({ tenantId: 'a', appId: 'chat', model: 'm1', cost: 100, inputTokens: 10, outputTokens: 1, at: 1000 }),
        );
        await store.recordUsage(
          usage({ tenantId: 'a', appId: 'chat', model: 'm2', cost: 200, inputTokens: 20, outputTokens: 2, at: 1500 }),
        );
        await store.recordUsage(usage({ tenantId: 'a', model: 'm1', cost: 300, inputTokens: 30, outputTokens: 3, at: 1999 }));
        await store.recordUsage(
          usage({ tenantId: 'b', appId: 'chat', model: 'm1', cost: 400, inputTokens: 40, outputTokens: 4, at: 1200 }),
        );
        await store.recordUsage(usage({ tenantId: 'a', model: 'm1', cost: 999, at: 2000 }));
        await store.recordUsage(usage({ tenantId: 'a', model: 'm1', cost: 999, at: 999 }));
        expect(await store.summarizeUsage({ tenantId: 'a', from: 1000, to: 2000 })).toEqual({
          total: 600,
          inputTokens: 60,
          outputTokens: 6,
          calls: 3,
          byModel: {
            m1: { cost: 400, inputTokens: 40, outputTokens: 4, calls: 2 },
            m2: { cost: 200, inputTokens: 20, outputTokens: 2, calls: 1 },
          },
          byTenant: { a: { cost: 600, calls: 3 } },
          byApp: { chat: { cost: 300, calls: 2 }, '': { cost: 300, calls: 1 } },
        });
        const all = await store.summarizeUsage({ tenantId: undefined, from: 1000, to: 2000 });
        expect(all.total).toBe(1000);
        expect(all.byTenant).toEqual({ a: { cost: 600, calls: 3 }, b: { cost: 400, calls: 1 } });
        expect(all.byApp).toEqual({ chat: { cost: 700, calls: 3 }, '': { cost: 300, calls: 1 } });
      });

      it('sums to zeros over a range without usage', async () => {
        const store = await fresh();
        await store.recordUsage(usage({ at: 5 }));
        expect(await store.summarizeUsage({ tenantId: 'acme', from: 10, to: 20 })).toEqual({
          total: 0,
          inputTokens: 0,
          outputTokens: 0,
          calls: 0,
          byModel: {},
          byTenant: {},
          byApp: {},
        });
      });

      it('keeps large sums exact (integer nano-dollars)', async () => {
        const store = await fresh();
        for (let index = 0; index < 3; index += 1) await store.recordUsage(usage({ cost: 1_000_000_000_001, at: 1 }));
        expect((await store.summarizeUsage({ tenantId: 'acme', from: 0, to: 2 })).total).toBe(3_000_000_000_003);
      });
    });

    describe('token vault', () => {
      it('returns the entries asked for that exist and have not expired, in the order asked', async () => {
        const store = await fresh();
        await store.putVaultEntries('acme', [
          { token: 'tok_1', sealed: 's1' },
          { token: 'tok_2', sealed: 's2', expiresAt: 100 },
          { token: 'tok_3', sealed: 's3', expiresAt: 101 },
        ]);
        expect(await store.getVaultEntries('acme', ['tok_3', 'tok_missing', 'tok_2', 'tok_1'], 100)).toEqual([
          { token: 'tok_3', sealed: 's3', expiresAt: 101 },
          { token: 'tok_1', sealed: 's1' },
        ]);
        expect(await store.getVaultEntries('acme', [], 100)).toEqual([]);
      });

      it('replaces an entry put again under the same token', async () => {
        const store = await fresh();
        await store.putVaultEntries('acme', [{ token: 'tok_1', sealed: 'old', expiresAt: 100 }]);
        await store.putVaultEntries('acme', [{ token: 'tok_1', sealed: 'new', expiresAt: 500 }]);
        expect(await store.getVaultEntries('acme', ['tok_1'], 200)).toEqual([{ token: 'tok_1', sealed: 'new', expiresAt: 500 }]);
      });

      it('deletes expired entries of every tenant and counts them; entries without expiry stay', async () => {
        const store = await fresh();
        await store.putVaultEntries('a', [
          { token: 't1', sealed: 's', expiresAt: 100 },
          { token: 't2', sealed: 's' },
        ]);
        await store.putVaultEntries('b', [
          { token: 't1', sealed: 's', expiresAt: 50 },
          { token: 't3', sealed: 's', expiresAt: 101 },
        ]);
        expect(await store.deleteExpiredVaultEntries(100)).toBe(2);
        expect(await store.getVaultEntries('a', ['t1', 't2'], 0)).toEqual([{ token: 't2', sealed: 's' }]);
        expect(await store.getVaultEntries('b', ['t1', 't3'], 0)).toEqual([{ token: 't3', sealed: 's', expiresAt: 101 }]);
      });
    });

    describe('audit index', () => {
      it('has no head before anything is indexed, then the newest receipt', async () => {
        const store = await fresh();
        expect(await store.auditHead()).toBeUndefined();
        await store.indexReceipts([receipt(2), receipt(1)]);
        await store.indexReceipts([receipt(3)]);
        expect(await store.auditHead()).toEqual({ seq: 3, hash: 'h3' });
      });

      it('returns indexed receipts oldest first with every field, and newest first when asked', async () => {
        const store = await fresh();
        const full = receipt(1, { appId: 'chat', userId: 'u1', boundary: 'tool_call', tool: 'shell', action: 'block', rule: 'p/r' });
        await store.indexReceipts([full, receipt(2), receipt(3)]);
        const rows = await store.queryReceipts({ tenantId: 'acme' });
        expect(rows).toEqual([full, receipt(2), receipt(3)]);
        expect((await store.queryReceipts({ tenantId: 'acme', descending: true })).map((row) => row.seq)).toEqual([3, 2, 1]);
      });

      it('indexes idempotently: a sequence number indexed again keeps its first row', async () => {
        const store = await fresh();
        await store.indexReceipts([receipt(1), receipt(2)]);
        await store.indexReceipts([receipt(2, { hash: 'other' }), receipt(3)]);
        expect((await store.queryReceipts({ tenantId: undefined })).map((row) => [row.seq, row.hash])).toEqual([
          [1, 'h1'],
          [2, 'h2'],
          [3, 'h3'],
        ]);
      });

      it('filters by tenant, app, time range, action (one or several), rule and kind', async () => {
        const store = await fresh();
        await store.indexReceipts([
          receipt(1, { tenantId: 'a', appId: 'chat', time: 100, action: 'block', rule: 'p/r1', kind: 'decision' }),
          receipt(2, { tenantId: 'a', appId: 'mail', time: 200, action: 'allow', rule: 'p/r2', kind: 'decision' }),
          receipt(3, { tenantId: 'b', appId: 'chat', time: 300, action: 'escalate', rule: 'p/r1', kind: 'decision' }),
          receipt(4, { tenantId: 'a', time: 400, kind: 'approval.approved' }),
        ]);
        const seqs = async (query: Parameters<Store['queryReceipts']>[0]) => (await store.queryReceipts(query)).map((row) => row.seq);
        expect(await seqs({ tenantId: 'a' })).toEqual([1, 2, 4]);
        expect(await seqs({ tenantId: undefined })).toEqual([1, 2, 3, 4]);
        expect(await seqs({ tenantId: undefined, appId: 'chat' })).toEqual([1, 3]);
        expect(await seqs({ tenantId: 'a', from: 200, to: 400 })).toEqual([2]);
        expect(await seqs({ tenantId: undefined, action: 'block' })).toEqual([1]);
        expect(await seqs({ tenantId: undefined, action: ['block', 'escalate'] })).toEqual([1, 3]);
        expect(await seqs({ tenantId: undefined, rule: 'p/r1' })).toEqual([1, 3]);
        expect(await seqs({ tenantId: undefined, kind: 'approval.approved' })).toEqual([4]);
        expect(await seqs({ tenantId: 'b', rule: 'p/r2' })).toEqual([]);
      });

      it('pages by afterSeq and limit (default 100)', async () => {
        const store = await fresh();
        await store.indexReceipts(Array.from({ length: 250 }, (_, index) => receipt(index + 1)));
        const first = await store.queryReceipts({ tenantId: 'acme' });
        expect(first).toHaveLength(100);
        expect(first.at(-1)?.seq).toBe(100);
        const next = await store.queryReceipts({ tenantId: 'acme', afterSeq: 100, limit: 120 });
        expect(next.map((row) => row.seq)).toEqual(Array.from({ length: 120 }, (_, index) => index + 101));
        expect((await store.queryReceipts({ tenantId: 'acme', afterSeq: 240, limit: 50 })).map((row) => row.seq)).toEqual([
          241, 242, 243, 244, 245, 246, 247, 248, 249, 250,
        ]);
        expect((await store.queryReceipts({ tenantId: 'acme', afterSeq: 240, limit: 3, descending: true })).map((row) => row.seq)).toEqual([
          250, 249, 248,
        ]);
      });

      it.skipIf(options.skipLargeQueries === true)('returns at most 10,000 receipts, whatever the limit', async () => {
        const store = await fresh();
        await store.indexReceipts(Array.from({ length: 10_050 }, (_, index) => receipt(index + 1, { receipt: '{}' })));
        expect(await store.queryReceipts({ tenantId: 'acme', limit: 50_000 })).toHaveLength(10_000);
      });
    });

    describe('audit outbox', () => {
      it('keeps records in order until they are deleted', async () => {
        const store = await fresh();
        await store.enqueueAuditRecords(['{"kind":"a"}', '{"kind":"b"}']);
        await store.enqueueAuditRecords(['{"kind":"c"}']);
        const first = await store.peekAuditRecords(2);
        expect(first.map((entry) => entry.record)).toEqual(['{"kind":"a"}', '{"kind":"b"}']);
        await store.deleteAuditRecords(first.map((entry) => entry.id));
        expect((await store.peekAuditRecords(10)).map((entry) => entry.record)).toEqual(['{"kind":"c"}']);
        await store.deleteAuditRecords([first[0]?.id ?? 0]);
        expect(await store.peekAuditRecords(10)).toHaveLength(1);
      });
    });

    describe('close', () => {
      it('rejects every call after close with StoreFailedError', async () => {
        const store = await fresh();
        await store.close();
        const day: CounterKey = { scope: 'tenant', period: 'day', windowStart: 0 };
        const calls: [string, () => Promise<unknown>][] = [
          ['createApproval', () => store.createApproval(buildTicket())],
          ['getApproval', () => store.getApproval('acme', 'x')],
          ['listApprovals', () => store.listApprovals('acme')],
          ['transitionApproval', () => store.transitionApproval('acme', 'x', { kind: 'expire', at: 1 })],
          ['listExpiredApprovals', () => store.listExpiredApprovals(1)],
          ['consumeApproval', () => store.consumeApproval('acme', 'x', 1)],
          ['reserveBudget', () => store.reserveBudget(reservation({ amount: 1, counters: [day] }))],
          ['settleReservation', () => store.settleReservation('acme', 'x', 1, 1)],
          ['releaseReservation', () => store.releaseReservation('acme', 'x')],
          ['releaseExpiredReservations', () => store.releaseExpiredReservations(1)],
          ['readCounters', () => store.readCounters('acme', [day])],
          ['recordUsage', () => store.recordUsage(usage())],
          ['summarizeUsage', () => store.summarizeUsage({ tenantId: 'acme', from: 0, to: 1 })],
          ['putVaultEntries', () => store.putVaultEntries('acme', [{ token: 't', sealed: 's' }])],
          ['getVaultEntries', () => store.getVaultEntries('acme', ['t'], 0)],
          ['deleteExpiredVaultEntries', () => store.deleteExpiredVaultEntries(1)],
          ['indexReceipts', () => store.indexReceipts([receipt(1)])],
          ['queryReceipts', () => store.queryReceipts({ tenantId: 'acme' })],
          ['auditHead', () => store.auditHead()],
        ];
        for (const [method, call] of calls) {
          const outcome = await call().then(
            () => 'resolved',
            (error: unknown) => (StoreFailedError.isInstance(error) ? 'StoreFailedError' : String(error)),
          );
          expect(`${method}: ${outcome}`).toBe(`${method}: StoreFailedError`);
        }
      });

      it('can be closed twice', async () => {
        const store = await fresh();
        await store.close();
        await expect(store.close()).resolves.toBeUndefined();
      });
    });

    if (options.reopen) {
      const reopen = options.reopen;
      it('keeps everything written across a close and reopen', async () => {
        const store = await fresh();
        const day: CounterKey = { scope: 'tenant', period: 'day', windowStart: 0 };
        const ticket = buildTicket({ id: 't1', args: { a: 1 } });
        await store.createApproval(ticket);
        await store.transitionApproval('acme', 't1', { kind: 'approve', approver: 'ann', at: 5 });
        await store.reserveBudget(reservation({ reservationId: 'r1', amount: 30, counters: [day] }));
        await store.recordUsage(usage({ cost: 12, at: 3 }));
        await store.putVaultEntries('acme', [{ token: 'tok', sealed: 's' }]);
        await store.indexReceipts([receipt(1), receipt(2)]);
        const reopened = await reopen(store);
        open.push(reopened);
        expect(await reopened.getApproval('acme', 't1')).toEqual({
          ...ticket,
          status: 'approved',
          approvals: [{ approver: 'ann', at: 5 }],
        });
        expect(await reopened.readCounters('acme', [day])).toEqual([{ ...day, spent: 0, reserved: 30 }]);
        expect(await reopened.settleReservation('acme', 'r1', 25, 6)).toBe(true);
        expect((await reopened.summarizeUsage({ tenantId: 'acme', from: 0, to: 10 })).total).toBe(12);
        expect(await reopened.getVaultEntries('acme', ['tok'], 0)).toEqual([{ token: 'tok', sealed: 's' }]);
        expect(await reopened.auditHead()).toEqual({ seq: 2, hash: 'h2' });
      });
    }

    describe('tenant isolation', () => {
      const tenants = ['a', 'b', 'c'] as const;
      const day: CounterKey = { scope: 'tenant', period: 'day', windowStart: 0 };
      const user: CounterKey = { scope: 'user:u1', period: 'month', windowStart: 0 };

      /** Writes the same ids for every tenant, with contents that say whose they are. */
      async function populate(store: Store): Promise<void> {
        let seq = 0;
        for (const tenantId of tenants) {
          await store.createApproval(buildTicket({ tenantId, id: 'pending', reason: `of ${tenantId}`, expiresAt: 100 }));
          await store.createApproval(buildTicket({ tenantId, id: 'approved', reason: `of ${tenantId}`, status: 'approved' }));
          await store.createApproval(buildTicket({ tenantId, id: `own-${tenantId}`, reason: `of ${tenantId}` }));
          await store.reserveBudget(reservation({ tenantId, reservationId: 'r1', amount: 10, counters: [day, user], expiresAt: 10_000 }));
          await store.reserveBudget(
            reservation({ tenantId, reservationId: `own-${tenantId}`, amount: 5, counters: [day], expiresAt: 10_000 }),
          );
          await store.recordUsage(usage({ tenantId, appId: 'chat', model: `model-${tenantId}`, cost: 100, at: 10 }));
          await store.putVaultEntries(tenantId, [
            { token: 'tok_shared', sealed: `sealed-${tenantId}` },
            { token: `tok_${tenantId}`, sealed: `sealed-${tenantId}`, expiresAt: 10_000 },
          ]);
          seq += 1;
          await store.indexReceipts([receipt(seq, { tenantId, appId: 'chat', rule: `rule-${tenantId}` })]);
        }
      }

      /** Everything tenant a owns, read as tenant a. */
      async function snapshotOfA(store: Store) {
        return {
          approvals: await store.listApprovals('a', { limit: 1000 }),
          counters: await store.readCounters('a', [day, user]),
          usage: await store.summarizeUsage({ tenantId: 'a', from: 0, to: 1000 }),
          vault: await store.getVaultEntries('a', ['tok_shared', 'tok_a'], 0),
          receipts: await store.queryReceipts({ tenantId: 'a' }),
        };
      }

      it('answers every read of tenant a\u2019s ids made as tenant b with not found or empty', async () => {
        const store = await fresh();
        await populate(store);
        expect(await store.getApproval('b', 'own-a')).toBeUndefined();
        expect((await store.getApproval('b', 'pending'))?.reason).toBe('of b');
        expect((await store.listApprovals('b')).map((ticket) => ticket.reason)).toEqual(['of b', 'of b', 'of b']);
        expect(await store.listApprovals('b', { status: 'pending', appId: 'a' })).toEqual([]);
        expect(await store.getVaultEntries('b', ['tok_a'], 0)).toEqual([]);
        expect(await store.getVaultEntries('b', ['tok_shared'], 0)).toEqual([{ token: 'tok_shared', sealed: 'sealed-b' }]);
        expect((await store.queryReceipts({ tenantId: 'b' })).map((row) => row.rule)).toEqual(['rule-b']);
        expect(await store.queryReceipts({ tenantId: 'b', rule: 'rule-a' })).toEqual([]);
        const usageOfB = await store.summarizeUsage({ tenantId: 'b', from: 0, to: 1000 });
        expect(Object.keys(usageOfB.byModel)).toEqual(['model-b']);
        expect(usageOfB.byTenant).toEqual({ b: { cost: 100, calls: 1 } });
        expect(await store.readCounters('b', [day, user])).toEqual([
          { ...day, spent: 0, reserved: 15 },
          { ...user, spent: 0, reserved: 10 },
        ]);
        expect(await store.queryReceipts({ tenantId: 'nobody' })).toEqual([]);
        expect(await store.listApprovals('nobody')).toEqual([]);
        expect((await store.summarizeUsage({ tenantId: 'nobody', from: 0, to: 1000 })).calls).toBe(0);
      });

      it('changes nothing of tenant a when tenant b writes with tenant a\u2019s ids', async () => {
        const store = await fresh();
        await populate(store);
        const before = await snapshotOfA(store);
        expect(await store.transitionApproval('b', 'own-a', { kind: 'approve', approver: 'mallory', at: 1 })).toEqual({
          outcome: 'not_found',
        });
        expect(await store.transitionApproval('b', 'own-a', { kind: 'deny', approver: 'mallory', reason: 'x', at: 1 })).toEqual({
          outcome: 'not_found',
        });
        expect(await store.transitionApproval('b', 'own-a', { kind: 'expire', at: 1_000_000 })).toEqual({ outcome: 'not_found' });
        expect((await store.transitionApproval('b', 'pending', { kind: 'deny', approver: 'mallory', reason: 'x', at: 1 })).outcome).toBe(
          'changed',
        );
        expect(await store.consumeApproval('b', 'own-a', 1)).toBe(false);
        expect(await store.consumeApproval('b', 'approved', 1)).toBe(true);
        expect(await store.settleReservation('b', 'own-a', 1_000, 1)).toBe(false);
        expect(await store.releaseReservation('b', 'own-a')).toBe(false);
        expect(await store.settleReservation('b', 'r1', 7, 1)).toBe(true);
        expect(await store.releaseReservation('c', 'r1')).toBe(true);
        expect(
          await store.reserveBudget(
            reservation({ tenantId: 'b', reservationId: 'own-a', amount: 1, counters: [{ ...day, hardLimit: 16 }] }),
          ),
        ).toEqual({
          ok: true,
        });
        await store.createApproval(buildTicket({ tenantId: 'b', id: 'own-a', reason: 'of b' }));
        await store.putVaultEntries('b', [
          { token: 'tok_a', sealed: 'forged' },
          { token: 'tok_shared', sealed: 'forged' },
        ]);
        await store.indexReceipts([receipt(1, { tenantId: 'b', rule: 'forged' })]);
        await store.recordUsage(usage({ tenantId: 'b', appId: 'chat', model: 'model-a', cost: 1, at: 10 }));

        expect(await snapshotOfA(store)).toEqual(before);
        expect((await store.getApproval('a', 'pending'))?.status).toBe('pending');
        expect((await store.getApproval('a', 'approved'))?.consumedAt).toBeUndefined();
        expect(await store.consumeApproval('a', 'approved', 2)).toBe(true);
        expect(await store.settleReservation('a', 'own-a', 5, 2)).toBe(true);
        expect(await store.settleReservation('a', 'r1', 10, 2)).toBe(true);
        expect(await store.readCounters('a', [day, user])).toEqual([
          { ...day, spent: 15, reserved: 0 },
          { ...user, spent: 10, reserved: 0 },
        ]);
      });

      it('sweeps expire and release rows of each tenant under that tenant only', async () => {
        const store = await fresh();
        await populate(store);
        const expired = await store.listExpiredApprovals(100);
        expect(expired).toEqual(tenants.map((tenantId) => ({ tenantId, id: 'pending' })));
        expect(await store.releaseExpiredReservations(10_000)).toBe(6);
        for (const tenantId of tenants) {
          expect(await store.readCounters(tenantId, [day, user])).toEqual([
            { ...day, spent: 0, reserved: 0 },
            { ...user, spent: 0, reserved: 0 },
          ]);
          expect(await store.getVaultEntries(tenantId, ['tok_shared'], 20_000)).toEqual([
            { token: 'tok_shared', sealed: `sealed-${tenantId}` },
          ]);
        }
        expect(await store.deleteExpiredVaultEntries(10_000)).toBe(3);
      });
    });
  });
}

function buildTicket(overrides: Partial<ApprovalTicket> = {}): ApprovalTicket {
  return {
    id: 'ticket-1',
    tenantId: 'acme',
    eventId: 'evt-1',
    boundary: 'tool_call',
    reason: 'needs a human',
    rule: 'default/escalate-email',
    policyVersion: 'v1',
    createdAt: 0,
    expiresAt: 1_000_000,
    requiredApprovals: 1,
    onTimeout: 'deny',
    status: 'pending',
    approvals: [],
    ...overrides,
  };
}

function reservation(overrides: Partial<ReserveRequest> & Pick<ReserveRequest, 'amount' | 'counters'>): ReserveRequest {
  return { tenantId: 'acme', reservationId: 'r1', expiresAt: 1_000_000, ...overrides };
}

function usage(overrides: Partial<UsageRecord> = {}): UsageRecord {
  return { tenantId: 'acme', model: 'model-1', inputTokens: 0, outputTokens: 0, cost: 1, at: 0, ...overrides };
}

function receipt(seq: number, overrides: Partial<AuditIndexRow> = {}): AuditIndexRow {
  return {
    seq,
    hash: `h${seq}`,
    eventId: `evt-${seq}`,
    time: seq * 10,
    tenantId: 'acme',
    kind: 'decision',
    receipt: JSON.stringify({ seq }),
    ...overrides,
  };
}
