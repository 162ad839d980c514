// The SQL adapter conformance suite: what log/ and projections/ rely on from a SqlAdapter,
// checked the same way on every backend. Plain functions that throw on failure (no test runner),
// so the same checks run under vitest on better-sqlite3 and inside a Durable Object on workerd
// (spec/harness/conformance-worker.ts). `open` gives a fresh, empty database each call.
import { assert, CHUNK_BYTES, type SqlAdapter } from '../log/index.ts';
import { canonicalTree, FileSystem, openHistory, resolvePosition, Store } from '../projections/index.ts';

export type AdapterCheck = (open: () => SqlAdapter) => void;

const same = (a: unknown, b: unknown, what: string) => {
  const [x, y] = [JSON.stringify(a), JSON.stringify(b)];
  assert(x === y, `${what}: ${x} is not ${y}`);
};

const throws = (fn: () => unknown, what: string): Error => {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error(`${what} did not throw`);
};

const workspace = (sql: SqlAdapter) => {
  let ms = 1_700_000_000_000;
  const store = new Store(sql, { clock: { now: () => ms++ }, mintOrigin: () => '01JD3Q4Z5X6Y7Z8A9B0C1D2E3F' });
  return { store, fs: FileSystem.live(store, { kind: 'rpc', id: 'conformance' }) };
};

