// The append-only op log. Ops are keyed by their packed local id (origin number, seq), so an
// insert of an op already held is a no-op, and are unique by timestamp, which orders them.
// Per origin, seq must be contiguous: an op that would leave a gap is refused. A checkpoint may
// replace a prefix of the log (see checkpoint.ts): the replica still holds those ops (version
// vector, fingerprint), it just no longer has their bytes.
import { assert } from './assert.ts';
import { CheckpointError, pagesDigest, type Checkpoint } from './checkpoint.ts';
import { decodeOp, encodeOp } from './codec.ts';
import { covers, EMPTY_FINGERPRINT, opDigest, SnapshotRequiredError, xorInto, type Cursor, type VersionVector } from './cursor.ts';
import { formatRef, packId, parseRef, ROOT_ID, ROOT_REF, TRASH_ID, TRASH_REF, unpackId, type Ref } from './ids.ts';
import type { Ts } from './hlc.ts';
import { HASH_BYTES } from './manifest.ts';
import { ORIGIN_NUM_MAX, SEQ_MAX } from './limits.ts';
import type { Op } from './op.ts';
import { ensureSchema, type SqlAdapter, type SqlStatement, type SqlValue } from './sql.ts';
import { BulkWriter } from './bulk.ts';
import { NODE_INDEX_SCHEMA, NodeIndex } from './node-index.ts';

export class GapError extends Error {
  override name = 'GapError';
  readonly code = 'EGAP';
  readonly origin: string;
  readonly have: number;
  readonly got: number;
  constructor(origin: string, have: number, got: number) {
    super(`op ${origin}:${got} would leave a gap: this replica has ${origin} up to seq ${have}`);
    this.origin = origin;
    this.have = have;
    this.got = got;
  }
}

