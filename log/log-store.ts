// The append-only op log. Ops are keyed by their packed local id (origin number, seq), so an
// insert of an op already held is a no-op, and are unique by timestamp, which orders them.
// Per origin, seq must be contiguous: an op that would leave a gap is refused.
import { assert } from './assert.ts';
import { decodeOp, encodeOp } from './codec.ts';
import { EMPTY_FINGERPRINT, opDigest, xorInto, type Cursor, type VersionVector } from './cursor.ts';
import { formatRef, packId, parseRef, ROOT_ID, ROOT_REF, TRASH_ID, TRASH_REF, unpackId, type Ref } from './ids.ts';
import type { Ts } from './hlc.ts';
import { HASH_BYTES } from './manifest.ts';
import { ORIGIN_NUM_MAX, SEQ_MAX } from './limits.ts';
import type { Op } from './op.ts';
import { ensureSchema, type SqlAdapter, type SqlStatement, type SqlValue } from './sql.ts';
import { BulkWriter } from './bulk.ts';

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
    count: SqlStatement<{ n: number }>; maxTs: SqlStatement<{ ts: Ts | null }>;
  };

  readonly sql: SqlAdapter;

  constructor(sql: SqlAdapter) {
    this.sql = sql;
    ensureSchema(sql, 'ops', SCHEMA);
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
    };
    this.insertOps = new BulkWriter(sql, 'INSERT INTO ops (ts, id, bytes)', 3);
    this.reload();
  }

  /** Re-reads the in-memory caches from the database (at open, and after a rollback). */
  reload(): void {
    this.nums.clear();
    this.origins.clear();
    this.ids.clear();
    this.pending = [];
    this.seqs.clear();
    for (const row of this.sql.prepare<{ num: number; origin: string }>('SELECT num, origin FROM origins').all()) {
      this.nums.set(row.origin, row.num);
      this.origins.set(row.num, row.origin);
      const max = this.stmt.maxSeq.get(packId(row.num, 1), packId(row.num, SEQ_MAX))?.id;
      this.seqs.set(row.num, max ? unpackId(max).seq : 0);
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
    let last = afterTs;
    this.flush();
    for (;;) {
      const rows = this.stmt.afterTs.values(last, pageCount) as Array<[number, Uint8Array, Ts]>;
      for (const [id, bytes] of rows) yield { id, bytes, op: decodeOp(bytes, true) };
      if (rows.length < pageCount) return;
      last = rows[rows.length - 1]![2];
    }
  }

  /** Up to `limit` ops the holder of `vv` lacks, in timestamp order, each origin's a prefix. */
  after(vv: VersionVector, limit: number): StoredOp[] {
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

  fingerprint(): string {
    return Buffer.from(this.fingerprintBytes).toString('hex');
  }

  cursor(): Cursor {
    return { versionVector: this.versionVector(), fingerprint: this.count() ? this.fingerprint() : EMPTY_FINGERPRINT };
  }

  count(): number {
    this.flush();
    return this.stmt.count.get()!.n;
  }

  maxTs(): Ts | null {
    this.flush();
    return this.stmt.maxTs.get()?.ts ?? null;
  }
}
