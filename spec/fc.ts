// fast-check settings shared by the property suites. CI runs LEDGERFS_FC_RUNS (default 1000)
// runs of each property; a failure prints its seed and path, and FC_SEED / FC_PATH replay it.
import fc from 'fast-check';

export const RUNS = Number(process.env.LEDGERFS_FC_RUNS ?? 1000);

export function fcParams<T>(overrides: fc.Parameters<T> = {}): fc.Parameters<T> {
  const params: fc.Parameters<T> = { numRuns: RUNS, ...overrides };
  if (process.env.FC_SEED) params.seed = Number(process.env.FC_SEED);
  if (process.env.FC_PATH) params.path = process.env.FC_PATH;
  return params;
}

/** Deterministic replica identities for replayable runs (ULIDs minted from the run, not the clock). */
export const ORIGINS = ['01JD3Q4Z5X6Y7Z8A9B0C1D2E3A', '01JD3Q4Z5X6Y7Z8A9B0C1D2E3B', '01JD3Q4Z5X6Y7Z8A9B0C1D2E3C', '01JD3Q4Z5X6Y7Z8A9B0C1D2E3D', '01JD3Q4Z5X6Y7Z8A9B0C1D2E3E'];

/** A settable wall clock, injected into stores so tests control time (and its backward jumps). */
export class TestClock {
  ms: number;
  constructor(ms = 1_700_000_000_000) {
    this.ms = ms;
  }
  now(): number {
    return this.ms;
  }
}