export interface StoredOp {
  id: number;
  op: Op;
  bytes: Uint8Array;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS origins (num INTEGER PRIMARY KEY, origin TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS ops (ts TEXT PRIMARY KEY, id INTEGER NOT NULL UNIQUE, bytes BLOB NOT NULL) WITHOUT ROWID;
`;

/** The checkpoint's pages, and a snapshot's pages while they arrive (see Store.installSnapshot). */
const CHECKPOINT_SCHEMA = `
CREATE TABLE IF NOT EXISTS checkpoint_pages (n INTEGER PRIMARY KEY, bytes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS incoming_pages (n INTEGER PRIMARY KEY, bytes BLOB NOT NULL);
`;

type OpRow = { id: number; bytes: Uint8Array };

const ID_CACHE_MAX = 65536;
const PENDING_OPS_MAX = 4096;

export class LogStore {
  private readonly nums = new Map<string, number>();
  private readonly origins = new Map<number, string>();
  /** max seq held per origin number */
  private readonly seqs = new Map<number, number>();
  /** ref -> packed id; refs to hot directories repeat in almost every op */
  private readonly ids = new Map<Ref, number>();
  private fingerprintBytes = new Uint8Array(HASH_BYTES);
  private dirty = false;
  /** appended rows not yet written: inserted together, before the commit or any read */
  private pending: SqlValue[][] = [];
  private readonly insertOps: BulkWriter;
  private readonly stmt: {
    insertOrigin: SqlStatement; getOp: SqlStatement<OpRow>; setMeta: SqlStatement;
    getMeta: SqlStatement<{ value: unknown }>; maxSeq: SqlStatement<{ id: number | null }>;
    afterTs: SqlStatement; originAfter: SqlStatement<OpRow & { ts: Ts }>;
    count: SqlStatement<{ n: number }>; maxTs: SqlStatement<{ ts: Ts | null }>; minTs: SqlStatement<{ ts: Ts | null }>;
    tsOf: SqlStatement<{ ts: Ts }>; tsBefore: SqlStatement<{ ts: Ts | null }>;
    page: SqlStatement<{ bytes: Uint8Array }>; stage: SqlStatement; staged: SqlStatement<{ bytes: Uint8Array }>;
  };
  /** the checkpoint that replaced a prefix of the log, if any */
  checkpoint: Checkpoint | null = null;
  /** the nodes and entries each op touches (history reads it); null in a read-only store that predates it */
  readonly nodes: NodeIndex | null;

  readonly sql: SqlAdapter;

  constructor(sql: SqlAdapter) {
    this.sql = sql;
    ensureSchema(sql, 'ops', SCHEMA);
    ensureSchema(sql, 'checkpoint_pages', CHECKPOINT_SCHEMA);
    this.stmt = {
      insertOrigin: sql.prepare('INSERT INTO origins (num, origin) VALUES (?, ?)'),
      getOp: sql.prepare('SELECT id, bytes FROM ops WHERE id = ?'),
      setMeta: sql.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      getMeta: sql.prepare('SELECT value FROM meta WHERE key = ?'),
      maxSeq: sql.prepare('SELECT max(id) AS id FROM ops WHERE id BETWEEN ? AND ?'),
      afterTs: sql.prepare('SELECT id, bytes, ts FROM ops WHERE ts > ? ORDER BY ts LIMIT ?'),
      originAfter: sql.prepare('SELECT id, ts, bytes FROM ops WHERE id > ? AND id <= ? ORDER BY id LIMIT ?'),
      count: sql.prepare('SELECT count(*) AS n FROM ops'),
      maxTs: sql.prepare('SELECT max(ts) AS ts FROM ops'),
      minTs: sql.prepare('SELECT min(ts) AS ts FROM ops'),
      tsOf: sql.prepare('SELECT ts FROM ops WHERE id = ?'),
      tsBefore: sql.prepare('SELECT max(ts) AS ts FROM ops WHERE ts < ?'),
      page: sql.prepare('SELECT bytes FROM checkpoint_pages WHERE n = ?'),
      stage: sql.prepare('INSERT OR REPLACE INTO incoming_pages (n, bytes) VALUES (?, ?)'),
      staged: sql.prepare('SELECT bytes FROM incoming_pages WHERE n = ?'),
    };
    this.insertOps = new BulkWriter(sql, 'INSERT INTO ops (ts, id, bytes)', 3);
    this.nodes = this.openNodeIndex();
    this.reload();
  }

  /** The node index, built from the log the first time a store that predates it is opened for writing. */
  private openNodeIndex(): NodeIndex | null {
    if (this.sql.hasTable('node_ops')) return new NodeIndex(this.sql);
    try {
      this.sql.exec(NODE_INDEX_SCHEMA);
    } catch {
      return null; // read-only: history says how to build it
    }
    const index = new NodeIndex(this.sql);
    this.reload();
    this.sql.transaction(() => {
      for (const { id, op } of this.scan()) index.add(op, id, (ref) => this.localId(ref));
      index.flush();
    });
    return index;
  }

  /** Re-reads the in-memory caches from the database (at open, and after a rollback). */
  reload(): void {
    this.nums.clear();
    this.origins.clear();
    this.ids.clear();
    this.pending = [];
    this.nodes?.reset();
    this.seqs.clear();
    for (const row of this.sql.prepare<{ num: number; origin: string }>('SELECT num, origin FROM origins').all()) {
      this.nums.set(row.origin, row.num);
      this.origins.set(row.num, row.origin);
      const max = this.stmt.maxSeq.get(packId(row.num, 1), packId(row.num, SEQ_MAX))?.id;
      this.seqs.set(row.num, max ? unpackId(max).seq : 0);
    }
    const checkpoint = this.getMeta('checkpoint');
    this.checkpoint = typeof checkpoint === 'string' ? JSON.parse(checkpoint) as Checkpoint : null;
    for (const [origin, seq] of Object.entries(this.checkpoint?.versionVector ?? {})) {
      const num = this.nums.get(origin);
      assert(num !== undefined, `checkpoint origin ${origin} has no local number`);
      this.seqs.set(num, Math.max(this.seqs.get(num)!, seq));
    }
    const fp = this.getMeta('fingerprint');
    this.fingerprintBytes = fp instanceof Uint8Array ? new Uint8Array(fp) : new Uint8Array(HASH_BYTES);
    this.dirty = false;
  }

  getMeta(key: string): unknown {
    return this.stmt.getMeta.get(key)?.value;
  }

  setMeta(key: string, value: string | number | Uint8Array): void {
    this.stmt.setMeta.run(key, value);
  }

  /** Writes appended ops and the fingerprint; once per transaction, before it commits. */
  flush(): void {
    if (this.pending.length > 0) {
      this.insertOps.write(this.pending);
      this.pending = [];
    }
    this.nodes?.flush();
    if (!this.dirty) return;
    this.setMeta('fingerprint', this.fingerprintBytes);
    this.dirty = false;
  }

  /** The local number of an origin, assigned on first sight. */
  originNum(origin: string): number {
    let num = this.nums.get(origin);
    if (num === undefined) {
      num = this.nums.size + 1;
      assert(num <= ORIGIN_NUM_MAX, 'too many origins');
      this.stmt.insertOrigin.run(num, origin);
      this.nums.set(origin, num);
      this.origins.set(num, origin);
      this.seqs.set(num, 0);
    }
    return num;
  }

  localId(ref: Ref): number {
    let id = this.ids.get(ref);
    if (id === undefined) {
      if (ref === ROOT_REF) return ROOT_ID;
      if (ref === TRASH_REF) return TRASH_ID;
      const { origin, seq } = parseRef(ref);
      id = packId(this.originNum(origin), seq);
      if (this.ids.size >= ID_CACHE_MAX) this.ids.clear();
      this.ids.set(ref, id);
    }
    return id;
  }

  /** The local id of a ref whose origin this store has seen, without assigning a number. */
  knownId(ref: Ref): number | undefined {
    if (ref === ROOT_REF) return ROOT_ID;
    if (ref === TRASH_REF) return TRASH_ID;
    const { origin, seq } = parseRef(ref);
    const num = this.nums.get(origin);
    return num === undefined ? undefined : packId(num, seq);
  }

  globalRef(id: number): Ref {
    if (id === ROOT_ID) return ROOT_REF;
    if (id === TRASH_ID) return TRASH_REF;
    const { originNum, seq } = unpackId(id);
    const origin = this.origins.get(originNum);
    assert(origin, `unknown origin number ${originNum}`);
    return formatRef(origin, seq);
  }

  seqOf(origin: string): number {
    const num = this.nums.get(origin);
    return num === undefined ? 0 : this.seqs.get(num)!;
  }

  has(origin: string, seq: number): boolean {
    return seq <= this.seqOf(origin);
  }

  /** Whether the op with this local id is in the log. */
  hasId(id: number): boolean {
    const { originNum, seq } = unpackId(id);
    return seq <= (this.seqs.get(originNum) ?? 0);
  }

  /** Appends one op; returns its local id. The caller holds the transaction. */
  append(op: Op, bytes: Uint8Array = encodeOp(op)): number {
    const num = this.originNum(op.origin);
    const have = this.seqs.get(num)!;
    if (op.seq !== have + 1) throw new GapError(op.origin, have, op.seq);
    const id = packId(num, op.seq);
    this.pending.push([op.ts, id, bytes]);
    this.nodes?.add(op, id, (ref) => this.localId(ref));
    if (this.pending.length >= PENDING_OPS_MAX) this.flush();
    this.seqs.set(num, op.seq);
    xorInto(this.fingerprintBytes, opDigest(bytes));
    this.dirty = true;
    return id;
  }

  get(id: number): StoredOp | undefined {
    this.flush();
    const row = this.stmt.getOp.get(id);
    return row && { id: row.id, bytes: row.bytes, op: decodeOp(row.bytes, true) };
  }

  /** All ops in timestamp order, optionally only those after `afterTs`, read in pages. */
  *scan(afterTs: Ts = '', pageCount = 4096): Generator<StoredOp> {
    for (const { id, bytes } of this.scanBytes(afterTs, pageCount)) yield { id, bytes, op: decodeOp(bytes, true) };
  }

  /** As scan(), the ops' bytes without decoding them (a scan that wants few of them decodes those). */
  *scanBytes(afterTs: Ts = '', pageCount = 4096): Generator<{ id: number; ts: Ts; bytes: Uint8Array }> {
    let last = afterTs;
    this.flush();
    for (;;) {
      const rows = this.stmt.afterTs.values(last, pageCount) as Array<[number, Uint8Array, Ts]>;
      for (const [id, bytes, ts] of rows) yield { id, ts, bytes };
      if (rows.length < pageCount) return;
      last = rows[rows.length - 1]![2];
    }
  }

  /** The last `count` ops at or before `until`, in timestamp order. */
  last(count: number, until: Ts): StoredOp[] {
    this.flush();
    const rows = this.sql.prepare<OpRow>('SELECT id, bytes FROM ops WHERE ts <= ? ORDER BY ts DESC LIMIT ?').all(until, count);
    return rows.reverse().map((row) => ({ id: row.id, bytes: row.bytes, op: decodeOp(row.bytes, true) }));
  }

  /** Every origin this store has a number for. */
  knownOrigins(): string[] {
    return [...this.nums.keys()];
  }

  /**
   * Up to `limit` ops the holder of `vv` lacks, in timestamp order, each origin's a prefix. A
   * holder that lacks ops the checkpoint replaced cannot be served: SnapshotRequiredError.
   */
  after(vv: VersionVector, limit: number): StoredOp[] {
    if (this.checkpoint && !covers(vv, this.checkpoint.versionVector)) throw new SnapshotRequiredError(this.checkpoint, 'the peer lacks ops the checkpoint replaced');
    this.flush();
    const picked: Array<OpRow & { ts: Ts }> = [];
    for (const [num, origin] of this.origins) {
      const from = vv[origin] ?? 0;
      if (from >= this.seqs.get(num)!) continue;
      picked.push(...this.stmt.originAfter.all(packId(num, 1) + from - 1, packId(num, SEQ_MAX), limit));
    }
    picked.sort((a, b) => (a.ts < b.ts ? -1 : 1));
    return picked.slice(0, limit).map((row) => ({ id: row.id, bytes: row.bytes, op: decodeOp(row.bytes, true) }));
  }

  versionVector(): VersionVector {
    const vv: VersionVector = {};
    for (const [num, origin] of this.origins) {
      const seq = this.seqs.get(num)!;
      if (seq > 0) vv[origin] = seq;
    }
    return vv;
  }

  /** Hex XOR of the digests of every op held, the checkpoint's included (zeros for none). */
  fingerprint(): string {
    return Buffer.from(this.fingerprintBytes).toString('hex');
  }

  cursor(): Cursor {
    return { versionVector: this.versionVector(), fingerprint: this.fingerprint() };
  }

  /** Ops in the log (a checkpoint's are not). */
  count(): number {
    this.flush();
    return this.stmt.count.get()!.n;
  }

  /** Ops in the log with a timestamp in (after, until]. */
  countBetween(after: Ts, until: Ts): number {
    this.flush();
    return this.sql.prepare<{ n: number }>('SELECT count(*) AS n FROM ops WHERE ts > ? AND ts <= ?').get(after, until)!.n;
  }

  /** The newest timestamp held: of an op in the log, or the checkpoint's cut. */
  maxTs(): Ts | null {
    this.flush();
    const ts = this.stmt.maxTs.get()?.ts ?? null;
    return this.checkpoint && (ts === null || this.checkpoint.ts > ts) ? this.checkpoint.ts : ts;
  }

  /** The oldest timestamp of an op in the log, else null. */
  minTs(): Ts | null {
    this.flush();
    return this.stmt.minTs.get()?.ts ?? null;
  }

  /** The timestamp of an op still in the log, else undefined. */
  tsOf(origin: string, seq: number): Ts | undefined {
    const num = this.nums.get(origin);
    if (num === undefined || seq > this.seqs.get(num)!) return undefined;
    this.flush();
    return this.stmt.tsOf.get(packId(num, seq))?.ts;
  }

  /** The newest timestamp of an op in the log before `ts`, else undefined. */
  tsBefore(ts: Ts): Ts | undefined {
    this.flush();
    return this.stmt.tsBefore.get(ts)?.ts ?? undefined;
  }

  /**
   * Replaces every op at or before `cut` with a checkpoint holding `pages` (the projection state
   * at the cut, in `layout`). The caller holds the transaction. Per origin the replaced ops are a
   * prefix, since an origin's timestamps grow with its seqs.
   */
  compact(cut: Ts, pages: readonly Uint8Array[], layout: number): Checkpoint {
    const previous = this.checkpoint;
    if (previous && cut <= previous.ts) throw new CheckpointError(`the cut ${cut} does not pass the checkpoint at ${previous.ts}`);
    const fingerprint = Buffer.from(previous?.fingerprint ?? EMPTY_FINGERPRINT, 'hex');
    const versionVector: VersionVector = { ...previous?.versionVector };
    let ops = previous?.ops ?? 0;
    for (const { op, bytes } of this.scan()) {
      if (op.ts > cut) break;
      assert(op.seq === (versionVector[op.origin] ?? 0) + 1, `op ${op.origin}:${op.seq} at or before the cut follows a gap`);
      versionVector[op.origin] = op.seq;
      xorInto(fingerprint, opDigest(bytes));
      ops++;
    }
    this.sql.prepare('DELETE FROM ops WHERE ts <= ?').run(cut);
    this.nodes?.drop(cut);
    for (const [origin, seq] of Object.entries(versionVector)) {
      const next = this.tsOf(origin, seq + 1);
      assert(next === undefined || next > cut, `op ${origin}:${seq + 1} sorts before the cut but was not replaced`);
    }
    const checkpoint: Checkpoint = {
      ts: cut, versionVector, fingerprint: fingerprint.toString('hex'), ops, pages: pages.length, digest: pagesDigest(pages), layout,
    };
    this.sql.exec('DELETE FROM checkpoint_pages');
    const insert = this.sql.prepare('INSERT INTO checkpoint_pages (n, bytes) VALUES (?, ?)');
    pages.forEach((page, n) => insert.run(n, page));
    this.setMeta('checkpoint', JSON.stringify(checkpoint));
    this.checkpoint = checkpoint;
    return checkpoint;
  }

  /**
   * Replaces the whole log with a checkpoint from a peer, whose pages were staged (stage()); the
   * caller holds the transaction and appends whatever it keeps afterwards.
   */
  install(checkpoint: Checkpoint): void {
    const { count } = this.sql.prepare<{ count: number }>('SELECT count(*) AS count FROM incoming_pages WHERE n < ?').get(checkpoint.pages)!;
    const digest = count === checkpoint.pages ? pagesDigest(this.stagedPages()) : '';
    if (digest !== checkpoint.digest) {
      throw new CheckpointError(`staged snapshot pages (${count} of ${checkpoint.pages}) do not match the checkpoint's digest ${checkpoint.digest}`);
    }
    this.flush();
    this.nodes?.drop();
    this.sql.exec('DELETE FROM ops; DELETE FROM checkpoint_pages; INSERT INTO checkpoint_pages (n, bytes) SELECT n, bytes FROM incoming_pages; DELETE FROM incoming_pages');
    for (const origin of Object.keys(checkpoint.versionVector)) this.originNum(origin);
    this.setMeta('fingerprint', Buffer.from(checkpoint.fingerprint, 'hex'));
    this.setMeta('checkpoint', JSON.stringify(checkpoint));
    this.reload();
  }

  /** Page `n` of the checkpoint. */
  checkpointPage(n: number): Uint8Array | undefined {
    return this.stmt.page.get(n)?.bytes;
  }

  /** The checkpoint's pages in order (none without a checkpoint). */
  *checkpointPages(): Generator<Uint8Array> {
    for (let n = 0; n < (this.checkpoint?.pages ?? 0); n++) yield this.checkpointPage(n)!;
  }

  /** Keeps page `n` of a snapshot being fetched; install() takes them. */
  stage(n: number, bytes: Uint8Array): void {
    this.stmt.stage.run(n, bytes);
  }

  /** The staged snapshot pages in order, up to the first one missing. */
  *stagedPages(): Generator<Uint8Array> {
    for (let n = 0; ; n++) {
      const row = this.stmt.staged.get(n);
      if (!row) return;
      yield row.bytes;
    }
  }

  /** Drops staged snapshot pages (a fetch that will start over). */
  unstage(): void {
    this.sql.exec('DELETE FROM incoming_pages');
  }
}