export const ADAPTER_CHECKS: Record<string, AdapterCheck> = {
  'values round-trip: integers, text, BLOBs as Uint8Array, NULL'(open) {
    const sql = open();
    sql.exec('CREATE TABLE t (i INTEGER, s TEXT, b BLOB, n)');
    const blob = new Uint8Array([0, 1, 2, 255]);
    sql.prepare('INSERT INTO t VALUES (?, ?, ?, ?)').run(2 ** 53 - 1, 'é ✓', blob, null);
    sql.prepare('INSERT INTO t VALUES (?, ?, ?, ?)').run(-1, '', new Uint8Array(0), null);
    const rows = sql.prepare<{ i: number; s: string; b: Uint8Array; n: null }>('SELECT * FROM t ORDER BY i DESC').all();
    assert(rows.length === 2, 'two rows');
    assert(rows[0]!.b instanceof Uint8Array && rows[1]!.b instanceof Uint8Array, 'BLOBs come back as Uint8Array');
    same([...rows[0]!.b], [...blob], 'blob bytes');
    same(rows.map((r) => [r.i, r.s, r.b.length, r.n]), [[2 ** 53 - 1, 'é ✓', 4, null], [-1, '', 0, null]], 'rows');
    const values = sql.prepare('SELECT b, i FROM t ORDER BY i').values();
    assert(values[1]![0] instanceof Uint8Array, 'values() BLOBs are Uint8Array');
    same(values.map((v) => v[1]), [-1, 2 ** 53 - 1], 'values()');
    assert(sql.prepare('SELECT * FROM t WHERE i = ?').get(7) === undefined, 'get() of no row is undefined');
    same(sql.prepare('DELETE FROM t WHERE i = ? RETURNING i').get(-1), { i: -1 }, 'RETURNING tells what a statement changed');
  },

  'transactions commit, nest by joining, and roll back whole on a throw'(open) {
    const sql = open();
    sql.exec('CREATE TABLE t (x INTEGER)');
    const insert = sql.prepare('INSERT INTO t VALUES (?)');
    const count = () => sql.prepare<{ n: number }>('SELECT count(*) AS n FROM t').get()!.n;
    same(sql.transaction(() => (insert.run(1), sql.transaction(() => (insert.run(2), 'inner')))), 'inner', 'a transaction returns its value');
    assert(count() === 2, 'committed');
    throws(() => sql.transaction(() => {
      insert.run(3);
      sql.transaction(() => {
        insert.run(4);
        throw new Error('boom');
      });
    }), 'a failing transaction');
    assert(count() === 2, 'a throw rolls back the outer and the inner transaction');
    sql.sync();
    assert(count() === 2, 'sync keeps what committed');
  },

  'statements refuse BEGIN nowhere: transactions go through transaction() only'(open) {
    const sql = open();
    sql.exec('CREATE TABLE t (x INTEGER PRIMARY KEY)');
    sql.transaction(() => sql.exec('INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);'));
    assert(sql.prepare<{ n: number }>('SELECT count(*) AS n FROM t').get()!.n === 2, 'exec runs several statements');
  },

  'get() of a query with many rows leaves no statement holding the table'(open) {
    const sql = open();
    sql.exec('CREATE TABLE t (x INTEGER)');
    sql.transaction(() => {
      for (let i = 0; i < 5; i++) sql.prepare('INSERT INTO t VALUES (?)').run(i);
    });
    same(sql.prepare('SELECT x FROM t ORDER BY x').get(), { x: 0 }, 'the first row');
    sql.exec('DROP TABLE t');
    assert(!sql.hasTable('t'), 'dropped');
  },

  'tables and their columns are listed (sqlite_master, pragma_table_info)'(open) {
    const sql = open();
    assert(!sql.hasTable('t'), 'no table yet');
    sql.exec('CREATE TABLE t (a INTEGER, b BLOB) ; CREATE INDEX t_by_b ON t (b)');
    assert(sql.hasTable('t'), 'the table exists');
    assert(!sql.hasTable('t_by_b'), 'an index is not a table');
    same(sql.prepare("SELECT name FROM pragma_table_info('t') ORDER BY cid").all().map((r) => r.name), ['a', 'b'], 'columns');
  },

  'a scratch database is apart from the live one and gone after close'(open) {
    const sql = open();
    sql.exec('CREATE TABLE nodes (id INTEGER PRIMARY KEY, name TEXT)');
    sql.prepare('INSERT INTO nodes VALUES (?, ?)').run(1, 'live');
    const scratch = sql.scratch();
    assert(!scratch.hasTable('nodes'), 'the scratch starts empty');
    scratch.exec('CREATE TABLE IF NOT EXISTS nodes (id INTEGER PRIMARY KEY, name TEXT); CREATE INDEX IF NOT EXISTS nodes_by_name ON nodes (name)');
    scratch.prepare('INSERT INTO nodes (id, name) VALUES (?, ?)').run(2, 'scratch');
    const nodes = scratch.prepare<{ nodes: string }>('SELECT n.name AS nodes FROM nodes n JOIN nodes m ON m.id = n.id').all();
    same(nodes, [{ nodes: 'scratch' }], 'the scratch reads its own table; aliases keep their names');
    same(sql.prepare('SELECT name FROM nodes').all(), [{ name: 'live' }], 'the live table is untouched');
    same(scratch.prepare("SELECT name FROM pragma_table_info('nodes') ORDER BY cid").all().map((r) => r.name), ['id', 'name'], 'scratch columns');
    scratch.close();
    same(sql.prepare('SELECT name FROM nodes').all(), [{ name: 'live' }], 'closing the scratch leaves the live table');
    const tables = sql.prepare<{ name: string }>("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name").all();
    same(tables.map((t) => t.name), ['nodes'], 'the scratch left nothing behind');
  },

  'a statement takes paramsMax bound parameters and refuses one more'(open) {
    const sql = open();
    const statement = (n: number) => `SELECT count(*) AS n FROM (VALUES ${Array(n).fill('(?)').join(', ')})`;
    const at = (n: number) => sql.prepare<{ n: number }>(statement(n)).get(...Array<number>(n).fill(1));
    same(at(sql.paramsMax), { n: sql.paramsMax }, 'paramsMax parameters');
    throws(() => at(sql.paramsMax + 1), 'a statement over paramsMax');
  },

  'multi-row inserts stay within the bound-parameter limit'(open) {
    const sql = open();
    assert(sql.paramsMax >= 100, 'at least 100 parameters');
    const { store, fs } = workspace(sql);
    // A thousand files in one transaction: entries, nodes and log rows go out in bulk inserts.
    store.transaction(() => {
      for (let i = 0; i < 1000; i++) fs.writeFile(`/f${i}`, `${i}`);
    });
    assert(fs.readdir('/').length === 1000, 'a thousand files');
    assert(store.verify().ok, 'verify');
  },

  'a store on the adapter: files, rebuild, verify, history, compaction'(open) {
    const { store, fs } = workspace(open());
    fs.mkdir('/src');
    fs.writeFile('/src/a.txt', 'one\n');
    const first = store.log.cursor();
    fs.writeFile('/src/a.txt', 'two\n');
    fs.rename('/src/a.txt', '/src/b.txt');
    fs.writeFile('/big', new Uint8Array(CHUNK_BYTES + 10).fill(7));
    fs.symlink('b.txt', '/src/link');
    fs.setxattr('/src/b.txt', 'user.k', new Uint8Array([1]));
    const tree = canonicalTree(fs);
    assert(store.verify().ok, 'the projections equal a rebuild in a scratch database');
    store.rebuild();
    same(canonicalTree(fs), tree, 'the tree after a rebuild in place');
    const past = openHistory(store, resolvePosition(store, `${store.origin}:${first.versionVector[store.origin]}`).ts);
    same(past.fs.readdir('/src').map((e) => new TextDecoder().decode(e.name)), ['a.txt'], 'the past tree');
    same(new TextDecoder().decode(past.fs.readFile('/src/a.txt')), 'one\n', 'the past content');
    past.close();
    const checkpoint = store.compact(store.log.maxTs()!);
    assert(checkpoint.ops === store.log.cursor().versionVector[store.origin], 'the checkpoint covers every op');
    same(canonicalTree(fs), tree, 'the tree after compaction');
    assert(store.verify().ok, 'verify after compaction');
    assert(fs.statfs().bavail > 0, 'statfs reports free space');
  },
};

/** Runs every check (or the named one); returns each failure's message. */
export function runAdapterChecks(open: () => SqlAdapter, only?: string): Record<string, string | null> {
  const results: Record<string, string | null> = {};
  for (const [name, check] of Object.entries(ADAPTER_CHECKS)) {
    if (only !== undefined && name !== only) continue;
    try {
      check(open);
      results[name] = null;
    } catch (error) {
      results[name] = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
    }
  }
  return results;
}
