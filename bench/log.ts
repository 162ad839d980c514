// bench log: the op log on a file store (WAL, synchronous=NORMAL). Append with one op per
// transaction, batched append, and rebuild (drop projections, replay), each against a plain
// better-sqlite3 insert loop of the same row size and the floor of the rows ledgerfs writes
// (sqlite-floor.ts, rows-floor.ts), measured in the same run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CHUNK_BYTES, packManifest, ROOT_ID, type Actor, type OpBody, type Ref } from '../log/index.ts';
import { openStore, Store } from '../index.ts';
import type { BenchRow } from './report.ts';
import { RowsFloor } from './rows-floor.ts';
import { SqliteFloor } from './sqlite-floor.ts';

const BATCH_COUNT = 1000;
const ACTOR: Actor = { kind: 'exec', id: 'bench', command: 'bench log' };

/**
 * A filesystem-shaped op mix: mkdir, create, write, chmod, rename. Each write names the file's
 * previous write as its base, as a writer that read the file does (no conflict copies).
 */
export function* workload(store: Store, count: number): Generator<OpBody> {
  const ref = (op: { origin: string; seq: number }): Ref => `${op.origin}:${op.seq}`;
  const chunk = store.chunks.put(new Uint8Array(4096).fill(7));
  const manifest = packManifest([{ index: 0, hash: chunk, size: 4096 }]);
  const name = (i: number) => Buffer.from(`f${i}.txt`);
  let dir: Ref = 'root';
  const files: Ref[] = [];
  let lastWrite: Ref | null = null;
  for (let i = 0; i < count; i++) {
    const pick = i % 10;
    if (pick === 0) {
      yield { kind: 'create', parent: 'root', name: Buffer.from(`d${i}`), type: 'dir', mode: 0o755, uid: 0, gid: 0, target: new Uint8Array(0), rdev: 0 };
      dir = ref(lastOp(store));
    } else if (pick <= 3 || files.length === 0) {
      yield { kind: 'create', parent: dir, name: name(i), type: 'file', mode: 0o644, uid: 0, gid: 0, target: new Uint8Array(0), rdev: 0 };
      files.push(ref(lastOp(store)));
      lastWrite = null;
    } else if (pick <= 7) {
      yield { kind: 'setContent', node: files[files.length - 1]!, size: 4096, manifest, base: lastWrite ? [lastWrite] : [], deletes: [] };
      lastWrite = ref(lastOp(store));
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

/** The SQLite floor for one op per transaction: the statements a create runs (sqlite-floor.ts). */
function floorBaseline(dir: string, count: number): number {
  const floor = new SqliteFloor(join(dir, 'floor.db'));
  const result = rate(count, () => {
    for (let i = 0; i < count; i++) floor.mkdir(ROOT_ID, `d${i}`);
  });
  floor.close();
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
    const rowsFloor = new RowsFloor(join(dir, 'batched.db'));
    const batchedFloor = options.ops / rowsFloor.append(join(dir, 'floor-batched.db'), Math.ceil(options.ops / BATCH_COUNT));
    const batchedEncodedFloor = options.ops / rowsFloor.append(join(dir, 'floor-batched-encoded.db'), Math.ceil(options.ops / BATCH_COUNT), { encode: true });
    const rebuildFloor = options.ops / rowsFloor.rebuild(join(dir, 'floor-rebuild.db'));

    const plainSingle = baseline(dir, singleCount, rowBytes, 1);
    const sameTables = floorBaseline(dir, singleCount);
    const plainBatched = baseline(dir, options.ops, rowBytes, BATCH_COUNT);
    return {
      rows: [
        { name: 'append_single_txn', value: singleRate, unit: 'ops/s', baseline: plainSingle, note: `${singleCount} ops, one transaction each; target >= 20k` },
        { name: 'sqlite_same_tables_single_txn', value: sameTables, unit: 'ops/s', baseline: plainSingle, note: 'plain SQLite running the statements of one create, one transaction each' },
        { name: 'append_batched', value: batchedRate, unit: 'ops/s', baseline: plainBatched, note: `${options.ops} ops, ${BATCH_COUNT} per transaction; target >= 100k` },
        { name: 'sqlite_same_rows_batched', value: batchedFloor, unit: 'ops/s', baseline: plainBatched, note: `plain SQLite writing the rows the batched run left, ${BATCH_COUNT} ops' worth per transaction` },
        { name: 'sqlite_same_rows_batched_encoded', value: batchedEncodedFloor, unit: 'ops/s', baseline: plainBatched, note: 'the same, each op also encoded and hashed (sha256) as the log format requires' },
        { name: 'rebuild', value: rebuildRate, unit: 'ops/s', baseline: plainBatched, note: 'drop projections, replay the log; target >= 300k' },
        { name: 'sqlite_same_rows_rebuild', value: rebuildFloor, unit: 'ops/s', baseline: plainBatched, note: 'plain SQLite reading the log and writing the projection rows, one transaction' },
      ],
      extra: { ops: options.ops, row_bytes: rowBytes, chunk_bytes: CHUNK_BYTES, verify_ok: verified, node: process.version },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
