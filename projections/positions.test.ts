// Every way to name a position, and every way to name nothing.
import { describe, expect, it } from 'vitest';
import { FileSystem, openStore, PositionError, resolvePosition, shortRef, timeBound } from '../index.ts';
import { CheckpointError, tsMs } from '../log/index.ts';

function store() {
  const s = openStore();
  const fs = FileSystem.live(s);
  fs.writeFile('/a', '1');
  fs.writeFile('/a', '2');
  return s;
}

describe('positions', () => {
  it('name an op by ORIGIN:seq, a unique origin tail, or a bare seq of the own origin', () => {
    const s = store();
    const second = s.log.tsOf(s.origin, 2);
    expect(resolvePosition(s, `${s.origin}:2`)).toMatchObject({ ts: second, op: `${s.origin}:2` });
    expect(resolvePosition(s, `${s.origin.toLowerCase()}:2`).ts).toBe(second);
    expect(resolvePosition(s, `${s.origin.slice(-6)}:2`).ts).toBe(second);
    expect(resolvePosition(s, '2')).toMatchObject({ ts: second, op: `${s.origin}:2` });
    expect(resolvePosition(s, ' 2 ').ts).toBe(second);
    expect(shortRef(s, s.origin, 2)).toBe('2');
  });

  it('name a time by epoch ms, an ISO date or a relative time; a time before the first op is the empty workspace', () => {
    const s = store();
    const now = tsMs(s.log.maxTs()!);
    expect(resolvePosition(s, String(now)).ts).toBe(timeBound(now));
    expect(resolvePosition(s, new Date(now).toISOString()).ts).toBe(timeBound(now));
    expect(resolvePosition(s, '2001-02-03').ts).toBe(timeBound(Date.parse('2001-02-03')));
    expect(resolvePosition(s, '2001-02-03T04:05').ts).toBe(timeBound(Date.parse('2001-02-03T04:05')));
    for (const [text, ms] of [['90s', 90_000], ['10m', 600_000], ['2h', 7_200_000], ['3d', 259_200_000], ['1w', 604_800_000]] as const) {
      expect(resolvePosition(s, text, now).ts).toBe(timeBound(now - ms));
    }
  });

  it('refuse what names nothing, saying what would', () => {
    const s = store();
    const bad = (text: unknown) => {
      try {
        resolvePosition(s, text);
      } catch (error) {
        return error as Error;
      }
      throw new Error(`${String(text)} resolved`);
    };
    for (const text of ['338', `${s.origin}:99`, '0', 'ZZZZZZ:1', `${'Z'.repeat(26)}:1`, 'yesterday', '10 m', '10y', '2001-13-45', '', '  ', 42, null, `${Date.now() + 3_600_000}`]) {
      const error = bad(text);
      expect([text, error]).toEqual([text, expect.any(PositionError)]);
      expect((error as PositionError).code).toBe('EINVAL');
      expect(error.message.split('\n')).toHaveLength(1);
    }
    expect(bad('338').message).toMatch(/is not in this store \(it holds .* up to seq 3/);
    expect(bad('yesterday').message).toMatch(/ORIGIN:seq.*relative time/);
  });

  it('refuse an op or a time the checkpoint replaced', () => {
    const s = store();
    s.compact(s.log.tsOf(s.origin, 2)!);
    expect(() => resolvePosition(s, '1')).toThrow(CheckpointError);
    expect(() => resolvePosition(s, '2001-01-01')).toThrow(/before the checkpoint/);
    expect(resolvePosition(s, '3').op).toBe(`${s.origin}:3`);
  });
});
