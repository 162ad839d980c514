import { describe, expect, it } from 'vitest';
import { ClockDriftError, formatTs, Hlc, HLC_DRIFT_MS_MAX, parseTs, tsMs } from './index.ts';

const A = '01JD3Q4Z5X6Y7Z8A9B0C1D2E3A';
const B = '01JD3Q4Z5X6Y7Z8A9B0C1D2E3B';

const clockAt = (ms: number) => {
  const clock = { ms, now: () => clock.ms };
  return clock;
};

describe('hlc', () => {
  it('formats fixed-width and sortable', () => {
    const ts = formatTs({ ms: 0x193b8a1c2d4, counter: 3, origin: A });
    expect(ts).toBe(`0193b8a1c2d4.0003.${A}`);
    expect(parseTs(ts)).toEqual({ ms: 0x193b8a1c2d4, counter: 3, origin: A });
    expect(tsMs(ts)).toBe(0x193b8a1c2d4);
    expect(() => parseTs('nope')).toThrow(TypeError);
  });

  it('never goes backwards when the wall clock does', () => {
    const clock = clockAt(10_000);
    const hlc = new Hlc(A, clock);
    const first = hlc.tick();
    clock.ms = 5_000;
    const second = hlc.tick();
    expect(second > first).toBe(true);
    expect(parseTs(second)).toMatchObject({ ms: 10_000, counter: 1 });
  });

  it('issues after any received timestamp (causality)', () => {
    const clock = clockAt(1_000);
    const hlc = new Hlc(A, clock);
    const remote = formatTs({ ms: 1_500, counter: 7, origin: B });
    hlc.receive(remote);
    const next = hlc.tick();
    expect(next > remote).toBe(true);
  });

  it('rejects timestamps beyond the max drift and keeps its state', () => {
    const clock = clockAt(1_000);
    const hlc = new Hlc(A, clock);
    const far = formatTs({ ms: 1_000 + HLC_DRIFT_MS_MAX + 1, counter: 0, origin: B });
    expect(() => hlc.receive(far)).toThrow(ClockDriftError);
    expect(tsMs(hlc.tick())).toBe(1_000);
  });

  it('resumes from a persisted high-water mark', () => {
    const mark = formatTs({ ms: 9_000, counter: 4, origin: A });
    const hlc = new Hlc(A, clockAt(1_000), mark);
    expect(hlc.tick() > mark).toBe(true);
  });

  it('borrows the next millisecond when the counter is exhausted', () => {
    const hlc = new Hlc(A, clockAt(1_000), formatTs({ ms: 1_000, counter: 0xffff, origin: A }));
    expect(parseTs(hlc.tick())).toMatchObject({ ms: 1_001, counter: 0 });
  });
});
