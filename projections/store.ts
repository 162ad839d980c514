// A store: one SQLite database holding the op log, the chunk store and the projections, with
// the replica's identity and clock. Appending an op and applying it happen in one transaction,
// so the projections always equal the replay of a log prefix.
import { createHash } from 'node:crypto';
import {
  checkAndEncodeOp, checkOp, CheckpointError, ChunkStore, chunksNamed, covers, encodeOp, formatRef, hex, Hlc, LogStore, mapRefs, newOrigin, REFS_COUNT_MAX,
  systemClock,
  type Actor, type Checkpoint, type Clock, type Op, type OpBody, type Ref, type SqlAdapter, type StoredOp, type Ts, type VersionVector,
} from '../log/index.ts';
import { checkpointChunks } from './checkpoint-state.ts';
import { checkpointAt } from './compaction.ts';
import { Projector } from './projector.ts';
import type { Reader } from './reader.ts';
import { PROJECTION_LAYOUT, PROJECTION_TABLES, scanTable, type ProjectionTable } from './schema.ts';

/** Concurrent edits of one file: the winner keeps the path, each loser shows as a conflict copy. */
export interface ConflictEvent {
  node: Ref;
  winner: Ref;
  losers: Ref[];
}

export interface StoreOptions {
  clock?: Clock;
  /** Identity minted when the database is created; injected by tests for replayable runs. */
  mintOrigin?: () => string;
  /** Re-hash chunks on every read (default true). */
  verifyChunks?: boolean;
  /** The store is open for reading only (log, verify, replay): close() writes nothing. */
  readonly?: boolean;
}

const SCHEMA_VERSION = 1;

export class Store {
  readonly sql: SqlAdapter;
  readonly log: LogStore;
  readonly chunks: ChunkStore;
  readonly projector: Projector;
  readonly reader: Reader;
  private identity: { origin: string; hlc: Hlc };
  private readonly mintOrigin: () => string;
  private readonly clock: Clock;
  private depth = 0;
  private readonly readOnly: boolean;
  private readonly conflictListeners = new Set<(event: ConflictEvent) => void>();
  private readonly commitListeners = new Set<() => void>();
  private announcing = false;

  constructor(sql: SqlAdapter, options: StoreOptions = {}) {
    this.sql = sql;
    this.readOnly = options.readonly ?? false;
    this.log = new LogStore(sql);
    this.chunks = new ChunkStore(sql, options.verifyChunks ?? true);
    this.projector = new Projector(sql, this.log);
    this.reader = this.projector.reader();
    const version = this.log.getMeta('schema');
    if (version !== undefined && version !== SCHEMA_VERSION) {
      throw new Error(`store schema version ${String(version)} is not supported (this ledgerfs reads ${SCHEMA_VERSION})`);
    }
    this.mintOrigin = options.mintOrigin ?? newOrigin;
    this.clock = options.clock ?? systemClock;
    let origin = this.log.getMeta('origin');
    if (typeof origin !== 'string') {
      origin = this.mintOrigin();
      this.sql.transaction(() => {
        this.log.setMeta('origin', origin as string);
        this.log.setMeta('schema', SCHEMA_VERSION);
      });
      this.sql.sync(); // the identity is durable before any op is made under it
    }
    const persisted = this.log.getMeta('hlc');
    const highWater = [persisted, this.log.maxTs()].filter((ts): ts is Ts => typeof ts === 'string').sort().pop();
    this.identity = { origin: origin as string, hlc: new Hlc(origin as string, this.clock, highWater) };
    // Projections are derived: ones an older ledgerfs built are rebuilt from the log.
    if (this.projector.stale) this.rebuild();
  }

  get file(): string | null {
    return this.sql.file;
  }

  /** This replica's identity: a new one once a snapshot made it rebase ops (see installSnapshot). */
  get origin(): string {
    return this.identity.origin;
  }

  get hlc(): Hlc {
    return this.identity.hlc;
  }

