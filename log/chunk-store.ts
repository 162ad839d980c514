// Content-addressed chunks: each distinct sha256 is stored once. A chunk is live while an op
// in the log (or a pinned write buffer) references it; gc() deletes the rest. A chunk's bytes
// may live elsewhere (a Durable Object's R2 bucket): its row keeps the hash and size, the bytes
// are loaded into memory before a read needs them, and a read that finds them missing throws
// ChunkNotLoadedError, so the caller can load them and run the read again.
import { hash } from 'node:crypto';
import { assert } from './assert.ts';
import { CHUNK_BYTES, CHUNK_CACHE_BYTES_MAX } from './limits.ts';
import { HASH_BYTES } from './manifest.ts';
import { ensureSchema, type SqlAdapter, type SqlStatement } from './sql.ts';

export class ChunkHashError extends Error {
  override name = 'ChunkHashError';
  readonly code = 'EBADHASH';
  readonly expected: string;
  readonly actual: string;
  constructor(expected: string, actual: string) {
    super(`chunk hash mismatch: expected ${expected}, got ${actual}`);
    this.expected = expected;
    this.actual = actual;
  }
}

export class MissingChunkError extends Error {
  override name = 'MissingChunkError';
  readonly code = 'EIO';
  readonly hash: string;
  constructor(digest: string) {
    super(`chunk ${digest} is not in the chunk store`);
    this.hash = digest;
  }
}

/** The chunk's bytes are elsewhere (see offloaded()) and not loaded: load(), then try again. */
export class ChunkNotLoadedError extends Error {
  override name = 'ChunkNotLoadedError';
  readonly code = 'EAGAIN';
  readonly hash: Uint8Array;
  constructor(digest: Uint8Array) {
    super(`chunk ${hex(digest)} is not loaded`);
    this.hash = digest;
  }
}

export function sha256(data: Uint8Array): Buffer {
  return hash('sha256', data, 'buffer') as unknown as Buffer;
}

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');

/** data is NULL for a chunk whose bytes were moved elsewhere (offloaded). */
const SCHEMA = `CREATE TABLE IF NOT EXISTS chunks (hash BLOB PRIMARY KEY, size INTEGER NOT NULL, data BLOB);`;

export class ChunkStore {
  private readonly stmt: {
    insert: SqlStatement; get: SqlStatement<{ data: Uint8Array | null }>; has: SqlStatement<{ one: number }>;
    totals: SqlStatement<{ n: number; bytes: number | null }>; local: SqlStatement<{ hash: Uint8Array; data: Uint8Array }>;
    offload: SqlStatement; localTotals: SqlStatement<{ n: number; bytes: number | null }>;
  };
  /** Hashes held by uncommitted write buffers: gc must not take them. */
  private readonly pins = new Map<string, number>();
  /** Recently read chunks, oldest first. */
  private readonly recent = new Map<string, Uint8Array>();
  private recentBytes = 0;

  readonly sql: SqlAdapter;
  /** Re-hash every chunk read (TigerBeetle habit: check after the read, not only at write). */
  readonly verifyOnRead: boolean;

  constructor(sql: SqlAdapter, verifyOnRead = true) {
    this.sql = sql;
    this.verifyOnRead = verifyOnRead;
    ensureSchema(sql, 'chunks', SCHEMA);
    this.stmt = {
      insert: sql.prepare('INSERT OR IGNORE INTO chunks (hash, size, data) VALUES (?, ?, ?)'),
      get: sql.prepare('SELECT data FROM chunks WHERE hash = ?'),
      has: sql.prepare('SELECT 1 AS one FROM chunks WHERE hash = ?'),
      totals: sql.prepare('SELECT count(*) AS n, sum(size) AS bytes FROM chunks'),
      local: sql.prepare('SELECT hash, data FROM chunks WHERE data IS NOT NULL LIMIT ?'),
      offload: sql.prepare('UPDATE chunks SET data = NULL WHERE hash = ?'),
      localTotals: sql.prepare('SELECT count(*) AS n, sum(size) AS bytes FROM chunks WHERE data IS NOT NULL'),
    };
  }

  /** Stores a chunk (at most CHUNK_BYTES) and returns its sha256. */
  put(data: Uint8Array): Uint8Array {
    assert(data.length <= CHUNK_BYTES, `chunk of ${data.length} bytes exceeds ${CHUNK_BYTES}`);
    const digest = sha256(data);
    // A chunk held already is not bound again: binding copies every byte before the conflict.
    if (this.stmt.has.get(digest) === undefined) this.stmt.insert.run(digest, data.length, data);
    return digest;
  }

