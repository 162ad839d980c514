// bench log: the op log on a file store (WAL, synchronous=NORMAL). Append with one op per
// transaction, batched append, and rebuild (drop projections, replay), each against a plain
// better-sqlite3 insert loop of the same row size measured in the same run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CHUNK_BYTES, packManifest, type Actor, type OpBody, type Ref } from '../log/index.ts';
import { openStore, Store } from '../index.ts';
import type { BenchRow } from './report.ts';

const BATCH_COUNT = 1000;
const ACTOR: Actor = { kind: 'exec', id: 'bench', command: 'bench log' };

/** A filesystem-shaped op mix: mkdir, create, write, chmod, rename, unlink. */
export function* workload(store: Store, count: number): Generator<OpBody> {
  const ref = (op: { origin: string; seq: number }): Ref => `${op.origin}:${op.seq}`;
  const chunk = store.chunks.put(new Uint8Array(4096).fill(7));
  const manifest = packManifest([{ index: 0, hash: chunk, size: 4096 }]);
  const name = (i: number) => Buffer.from(`f${i}.txt`);
  let dir: Ref = 'root';
  const files: Ref[] = [];
  for (let i = 0; i < count; i++) {
    const pick = i % 10;
    if (pick === 0) {
      yield { kind: 'create', parent: 'root', name: Buffer.from(`d${i}`), type: 'dir', mode: 0o755, uid: 0, gid: 0, target: new Uint8Array(0), rdev: 0 };
      dir = ref(lastOp(store));
    } else if (pick <= 3 || files.length === 0) {
      yield { kind: 'create', parent: dir, name: name(i), type: 'file', mode: 0o644, uid: 0, gid: 0, target: new Uint8Array(0), rdev: 0 };
      files.push(ref(lastOp(store)));
    } else if (pick <= 7) {
      yield { kind: 'setContent', node: files[files.length - 1]!, size: 4096, manifest, base: [], deletes: [] };
    } else if (pick === 8) {
      yield { kind: 'setAttr', node: files[files.length - 1]!, mode: 0o600, uid: null, gid: null, atime: null, mtime: null };
    } else {
      const node = files[files.length - 1]!;
      yield { kind: 'move', entry: node, node, from: dir, parent: dir, name: name(i), other: null, otherNode: null, exchange: false, seen: [] };
    }
  }
}

function lastOp(store: Store): { origin: string; seq: number } {
  return { origin: store.origin, seq: store.log.seqOf(store.origin) };
}