  /**
   * Runs fn atomically. Projection rows and the log fingerprint are written once, just before
   * the outermost commit; on any throw everything fn did rolls back and the in-memory caches
   * reload.
   */
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.depth++;
    try {
      return this.sql.transaction(() => this.finish(fn()));
    } catch (error) {
      this.log.reload();
      this.projector.reset();
      throw error;
    } finally {
      this.depth--;
    }
  }

  private finish<T>(result: T): T {
    this.projector.flush();
    this.log.flush();
    return result;
  }

  /**
   * Makes every op so far durable (commits a group commit the adapter holds open). Inside a
   * transaction (an fsync within a larger change) it takes effect when the transaction ends.
   */
  sync(): void {
    this.sql.sync();
  }

  /** Issues a local op: stamps it with the next seq and timestamp and applies it, atomically. */
  commit(body: OpBody, actor: Actor): Op {
    const committed = this.transaction(() => {
      const { op, bytes } = checkAndEncodeOp({ ...body, origin: this.origin, seq: this.log.seqOf(this.origin) + 1, ts: this.hlc.tick(), actor });
      const id = this.log.append(op, bytes);
      this.projector.ingest([{ id, op, bytes }]);
      return op;
    });
    this.announceCommit();
    return committed;
  }

  /**
   * Calls `listener` (soon, on a microtask) after transactions that added ops, local or ingested;
   * returns an unsubscribe. Sync uses it to push and to tell peers there is news.
   */
  onCommit(listener: () => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  private announceCommit(): void {
    if (this.announcing || this.commitListeners.size === 0) return;
    this.announcing = true;
    queueMicrotask(() => {
      this.announcing = false;
      for (const listener of this.commitListeners) listener();
    });
  }

  /** Calls `listener` after each ingest that leaves a node with concurrent edits; returns an unsubscribe. */
  onConflict(listener: (event: ConflictEvent) => void): () => void {
    this.conflictListeners.add(listener);
    return () => this.conflictListeners.delete(listener);
  }

  /**
   * Takes ops made elsewhere, in any order, duplicates ignored. All or nothing: a malformed op,
   * one beyond the clock's max drift or one that would leave a per-origin gap rejects the batch.
   * Returns how many ops were new.
   */
  ingest(input: readonly unknown[]): number {
    const ops = input.map((value) => checkOp(value));
    for (const op of ops) this.hlc.checkDrift(op.ts);
    const applied = this.transaction(() => {
      const seen = new Set<string>();
      const fresh = ops.filter((op) => {
        const key = `${op.origin}:${op.seq}`;
        if (seen.has(key) || this.log.has(op.origin, op.seq)) return false;
        seen.add(key);
        return true;
      });
      fresh.sort((a, b) => (a.ts < b.ts ? -1 : 1));
      const stored: StoredOp[] = fresh.map((op) => {
        const bytes = encodeOp(op);
        return { id: this.log.append(op, bytes), op, bytes };
      });
      for (const op of fresh) this.hlc.receive(op.ts);
      this.projector.ingest(stored);
      return stored;
    });
    if (applied.length > 0) this.announceCommit();
    if (this.conflictListeners.size > 0) this.announceConflicts(applied);
    return applied.length;
  }

  private announceConflicts(applied: readonly StoredOp[]): void {
    const nodes = new Set(applied.filter(({ op }) => op.kind === 'setContent').map(({ op }) => (op as Op & { kind: 'setContent' }).node));
    for (const node of nodes) {
      const heads = this.sql.prepare<{ op: number }>('SELECT op FROM heads WHERE node = ? ORDER BY ts DESC').all(this.log.localId(node));
      if (heads.length < 2) continue;
      const event: ConflictEvent = { node, winner: this.log.globalRef(heads[0]!.op), losers: heads.slice(1).map((h) => this.log.globalRef(h.op)) };
      for (const listener of this.conflictListeners) listener(event);
    }
  }

  rebuild(onProgress?: (done: number) => void): number {
    return this.transaction(() => this.projector.rebuild({ onProgress }));
  }

  /** Rebuilds into a scratch database and compares with the live projections. */
  verify(onProgress?: (done: number) => void): { ok: boolean; live: string; rebuilt: string } {
    const scratch = this.sql.scratch();
    try {
      new Projector(scratch, this.log).rebuild({ onProgress });
      const live = hashProjections(this.sql);
      const rebuilt = hashProjections(scratch);
      return { ok: live === rebuilt, live, rebuilt };
    } finally {
      scratch.close();
    }
  }

  /**
   * Replaces the log up to `cut` with a checkpoint (spec/semantics.md, "Compaction"), in one
   * transaction. The cut should be stable (stableCut): a peer that lacks ops it covers, or holds
   * ops at or before it that this replica lacks, has to load the checkpoint and rebase.
   */
  compact(cut: Ts): Checkpoint {
    // Clock parts only: the next local op sorts after the cut when the clock has reached it.
    if (cut.slice(0, 17) > this.hlc.highWater.slice(0, 17)) throw new CheckpointError(`the cut ${cut} is after every timestamp this replica has seen`);
    return this.transaction(() => {
      const { pages, removed } = checkpointAt(this.log, this.sql, cut);
      const checkpoint = this.log.compact(cut, pages, PROJECTION_LAYOUT);
      this.projector.settle(cut, removed);
      return checkpoint;
    });
  }

  /**
   * Replaces this replica's log with a peer's checkpoint, whose pages are staged in the log and
   * whose chunks are stored, in one transaction. Of the ops here it does not cover, this replica's
   * own that the peer (holding `peer`) has are kept; every own op the peer lacks is rebased:
   * issued again, in order, as a new op of a new origin, after the checkpoint, refs among them
   * following them. Rebasing all of them, not only those the checkpoint refuses, leaves nothing
   * unsent under the old origin, which a later snapshot would take for another replica's and drop.
   * Ops of other origins are dropped: the peer, or their maker, has them. Returns how many ops
   * were rebased.
   */
  installSnapshot(checkpoint: Checkpoint, peer: VersionVector): number {
    if (checkpoint.layout !== PROJECTION_LAYOUT) throw new CheckpointError(`the checkpoint's projection layout ${checkpoint.layout} is not this ledgerfs's (${PROJECTION_LAYOUT})`);
    // Ops this replica holds only in its own checkpoint cannot be sent again: the peer must have them.
    const previous = this.log.checkpoint;
    if (previous && !covers(peer, previous.versionVector)) {
      throw new CheckpointError(`this replica's checkpoint at ${previous.ts} holds ops the peer lacks: checkpoints made past each other's replicas cannot be merged`);
    }
    const identity = this.identity;
    let rebased: number;
    try {
      rebased = this.transaction(() => this.installWith(checkpoint, peer));
    } catch (error) {
      this.identity = identity;
      throw error;
    }
    this.announceCommit();
    return rebased;
  }

  /** installSnapshot's transaction; a throw leaves the identity to the caller to restore. */
  private installWith(checkpoint: Checkpoint, peer: VersionVector): number {
    this.hlc.receive(checkpoint.ts);
    const held = peer[this.origin] ?? 0;
    const mine = [...this.log.scan()].filter(({ op }) => op.origin === this.origin && op.seq > (checkpoint.versionVector[this.origin] ?? 0));
    this.log.install(checkpoint);
    this.projector.rebuild();
    const kept = mine.filter(({ op }) => op.seq <= held);
    for (const stored of kept) this.projector.ingest([{ ...stored, id: this.log.append(stored.op, stored.bytes) }]);
    const rebase = mine.slice(kept.length).map(({ op }) => op);
    if (rebase.length > 0) this.rebase(rebase);
    return rebase.length;
  }

  /** Issues own `ops` again as new ops of a new origin; refs among them follow them. */
  private rebase(ops: readonly Op[]): void {
    const origin = this.mintOrigin();
    if (this.log.seqOf(origin) > 0 || origin === this.origin) throw new Error(`minted origin ${origin} is already in use`);
    this.log.setMeta('origin', origin);
    this.identity = { origin, hlc: new Hlc(origin, this.clock, this.hlc.highWater) };
    const renamed = new Map<Ref, Ref>();
    for (const { origin: was, seq, ts: _ts, actor, ...body } of ops) {
      let mapped = mapRefs(body as OpBody, (ref) => renamed.get(ref) ?? ref);
      if (mapped.kind === 'setContent') {
        // Written again after the checkpoint: it saw the removals that took the file's last name.
        const took = this.projector.removals.took(this.log.localId(mapped.node), REFS_COUNT_MAX).map((id) => this.log.globalRef(id));
        mapped = { ...mapped, deletes: [...new Set([...mapped.deletes, ...took])].slice(0, REFS_COUNT_MAX) };
      }
      const made = this.commit(mapped, actor);
      renamed.set(formatRef(was, seq), formatRef(made.origin, made.seq));
    }
  }

  /** Hex sha256 of every chunk some op in the log or the checkpoint references (the live set for gc). */
  referencedChunks(): Set<string> {
    const live = new Set(checkpointChunks(this.log.checkpointPages()).keys());
    for (const { bytes } of this.log.scanBytes()) for (const hash of chunksNamed(bytes)) live.add(hex(hash));
    return live;
  }

  gc(): { count: number; bytes: number } {
    return this.chunks.gc(this.referencedChunks());
  }

  close(): void {
    this.sync();
    if (!this.readOnly && this.log.getMeta('hlc') !== this.hlc.highWater && this.log.maxTs() !== null) this.sql.transaction(() => this.log.setMeta('hlc', this.hlc.highWater));
    this.sql.close();
  }
}

/**
 * sha256 over every projection row in key order: equal hashes mean equal projections. SQLite
 * writes each row as one line of text (quote() is typed and exact, floats included), so a row
 * costs one string, not an object and an encoding.
 */
export function hashProjections(sql: SqlAdapter): string {
  const digest = createHash('sha256');
  for (const table of Object.keys(PROJECTION_TABLES) as ProjectionTable[]) {
    const line = sql.prepare<{ name: string }>(`SELECT name FROM pragma_table_info('${table}') ORDER BY cid`).all().map(({ name }) => `quote(${name})`).join(" || ',' || ");
    digest.update(`${table}\n`);
    for (const [text] of scanTable(sql, table, `${line} || char(10)`)) digest.update(text as string);
  }
  return digest.digest('hex');
}
