import { describe, expect, it } from 'vitest';
import { planFanOut, readDeliveryMessage } from '../../src/delivery/fan-out.js';

const ID = '0b6f1c2e-8d3a-4f5b-9c7d-1e2f3a4b5c6d';

describe('the queue fan-out plan', () => {
  it('sends one message per rate × slice rows due, at most the fan-out per broadcast', () => {
    const plan = planFanOut(
      [
        { id: 'a', due: 1 },
        { id: 'b', due: 2501 },
        { id: 'c', due: 1_000_000 },
      ],
      { fanout: 10, sliceSeconds: 25, rate: 50 },
    );
    const count = (id: string) => plan.filter((m) => m.broadcastId === id).length;
    expect([count('a'), count('b'), count('c')]).toEqual([1, 3, 10]);
    expect(plan[0]).toEqual({ kind: 'deliver', broadcastId: 'a', seconds: 25 });
  });

  it('plans nothing with a fan-out of 0', () => {
    expect(planFanOut([{ id: 'a', due: 500 }], { fanout: 0, sliceSeconds: 25, rate: 50 })).toEqual([]);
  });
});

describe('reading a queue message', () => {
  it('keeps a well-formed message, its slice within bounds', () => {
    expect(readDeliveryMessage({ kind: 'deliver', broadcastId: ID, seconds: 5 }, 25)).toEqual({
      kind: 'deliver',
      broadcastId: ID,
      seconds: 5,
    });
    expect(readDeliveryMessage({ kind: 'deliver', broadcastId: ID, seconds: 9999 }, 25)?.seconds).toBe(600);
    expect(readDeliveryMessage({ kind: 'deliver', broadcastId: ID }, 25)?.seconds).toBe(25);
  });

  it.each([
    null,
    'deliver',
    { kind: 'other', broadcastId: ID },
    { kind: 'deliver', broadcastId: 'x' },
    { kind: 'deliver', broadcastId: 7 },
  ])('drops %j', (body) => {
    expect(readDeliveryMessage(body, 25)).toBeUndefined();
  });
});