function rate(count: number, fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return count / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** A plain better-sqlite3 insert of rows shaped like the log's, one per transaction or batched. */
function baseline(dir: string, count: number, rowBytes: number, batch: number): number {
  const db = new Database(join(dir, `baseline-${batch}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE ops (id INTEGER PRIMARY KEY, ts TEXT NOT NULL UNIQUE, bytes BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO ops (id, ts, bytes) VALUES (?, ?, ?)');
  const blob = Buffer.alloc(rowBytes, 1);
  const result = rate(count, () => {
    for (let i = 0; i < count; i += batch) {
      db.exec('BEGIN');
      for (let j = i; j < Math.min(count, i + batch); j++) insert.run(j + 1, `${j.toString(16).padStart(12, '0')}.0000.01JD3Q4Z5X6Y7Z8A9B0C1D2E3F`, blob);
      db.exec('COMMIT');
    }
  });
  db.close();
  return result;
}

/**
 * The SQLite floor for one op per transaction: the same b-trees an op touches (ops and its id
 * index, two node rows, an entry and its two indexes, a tree_ops row, the fingerprint), written
 * by plain prepared statements, no ledgerfs code in the loop.
 */
function sameTablesBaseline(dir: string, count: number, rowBytes: number): number {
  const db = new Database(join(dir, 'same-tables.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE ops (ts TEXT PRIMARY KEY, id INTEGER UNIQUE, bytes BLOB) WITHOUT ROWID;
    CREATE TABLE nodes (id INTEGER PRIMARY KEY, a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s);
    CREATE TABLE entries (id INTEGER PRIMARY KEY, parent, name, node, dir, ts);
    CREATE INDEX entries_by_name ON entries (parent, name); CREATE INDEX entries_by_node ON entries (node);
    CREATE TABLE tree_ops (ts TEXT PRIMARY KEY, op, undo) WITHOUT ROWID;
    CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;`);
  const op = db.prepare('INSERT INTO ops VALUES (?, ?, ?)');
  const node = db.prepare('INSERT OR REPLACE INTO nodes VALUES (?, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)');
  const entry = db.prepare('INSERT INTO entries VALUES (?, ?, ?, ?, 0, ?)');
  const tree = db.prepare('INSERT INTO tree_ops VALUES (?, ?, ?)');
  const meta = db.prepare('INSERT OR REPLACE INTO meta VALUES (?, ?)');
  const blob = Buffer.alloc(rowBytes, 1);
  const result = rate(count, () => {
    for (let i = 0; i < count; i++) {
      const ts = `${i.toString(16).padStart(12, '0')}.0000.01JD3Q4Z5X6Y7Z8A9B0C1D2E3F`;
      db.exec('BEGIN IMMEDIATE');
      op.run(ts, i + 1, blob);
      node.run(i + 100);
      node.run(i % 10);
      entry.run(i + 100, i % 10, `f${i}.txt`, i + 100, ts);
      tree.run(ts, i + 1, blob.subarray(0, 24));
      meta.run('fingerprint', blob.subarray(0, 32));
      db.exec('COMMIT');
    }
  });
  db.close();
  return result;
}

export function benchLog(options: { ops: number }): { rows: BenchRow[]; extra: Record<string, unknown> } {
  const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-bench-'));
  try {
    const singleCount = Math.max(1000, Math.floor(options.ops / 5));
    const single = openStore({ file: join(dir, 'single.db'), verifyChunks: false });
    const singleRate = rate(singleCount, () => {
      for (const body of workload(single, singleCount)) single.commit(body, ACTOR);
    });
    single.close();

    const batched = openStore({ file: join(dir, 'batched.db'), verifyChunks: false });
    const ops = workload(batched, options.ops);
    const batchedRate = rate(options.ops, () => {
      for (let done = 0; done < options.ops;) {
        batched.transaction(() => {
          for (let i = 0; i < BATCH_COUNT && done < options.ops; i++, done++) batched.commit(ops.next().value!, ACTOR);
        });
      }
    });
    const rowBytes = Math.round([...batched.log.scan('', 1000)].slice(0, 1000).reduce((sum, s) => sum + s.bytes.length, 0) / 1000);
    const rebuildRate = rate(options.ops, () => batched.rebuild());
    const verified = batched.verify().ok;
    batched.close();

    const plainSingle = baseline(dir, singleCount, rowBytes, 1);
    const sameTables = sameTablesBaseline(dir, singleCount, rowBytes);
    const plainBatched = baseline(dir, options.ops, rowBytes, BATCH_COUNT);
    return {
      rows: [
        { name: 'append_single_txn', value: singleRate, unit: 'ops/s', baseline: plainSingle, note: `${singleCount} ops, one transaction each; target >= 20k` },
        { name: 'sqlite_same_tables_single_txn', value: sameTables, unit: 'ops/s', baseline: plainSingle, note: 'plain SQLite writing the b-trees one op touches, one transaction each' },
        { name: 'append_batched', value: batchedRate, unit: 'ops/s', baseline: plainBatched, note: `${options.ops} ops, ${BATCH_COUNT} per transaction; target >= 100k` },
        { name: 'rebuild', value: rebuildRate, unit: 'ops/s', baseline: plainBatched, note: 'drop projections, replay the log; target >= 300k' },
      ],
      extra: { ops: options.ops, row_bytes: rowBytes, chunk_bytes: CHUNK_BYTES, verify_ok: verified, node: process.version },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
