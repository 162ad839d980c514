import { describe, expect, it } from 'vitest';
import { ChunkHashError, ChunkStore, GapError, LogStore, MissingChunkError, sha256, CHUNK_BYTES, type Op } from './index.ts';
import { openSqlite } from './sqlite-node.ts';

const A = '01JD3Q4Z5X6Y7Z8A9B0C1D2E3A';
const B = '01JD3Q4Z5X6Y7Z8A9B0C1D2E3B';

function op(origin: string, seq: number, ms: number): Op {
  return {
    origin, seq, ts: `${ms.toString(16).padStart(12, '0')}.0000.${origin}`, actor: { kind: 'api' },
    kind: 'setAttr', node: 'root', mode: 0o700, uid: null, gid: null, atime: null, mtime: null,
  };
}

describe('LogStore', () => {
  it('appends contiguously per origin and refuses gaps', () => {
    const log = new LogStore(openSqlite(':memory:'));
    log.append(op(A, 1, 10));
    log.append(op(A, 2, 20));
    expect(() => log.append(op(A, 4, 30))).toThrow(GapError);
    expect(() => log.append(op(B, 2, 30))).toThrow(GapError);
    log.append(op(B, 1, 15));
    expect(log.versionVector()).toEqual({ [A]: 2, [B]: 1 });
    expect(log.has(A, 2)).toBe(true);
    expect(log.has(A, 3)).toBe(false);
  });

  it('scans in timestamp order and reads after a version vector', () => {
    const log = new LogStore(openSqlite(':memory:'));
    for (const o of [op(A, 1, 10), op(B, 1, 5), op(A, 2, 30), op(B, 2, 20)]) log.append(o);
    expect([...log.scan()].map((s) => s.op.ts.slice(0, 12))).toEqual(['000000000005', '00000000000a', '000000000014', '00000000001e']);
    expect(log.after({ [A]: 1 }, 10).map((s) => `${s.op.origin === A ? 'A' : 'B'}${s.op.seq}`)).toEqual(['B1', 'B2', 'A2']);
    expect(log.after({ [A]: 1 }, 2).map((s) => `${s.op.origin === A ? 'A' : 'B'}${s.op.seq}`)).toEqual(['B1', 'B2']);
    expect(log.after(log.versionVector(), 10)).toEqual([]);
  });

  it('has an order-independent fingerprint that survives reopen', () => {
    const ops = [op(A, 1, 10), op(B, 1, 5), op(A, 2, 30)];
    const one = new LogStore(openSqlite(':memory:'));
    const two = new LogStore(openSqlite(':memory:'));
    for (const o of ops) one.append(o);
    for (const o of [ops[1]!, ops[0]!, ops[2]!]) two.append(o);
    expect(one.fingerprint()).toBe(two.fingerprint());
    expect(one.fingerprint()).not.toBe('0'.repeat(64));
    one.flush();
    const reopened = new LogStore(one.sql);
    expect(reopened.fingerprint()).toBe(one.fingerprint());
    expect(reopened.versionVector()).toEqual(one.versionVector());
  });

  it('packs ids and maps them back to global refs', () => {
    const log = new LogStore(openSqlite(':memory:'));
    const id = log.localId(`${B}:9`);
    expect(log.globalRef(id)).toBe(`${B}:9`);
    expect(log.localId('root')).toBe(1);
    expect(log.globalRef(2)).toBe('trash');
  });
});

describe('ChunkStore', () => {
  it('stores each distinct chunk once and checks hashes both ways', () => {
    const sql = openSqlite(':memory:');
    const chunks = new ChunkStore(sql);
    const data = Buffer.from('hello');
    const hash = chunks.put(data);
    expect(chunks.put(Buffer.from('hello'))).toEqual(hash);
    expect(chunks.totals()).toEqual({ count: 1, bytes: 5 });
    expect(Buffer.from(chunks.get(hash)).toString()).toBe('hello');
    expect(() => chunks.putVerified(sha256(Buffer.from('other')), data)).toThrow(ChunkHashError);
    sql.prepare('UPDATE chunks SET data = ? WHERE hash = ?').run(Buffer.from('jello'), hash);
    expect(Buffer.from(chunks.get(hash)).toString()).toBe('hello'); // read before: cached
    expect(() => new ChunkStore(sql).get(hash)).toThrow(ChunkHashError);
    expect(() => chunks.get(sha256(Buffer.from('missing')))).toThrow(MissingChunkError);
    expect(() => chunks.put(new Uint8Array(CHUNK_BYTES + 1))).toThrow();
  });

  it('collects chunks nothing references, sparing pinned ones', () => {
    const chunks = new ChunkStore(openSqlite(':memory:'));
    const keep = chunks.put(Buffer.from('keep'));
    const pinned = chunks.put(Buffer.from('pinned'));
    chunks.put(Buffer.from('drop'));
    chunks.pin(pinned);
    const live = new Set([Buffer.from(keep).toString('hex')]);
    expect(chunks.gc(live)).toEqual({ count: 1, bytes: 4 });
    chunks.unpin(pinned);
    expect(chunks.gc(live)).toEqual({ count: 1, bytes: 6 });
    expect(chunks.has(keep)).toBe(true);
  });
});
