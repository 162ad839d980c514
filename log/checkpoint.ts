// A checkpoint replaces a prefix of the log: every op with a timestamp at or before its cut. It
// is the projection state at the cut (opaque pages, written and read by projections/), the cut's
// version vector and the fingerprint of the ops it replaced, so that the replica still answers
// for them (its cursor does not change). See spec/semantics.md, "Compaction".
import { createHash } from 'node:crypto';
import { isTs, type Ts } from './hlc.ts';
import type { VersionVector } from './cursor.ts';
import { isOrigin } from './ids.ts';
import { SEQ_MAX } from './limits.ts';

export interface Checkpoint {
  /** the cut: the checkpoint covers every op whose timestamp is at or before it */
  ts: Ts;
  /** the covered ops: a prefix of each origin's seqs */
  versionVector: VersionVector;
  /** hex XOR of the digests of the covered ops */
  fingerprint: string;
  /** how many ops it covers */
  ops: number;
  /** how many pages of state */
  pages: number;
  /** hex sha256 over the pages in order */
  digest: string;
  /** the projection layout the pages are written in */
  layout: number;
}

/** sha256 over pages in order: a checkpoint's digest. */
export function pagesDigest(pages: Iterable<Uint8Array>): string {
  const hash = createHash('sha256');
  for (const page of pages) {
    hash.update(Buffer.from(String(page.length).padStart(10, '0')));
    hash.update(page);
  }
  return hash.digest('hex');
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
  readonly code = 'EINVAL';
}

const HEX_64 = /^[0-9a-f]{64}$/;
const count = (value: unknown, max: number) => Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= max;

/** Checks a checkpoint description that came from a peer, field by field; returns a clean copy. */
export function checkCheckpoint(value: unknown): Checkpoint {
  const bad = (what: string) => new CheckpointError(`a peer's checkpoint has a bad ${what}`);
  if (!value || typeof value !== 'object') throw bad('shape');
  const c = value as Record<string, unknown>;
  if (!isTs(c.ts)) throw bad('cut');
  if (typeof c.fingerprint !== 'string' || !HEX_64.test(c.fingerprint)) throw bad('fingerprint');
  if (typeof c.digest !== 'string' || !HEX_64.test(c.digest)) throw bad('digest');
  if (!count(c.pages, 2 ** 31) || c.pages === 0 || !count(c.layout, 2 ** 31) || !count(c.ops, Number.MAX_SAFE_INTEGER)) throw bad('count');
  const vv = c.versionVector;
  if (!vv || typeof vv !== 'object' || Array.isArray(vv)) throw bad('version vector');
  let covered = 0;
  for (const [origin, seq] of Object.entries(vv)) {
    if (!isOrigin(origin) || !count(seq, SEQ_MAX)) throw bad(`version vector entry ${origin}`);
    covered += seq as number;
  }
  // The covered ops are a prefix of each origin's seqs: their count is the vector's sum.
  if (covered !== c.ops) throw bad('op count');
  return { ts: c.ts, versionVector: { ...(vv as VersionVector) }, fingerprint: c.fingerprint, ops: c.ops as number, pages: c.pages as number, digest: c.digest, layout: c.layout as number };
}

/** What stableCut needs of the log. */
export interface CutSource {
  versionVector(): VersionVector;
  seqOf(origin: string): number;
  /** the timestamp of an op still in the log, else undefined */
  tsOf(origin: string, seq: number): Ts | undefined;
  /** the newest timestamp of an op in the log before `ts`, else undefined */
  tsBefore(ts: Ts): Ts | undefined;
  readonly checkpoint: Checkpoint | null;
}

/**
 * The newest causally stable cut, given the version vector every other replica that can issue ops
 * has acknowledged, or undefined if it would not pass the current checkpoint.
 * Two facts make a cut T stable: every replica holds every op at or before T (they are in the
 * componentwise minimum C of the acks), and every op not here yet sorts after T (a replica's clock
 * is past every op it had when it acknowledged, so what it issued since sorts after the newest of
 * them; T is at most the least of those). So T is the largest timestamp not after the least
 * replica's newest acknowledged op such that every op here at or before T is in C. Throws when an
 * ack names ops this replica lacks: sync with that replica first.
 */
export function stableCut(log: CutSource, others: readonly VersionVector[]): Ts | undefined {
  const acks = [log.versionVector(), ...others];
  const floor = log.checkpoint?.ts ?? '';
  const origins = new Set(acks.flatMap((ack) => Object.keys(ack)));
  for (const ack of acks) {
    for (const [origin, seq] of Object.entries(ack)) {
      if (seq > log.seqOf(origin)) throw new CheckpointError(`a replica acknowledged ${origin}:${seq}, which this replica lacks: sync with it first`);
    }
  }
  // The least, over replicas, of the newest op each acknowledged ('' when it acknowledged nothing
  // past the checkpoint: then nothing new is stable).
  let newest: Ts | undefined;
  for (const ack of acks) {
    const own = Object.entries(ack).map(([origin, seq]) => (seq > 0 ? log.tsOf(origin, seq) ?? '' : '')).reduce((a, b) => (a > b ? a : b), '');
    if (newest === undefined || own < newest) newest = own;
  }
  // The first op here that some replica lacks, per origin: the cut must stay before every one.
  let bound: Ts | undefined;
  for (const origin of origins) {
    const least = Math.min(...acks.map((ack) => ack[origin] ?? 0));
    if (least >= log.seqOf(origin)) continue;
    const first = log.tsOf(origin, least + 1) ?? '';
    if (bound === undefined || first < bound) bound = first;
  }
  const cut = bound === undefined || newest! < bound ? newest! : log.tsBefore(bound) ?? '';
  return cut > floor ? cut : undefined;
}
