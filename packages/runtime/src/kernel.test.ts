import { describe, expect, it } from 'vitest';
import { checkId, untilDaemon, type Clock } from './kernel.ts';
import { RuntimeError } from './runtime.ts';

/** A clock that moves only when the code under test sleeps. */
function fakeClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe('untilDaemon', () => {
  it('answers with the first try that succeeds, pausing between tries', async () => {
    const clock = fakeClock();
    let tries = 0;
    const answer = await untilDaemon({
      id: 'w1',
      timeoutMs: 1_000,
      clock,
      pollMs: 10,
      attempt: async () => (++tries < 3 ? null : 'connected'),
    });
    expect(answer).toBe('connected');
    expect(clock.slept).toEqual([10, 10]);
  });

  it('times out with `timeout`, the time waited, the last failure and the explanation', async () => {
    const clock = fakeClock();
    const failure = untilDaemon({
      id: 'w2',
      timeoutMs: 5_000,
      clock,
      pollMs: 100,
      attempt: async () => {
        throw new Error('connect ECONNREFUSED');
      },
      explain: async () => 'Its last log lines:\nboom',
    });
    await expect(failure).rejects.toMatchObject({
      code: 'timeout',
      message:
        'The daemon of workspace w2 did not answer within 5 s (connect ECONNREFUSED). Its last log lines:\nboom',
      cause: expect.objectContaining({ message: 'connect ECONNREFUSED' }),
    });
    expect(clock.now()).toBe(5_000);
  });

  it('stops at once when the workspace can no longer start, checking only now and then', async () => {
    const clock = fakeClock();
    const checkedAt: number[] = [];
    const failure = untilDaemon({
      id: 'w3',
      timeoutMs: 60_000,
      clock,
      pollMs: 10,
      checkEveryMs: 500,
      check: async () => {
        checkedAt.push(clock.now());
        if (clock.now() >= 1_000)
          throw new RuntimeError('unavailable', 'w3 stopped while starting');
      },
      attempt: async () => null,
    });
    await expect(failure).rejects.toMatchObject({ code: 'unavailable' });
    expect(checkedAt).toEqual([0, 500, 1_000]);
  });

  it('gives up on failures that waiting cannot change', async () => {
    const clock = fakeClock();
    const failure = untilDaemon({
      id: 'w4',
      timeoutMs: 60_000,
      clock,
      pollMs: 10,
      attempt: async () => {
        throw new RuntimeError('protocol_mismatch', 'daemon speaks protocol 1');
      },
    });
    await expect(failure).rejects.toMatchObject({ code: 'protocol_mismatch' });
    expect(clock.slept).toEqual([]);
  });

  it('says why it waited when nothing could be tried', async () => {
    const failure = untilDaemon({
      id: 'w5',
      timeoutMs: 200,
      clock: fakeClock(),
      pollMs: () => 50,
      attempt: async () => null,
    });
    await expect(failure).rejects.toThrow(
      'The daemon of workspace w5 did not answer within 0.2 s (it is not listening yet).',
    );
  });
});

describe('checkId', () => {
  it('names the rule an id broke', () => {
    expect(() => checkId('../etc', /^[a-z]+$/, 'lower-case letters')).toThrow(
      expect.objectContaining({
        code: 'bad_request',
        message: 'Workspace id "../etc" must be lower-case letters.',
      }),
    );
    expect(() => checkId('abc', /^[a-z]+$/, 'lower-case letters')).not.toThrow();
  });
});