  /** Stores a chunk that arrived with a claimed hash; refuses it if the bytes do not match. */
  putVerified(expected: Uint8Array, data: Uint8Array): void {
    const digest = sha256(data);
    if (!digest.equals(expected)) throw new ChunkHashError(hex(expected), hex(digest));
    if (data.length > CHUNK_BYTES) throw new RangeError(`chunk of ${data.length} bytes exceeds ${CHUNK_BYTES}`);
    this.stmt.insert.run(digest, data.length, data);
  }

  /**
   * A chunk's bytes, hash-checked. Recently read chunks are kept (chunks never change, so the
   * cache needs no invalidation): a 512 KiB chunk read in 128 KiB FUSE requests is fetched and
   * hashed once, not four times.
   */
  get(digest: Uint8Array): Uint8Array {
    assert(digest.length === HASH_BYTES, 'chunk hash must be 32 bytes');
    const key = hex(digest);
    const cached = this.recent.get(key);
    if (cached) {
      this.recent.delete(key);
      this.recent.set(key, cached);
      return cached;
    }
    const row = this.stmt.get.get(digest);
    if (!row) throw new MissingChunkError(key);
    if (row.data === null) throw new ChunkNotLoadedError(digest);
    if (this.verifyOnRead) {
      const actual = sha256(row.data);
      if (!actual.equals(digest)) throw new ChunkHashError(key, hex(actual));
    }
    this.remember(key, row.data);
    return row.data;
  }

  /** Up to `limit` chunks whose bytes are here, to move elsewhere. */
  local(limit: number): Array<{ hash: Uint8Array; data: Uint8Array }> {
    return this.stmt.local.all(limit);
  }

  /** The chunk's bytes are stored elsewhere now: keep its hash and size only. */
  offloaded(digest: Uint8Array): void {
    this.stmt.offload.run(digest);
  }

  /** Bytes of an offloaded chunk fetched back, hash-checked, kept with the recently read ones. */
  load(digest: Uint8Array, data: Uint8Array): void {
    const actual = sha256(data);
    if (!actual.equals(digest)) throw new ChunkHashError(hex(digest), hex(actual));
    this.remember(hex(digest), data);
  }

  /** Chunks whose bytes are in this database (the rest are offloaded). */
  localTotals(): { count: number; bytes: number } {
    const row = this.stmt.localTotals.get()!;
    return { count: row.n, bytes: row.bytes ?? 0 };
  }

  private remember(key: string, data: Uint8Array): void {
    this.recent.set(key, data);
    this.recentBytes += data.length;
    for (const [oldest, bytes] of this.recent) {
      if (this.recentBytes <= CHUNK_CACHE_BYTES_MAX) break;
      this.recent.delete(oldest);
      this.recentBytes -= bytes.length;
    }
  }

  has(digest: Uint8Array): boolean {
    return this.stmt.has.get(digest) !== undefined;
  }

  pin(digest: Uint8Array): void {
    const key = hex(digest);
    this.pins.set(key, (this.pins.get(key) ?? 0) + 1);
  }

  unpin(digest: Uint8Array): void {
    const key = hex(digest);
    const n = this.pins.get(key) ?? 0;
    assert(n > 0, `unpin of unpinned chunk ${key}`);
    if (n === 1) this.pins.delete(key);
    else this.pins.set(key, n - 1);
  }

  totals(): { count: number; bytes: number } {
    const row = this.stmt.totals.get()!;
    return { count: row.n, bytes: row.bytes ?? 0 };
  }

  /** Chunks neither in `live` (hex hashes) nor pinned: what gc would free. */
  orphans(live: ReadonlySet<string>): Array<{ hash: Uint8Array; size: number }> {
    return this.sql.prepare<{ hash: Uint8Array; size: number }>('SELECT hash, size FROM chunks').all()
      .filter((row) => !live.has(hex(row.hash)) && !this.pins.has(hex(row.hash)));
  }

  /** Deletes the orphans; returns what it freed. */
  gc(live: ReadonlySet<string>): { count: number; bytes: number } {
    const del = this.sql.prepare('DELETE FROM chunks WHERE hash = ?');
    return this.sql.transaction(() => {
      const orphans = this.orphans(live);
      for (const row of orphans) del.run(row.hash);
      return { count: orphans.length, bytes: orphans.reduce((sum, row) => sum + row.size, 0) };
    });
  }
}
