// Time travel: the tree as it was at a past op or time, built by replaying the log prefix into a
// scratch in-memory projection and read through the same FileSystem code as the live tree.
import { CheckpointError, formatTs, HLC_COUNTER_MAX, isRef, parseRef, type Ts } from '../log/index.ts';
import { FileSystem } from './filesystem.ts';
import { Projector } from './projector.ts';
import type { Store } from './store.ts';

const LAST_ORIGIN = 'Z'.repeat(26);

export interface HistoryView {
  fs: FileSystem;
  /** ops replayed */
  ops: number;
  until: Ts;
  close(): void;
}

/**
 * Turns `--at` into a timestamp bound: an op ref `ORIGIN:seq` means "up to and including that
 * op"; a number is epoch milliseconds; anything else is parsed as a date.
 */
export function resolveAt(store: Store, at: string): Ts {
  if (isRef(at) && at.includes(':')) {
    const { origin, seq } = parseRef(at);
    if (!store.log.has(origin, seq)) throw new Error(`op ${at} is not in this log`);
    const ts = store.log.tsOf(origin, seq);
    if (ts === undefined) throw new CheckpointError(`op ${at} is in the checkpoint at ${store.log.checkpoint!.ts}: its history was compacted`);
    return ts;
  }
  const ms = /^\d+$/.test(at) ? Number(at) : Date.parse(at);
  if (!Number.isFinite(ms)) throw new Error(`--at wants an op (ORIGIN:seq), epoch milliseconds or a date, got ${JSON.stringify(at)}`);
  return formatTs({ ms, counter: HLC_COUNTER_MAX, origin: LAST_ORIGIN });
}

export function openHistory(store: Store, until: Ts, onProgress?: (done: number) => void): HistoryView {
  const scratch = store.sql.scratch();
  const projector = new Projector(scratch, store.log);
  const ops = projector.rebuild({ until, onProgress });
  const fs = new FileSystem({ reader: projector.reader(), chunks: store.chunks }, null);
  return { fs, ops, until, close: () => scratch.close() };
}
