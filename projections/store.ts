// A store: one SQLite database holding the op log, the chunk store and the projections, with
// the replica's identity and clock. Appending an op and applying it happen in one transaction,
// so the projections always equal the replay of a log prefix.
import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import {
  checkOp, ChunkStore, encodeOp, hex, Hlc, LogStore, newOrigin, openSqlite, systemClock, unpackManifest,
  type Actor, type Clock, type Op, type OpBody, type Ref, type SqlAdapter, type StoredOp, type Ts,
} from '../log/index.ts';
import { Projector } from './projector.ts';
import type { Reader } from './reader.ts';
import { PROJECTION_TABLES } from './schema.ts';

/** Concurrent edits of one file: the winner keeps the path, each loser shows as a conflict copy. */
export interface ConflictEvent {
  node: Ref;
  winner: Ref;
  losers: Ref[];
}

export interface StoreOptions {
  /** A database file, or ':memory:' (the default). */
  file?: string;
  clock?: Clock;
  /** Identity minted when the database is created; injected by tests for replayable runs. */
  mintOrigin?: () => string;
  /** Re-hash chunks on every read (default true). */
  verifyChunks?: boolean;
  /**
   * Group commit: ops commit together at most this many milliseconds after the first of them
   * (or at sync(), which fsync calls). 0, the default, commits each transaction at once. Needs
   * an adapter that takes BEGIN/SAVEPOINT statements (better-sqlite3).
   */
  commitDelayMs?: number;
}

const SCHEMA_VERSION = 1;

export class Store {
  readonly sql: SqlAdapter;
  readonly log: LogStore;
  readonly chunks: ChunkStore;
  readonly projector: Projector;
  readonly reader: Reader;
  readonly hlc: Hlc;
  readonly origin: string;
  /** 0: every transaction commits at once; else commits are grouped (see transaction()) */
  readonly commitDelayMs: number;
  private depth = 0;
  private readonly conflictListeners = new Set<(event: ConflictEvent) => void>();
  private readonly commitListeners = new Set<() => void>();
  private announcing = false;
  private groupTimer: NodeJS.Timeout | null = null;
  private syncAfter = false;

  constructor(sql: SqlAdapter, options: StoreOptions = {}) {
    this.sql = sql;
    this.commitDelayMs = options.commitDelayMs ?? 0;
    this.log = new LogStore(sql);
    this.chunks = new ChunkStore(sql, options.verifyChunks ?? true);
    this.projector = new Projector(sql, this.log);
    this.reader = this.projector.reader();
    const version = this.log.getMeta('schema');
    if (version !== undefined && version !== SCHEMA_VERSION) {
      throw new Error(`store schema version ${String(version)} is not supported (this ledgerfs reads ${SCHEMA_VERSION})`);
    }
    let origin = this.log.getMeta('origin');
    if (typeof origin !== 'string') {
      origin = (options.mintOrigin ?? newOrigin)();
      this.sql.transaction(() => {
        this.log.setMeta('origin', origin as string);
        this.log.setMeta('schema', SCHEMA_VERSION);
      });
    }
    this.origin = origin as string;
    const persisted = this.log.getMeta('hlc');
    const highWater = [persisted, this.log.maxTs()].filter((ts): ts is Ts => typeof ts === 'string').sort().pop();
    this.hlc = new Hlc(this.origin, options.clock ?? systemClock, highWater);
    // Projections are derived: ones an older ledgerfs built are rebuilt from the log.
    if (this.projector.stale) this.rebuild();
  }

  static open(options: StoreOptions = {}): Store {
    return new Store(openSqlite(options.file ?? ':memory:'), options);
  }

  get file(): string | null {
    return this.sql.file;
  }

  /**
   * Runs fn atomically. Projection rows and the log fingerprint are written once, just before
   * the outermost commit; on any throw everything fn did rolls back and the in-memory caches
   * reload. With group commit, fn runs in a savepoint of a longer transaction that commits
   * within `commitDelayMs` or at sync().
   */
  transaction<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.depth++;
    try {
      if (this.commitDelayMs === 0) return this.sql.transaction(() => this.finish(fn()));
      this.openGroup();
      this.sql.exec('SAVEPOINT op');
      try {
        const result = this.finish(fn());
        this.sql.exec('RELEASE op');
        return result;
      } catch (error) {
        this.sql.exec('ROLLBACK TO op');
        this.sql.exec('RELEASE op');
        throw error;
      }
    } catch (error) {
      this.log.reload();
      this.projector.reset();
      throw error;
    } finally {
      this.depth--;
      if (this.depth === 0 && this.syncAfter) this.sync();
    }
  }

  private finish<T>(result: T): T {
    this.projector.flush();
    this.log.flush();
    return result;
  }

  private openGroup(): void {
    if (this.groupTimer) return;
    this.sql.exec('BEGIN IMMEDIATE');
    this.groupTimer = setTimeout(() => this.sync(), this.commitDelayMs);
    this.groupTimer.unref();
  }

  /**
   * Commits the open group transaction, if any: after it, every op so far is durable. Inside a
   * transaction (an fsync within a larger change) it takes effect when the transaction ends.
   */
  sync(): void {
    this.syncAfter = this.depth > 0;
    if (this.syncAfter || !this.groupTimer) return;
    clearTimeout(this.groupTimer);
    this.groupTimer = null;
    if (this.sql.isOpen) this.sql.exec('COMMIT');
  }

  /** Issues a local op: stamps it with the next seq and timestamp and applies it, atomically. */
  commit(body: OpBody, actor: Actor): Op {
    const committed = this.transaction(() => {
      const op = checkOp({ ...body, origin: this.origin, seq: this.log.seqOf(this.origin) + 1, ts: this.hlc.tick(), actor });
      const bytes = encodeOp(op);
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

  /** Rebuilds into a scratch in-memory database and compares with the live projections. */
  verify(onProgress?: (done: number) => void): { ok: boolean; live: string; rebuilt: string } {
    const scratch = openSqlite(':memory:');
    try {
      new Projector(scratch, this.log).rebuild({ onProgress });
      const live = hashProjections(this.sql);
      const rebuilt = hashProjections(scratch);
      return { ok: live === rebuilt, live, rebuilt };
    } finally {
      scratch.close();
    }
  }

  /** Hex sha256 of every chunk some op in the log references (the live set for gc). */
  referencedChunks(): Set<string> {
    const live = new Set<string>();
    for (const { op } of this.log.scan()) {
      if (op.kind !== 'setContent') continue;
      for (const chunk of unpackManifest(op.manifest)) live.add(hex(chunk.hash));
    }
    return live;
  }

  gc(): { count: number; bytes: number } {
    return this.chunks.gc(this.referencedChunks());
  }

  close(): void {
    this.sync();
    if (this.log.getMeta('hlc') !== this.hlc.highWater && this.log.count() > 0) this.sql.transaction(() => this.log.setMeta('hlc', this.hlc.highWater));
    this.sql.close();
  }
}

const rowPackr = new Packr({ useRecords: false, variableMapSize: true });

/** sha256 over every projection row in key order: equal hashes mean equal projections. */
export function hashProjections(sql: SqlAdapter): string {
  const digest = createHash('sha256');
  for (const [table, order] of Object.entries(PROJECTION_TABLES)) {
    for (const row of sql.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all()) digest.update(rowPackr.pack([table, Object.values(row)]));
  }
  return digest.digest('hex');
}
