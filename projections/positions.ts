// Positions: the one parser for every way a command or a caller names a point in a store's
// history. `ORIGIN:seq` is that op; a bare number up to SEQ_MAX is a seq of the store's own
// origin (the log prints them), a larger one epoch milliseconds; an ISO date; a relative time
// (`90s`, `10m`, `2h`, `3d`, `1w` ago). A position is the state after every op whose timestamp is
// at or before it (a time before the first op is the empty workspace). One that names nothing (an
// op not held, a time in the future, text that is none of these) is a PositionError, never an
// empty result; a time or op the checkpoint replaced is a CheckpointError.
import { CheckpointError, formatRef, formatTs, HLC_COUNTER_MAX, HLC_DRIFT_MS_MAX, isOrigin, parseTs, SEQ_MAX, type Ts } from '../log/index.ts';
import type { Store } from './store.ts';

/** Sorts after every origin: a time bound includes every op of that millisecond. */
const LAST_ORIGIN = 'Z'.repeat(26);
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const FORMS = 'ORIGIN:seq, a seq, epoch ms, an ISO date (2026-01-31T12:00) or a relative time (10m, 2h, 3d)';

export class PositionError extends Error {
  override name = 'PositionError';
  readonly code = 'EINVAL';
}

export interface Position {
  /** the state after every op at or before this timestamp */
  ts: Ts;
  /** the op named, for an op position */
  op?: string;
  /** how the caller wrote it */
  text: string;
}

/** The bound for a wall time: every op of that millisecond included. */
export const timeBound = (ms: number): Ts => formatTs({ ms, counter: HLC_COUNTER_MAX, origin: LAST_ORIGIN });

/** Resolves `text` against `store`; `now` is the wall clock relative times count back from. */
export function resolvePosition(store: Store, text: unknown, now = Date.now()): Position {
  if (typeof text !== 'string' || text.trim() === '') throw new PositionError(`a position must be ${FORMS}; got ${JSON.stringify(text)}`);
  const at = text.trim();
  const ref = /^([0-9A-Za-z]{4,26}):(\d+)$/.exec(at);
  if (ref) return opPosition(store, originOf(store, ref[1]!.toUpperCase()), Number(ref[2]), at);
  if (/^\d+$/.test(at)) {
    const n = Number(at);
    if (n <= SEQ_MAX) return opPosition(store, store.origin, n, at);
    return timePosition(store, n, at, now);
  }
  const relative = /^(\d+)([smhdw])$/.exec(at);
  if (relative) return timePosition(store, now - Number(relative[1]) * UNIT_MS[relative[2]!]!, at, now);
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(at)) {
    const ms = Date.parse(at);
    if (Number.isFinite(ms)) return timePosition(store, ms, at, now);
  }
  throw new PositionError(`${JSON.stringify(at)} is not a position: use ${FORMS}`);
}

/** A whole origin, or the one known origin a shorter text ends (as `log` prints them). */
function originOf(store: Store, text: string): string {
  if (text.length === 26) return text;
  const matches = store.log.knownOrigins().filter((origin) => origin.endsWith(text));
  if (matches.length === 1) return matches[0]!;
  throw new PositionError(`origin ...${text} ${matches.length === 0 ? 'is not one this store knows' : `is ambiguous (${matches.join(', ')})`}: give more of it, or all 26 characters`);
}

/** Characters of an origin `log` shows: the tail of a ULID is its random part. */
const SHORT_ORIGIN_CHARS = 6;

/** An origin as the human forms print it: its tail when that names one origin this store knows, else whole. */
export function shortOrigin(store: Store, origin: string): string {
  const tail = origin.slice(-SHORT_ORIGIN_CHARS);
  return store.log.knownOrigins().filter((o) => o.endsWith(tail)).length === 1 ? tail : origin;
}

/** An op as the human forms print it: a bare seq for the store's own origin, else a unique origin tail. */
export function shortRef(store: Store, origin: string, seq: number): string {
  return origin === store.origin ? String(seq) : `${shortOrigin(store, origin)}:${seq}`;
}

function opPosition(store: Store, origin: string, seq: number, text: string): Position {
  const op = formatRef(origin, seq);
  if (!isOrigin(origin) || seq < 1 || !store.log.has(origin, seq)) {
    const held = store.log.seqOf(origin);
    throw new PositionError(`op ${op} is not in this store (${held > 0 ? `it holds ${origin} up to seq ${held}` : `no ops of origin ${origin}`}; see ledgerfs log)`);
  }
  const ts = store.log.tsOf(origin, seq);
  if (ts === undefined) throw new CheckpointError(`op ${op} is in the checkpoint at ${store.log.checkpoint!.ts}: its history was compacted`);
  return { ts, op, text };
}

function timePosition(store: Store, ms: number, text: string, now: number): Position {
  if (ms > now + HLC_DRIFT_MS_MAX) throw new PositionError(`${text} (${new Date(ms).toISOString()}) is in the future: it names nothing yet`);
  const ts = timeBound(ms);
  const checkpoint = store.log.checkpoint;
  if (checkpoint && ts < checkpoint.ts) throw new CheckpointError(`${text} (${new Date(ms).toISOString()}) is before the checkpoint at ${new Date(parseTs(checkpoint.ts).ms).toISOString()}: history before it was compacted`);
  return { ts, text };
}

/** The position after every op: now. */
export function latestPosition(store: Store): Position {
  return { ts: store.log.maxTs() ?? '', text: 'now' };
}
