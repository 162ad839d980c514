// Hybrid logical clock. A timestamp is 48 bits of wall milliseconds, a 16-bit counter and the
// origin, written fixed-width so that string order is timestamp order:
//   0193b8a1c2d4.0000.01JD3Q4Z5X6Y7Z8A9B0C1D2E3F
import { HLC_COUNTER_MAX, HLC_DRIFT_MS_MAX, HLC_MS_MAX } from './limits.ts';
import { isOrigin } from './ids.ts';

export type Ts = string;

/** Wall time in milliseconds; injected so tests and simulations control it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface HlcParts {
  ms: number;
  counter: number;
  origin: string;
}

const TS_RE = /^[0-9a-f]{12}\.[0-9a-f]{4}\.[0-9A-HJKMNP-TV-Z]{26}$/;

export function formatTs({ ms, counter, origin }: HlcParts): Ts {
  return `${ms.toString(16).padStart(12, '0')}.${counter.toString(16).padStart(4, '0')}.${origin}`;
}

export function parseTs(ts: Ts): HlcParts {
  if (typeof ts !== 'string' || !TS_RE.test(ts)) throw new TypeError(`not an HLC timestamp: ${JSON.stringify(ts)}`);
  return { ms: parseInt(ts.slice(0, 12), 16), counter: parseInt(ts.slice(13, 17), 16), origin: ts.slice(18) };
}

export function isTs(value: unknown): value is Ts {
  return typeof value === 'string' && TS_RE.test(value);
}

/** Wall milliseconds of a timestamp (for mtime/ctime derived from an op). */
export function tsMs(ts: Ts): number {
  return parseInt(ts.slice(0, 12), 16);
}

export class ClockDriftError extends Error {
  override name = 'ClockDriftError';
  readonly code = 'EDRIFT';
  readonly ts: Ts;
  readonly wallMs: number;
  constructor(ts: Ts, wallMs: number) {
    super(`op timestamp ${ts} is ${tsMs(ts) - wallMs} ms ahead of this replica's clock (max ${HLC_DRIFT_MS_MAX} ms)`);
    this.ts = ts;
    this.wallMs = wallMs;
  }
}

export class Hlc {
  private ms = 0;
  private counter = 0;

  readonly origin: string;
  private readonly clock: Clock;

  constructor(origin: string, clock: Clock, highWater?: Ts) {
    if (!isOrigin(origin)) throw new TypeError(`not an origin: ${origin}`);
    this.origin = origin;
    this.clock = clock;
    if (highWater) this.observe(highWater);
  }

  /** A timestamp for a new local event: greater than every timestamp issued or observed. */
  tick(): Ts {
    const wall = this.clock.now();
    if (wall > this.ms) {
      this.ms = Math.min(wall, HLC_MS_MAX);
      this.counter = 0;
    } else if (this.counter < HLC_COUNTER_MAX) {
      this.counter++;
    } else {
      // Counter exhausted within one millisecond: borrow the next millisecond.
      this.ms++;
      this.counter = 0;
    }
    return formatTs({ ms: this.ms, counter: this.counter, origin: this.origin });
  }

  /** The receive rule: reject a timestamp too far ahead of the wall clock, else move past it. */
  receive(ts: Ts): void {
    const wall = this.clock.now();
    if (tsMs(ts) > wall + HLC_DRIFT_MS_MAX) throw new ClockDriftError(ts, wall);
    this.observe(ts);
  }

  /** Checks a timestamp against the drift limit without observing it. */
  checkDrift(ts: Ts): void {
    const wall = this.clock.now();
    if (tsMs(ts) > wall + HLC_DRIFT_MS_MAX) throw new ClockDriftError(ts, wall);
  }

  /** Raises the clock to at least `ts` (used at open with the persisted high-water mark). */
  observe(ts: Ts): void {
    const { ms, counter } = parseTs(ts);
    if (ms > this.ms || (ms === this.ms && counter > this.counter)) {
      this.ms = ms;
      this.counter = counter;
    }
  }

  get highWater(): Ts {
    return formatTs({ ms: this.ms, counter: this.counter, origin: this.origin });
  }
}
