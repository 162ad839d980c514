// Projection tables: derived state, dropped and rebuilt from the log at will. Local ids are
// packed (origin number, seq) of the op that created the node or entry; see log/ids.ts.
import { ROOT_ID, TRASH_ID, type SqlAdapter, type SqlValue } from '../log/index.ts';

/** Each projection table with its key order (for canonical hashing). */
export const PROJECTION_TABLES = {
  nodes: 'id', entries: 'id', content: 'node', heads: 'node, op', superseded: 'op', conflicted: 'node', xattrs: 'node, name', tree_ops: 'ts',
  removals: 'op', removed_from: 'entry',
} as const;

export type ProjectionTable = keyof typeof PROJECTION_TABLES;

/** Rows read per statement by scanTable: memory stays bounded whatever a table holds. */
const SCAN_PAGE_ROWS = 4096;

/**
 * Every row of a projection table in key order, as the SQL expressions `select` give it, read a
 * page at a time from the last key read (each table's order is its primary key).
 */
export function* scanTable(sql: SqlAdapter, table: ProjectionTable, select: string): Generator<SqlValue[]> {
  const order = PROJECTION_TABLES[table];
  const keys = order.split(', ').length;
  const page = (where: string) => sql.prepare(`SELECT ${select}, ${order} FROM ${table} ${where} ORDER BY ${order} LIMIT ${SCAN_PAGE_ROWS}`);
  const [first, next] = [page(''), page(`WHERE (${order}) > (${Array(keys).fill('?').join(', ')})`)];
  for (let rows = first.values(); rows.length > 0; rows = rows.length < SCAN_PAGE_ROWS ? [] : next.values(...rows.at(-1)!.slice(-keys))) {
    for (const row of rows) yield row.slice(0, -keys);
  }
}

/** The layout of the tables below; a checkpoint's pages are written in one. */
export const PROJECTION_LAYOUT = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS nodes (
  id INTEGER PRIMARY KEY,
  type TEXT,              -- NULL until the create op is applied (a register op may come first)
  target BLOB, rdev INTEGER, born_ts TEXT,
  mode INTEGER, mode_ts TEXT,
  uid INTEGER, uid_ts TEXT,
  gid INTEGER, gid_ts TEXT,
  atime_s INTEGER, atime_ns INTEGER, atime_ts TEXT,
  mtime_s INTEGER, mtime_ns INTEGER, mtime_ts TEXT,
  ctime_ts TEXT,          -- ctime is the wall time of the newest op that touched the node
  links INTEGER NOT NULL DEFAULT 0,    -- entries pointing here whose parent is not the trash
  subdirs INTEGER NOT NULL DEFAULT 0   -- directory entries directly under this node
);
CREATE TABLE IF NOT EXISTS entries (
  id INTEGER PRIMARY KEY,
  parent INTEGER NOT NULL,
  name BLOB NOT NULL,
  node INTEGER NOT NULL,
  type TEXT NOT NULL,     -- the node's type (immutable), so walks need not read nodes
  ts TEXT NOT NULL        -- timestamp of the op that put the entry where it is
);
-- Every entry column: a lookup (the newest entry of a name) and a listing read no entry row and
-- sort nothing. Stores made before keep (parent, name): correct, a little slower.
CREATE INDEX IF NOT EXISTS entries_by_name ON entries (parent, name, ts, id, node, type);
CREATE INDEX IF NOT EXISTS entries_by_node ON entries (node);
CREATE TABLE IF NOT EXISTS content (
  node INTEGER PRIMARY KEY, op INTEGER NOT NULL, ts TEXT NOT NULL, size INTEGER NOT NULL, manifest BLOB NOT NULL
);
-- Content heads: a node's setContent ops that no other setContent names as its base. The newest
-- is the content above; every other head is a concurrent edit, shown as a conflict copy.
CREATE TABLE IF NOT EXISTS heads (
  node INTEGER NOT NULL, op INTEGER NOT NULL, ts TEXT NOT NULL, size INTEGER NOT NULL, manifest BLOB NOT NULL,
  deletes BLOB,          -- the op's deletes (msgpack refs), NULL when empty
  PRIMARY KEY (node, op)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS heads_by_op ON heads (op);
-- Bases named by applied setContent ops that have not arrived yet: they arrive superseded.
CREATE TABLE IF NOT EXISTS superseded (op INTEGER PRIMARY KEY);
-- Nodes with more than one head.
CREATE TABLE IF NOT EXISTS conflicted (node INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS xattrs (
  node INTEGER NOT NULL, name BLOB NOT NULL, value BLOB, ts TEXT NOT NULL, PRIMARY KEY (node, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tree_ops (ts TEXT PRIMARY KEY, op INTEGER NOT NULL, undo BLOB NOT NULL) WITHOUT ROWID;
-- Applied removals (unlink, rmdir, the entry a rename replaced) of a node's last name, with the
-- heads they saw (msgpack refs, NULL for none): kept = 1 when a content head the removal did not
-- see, written without seeing it, kept the name (modify beats delete), 0 when the removal took it.
-- A row lives as long as its tree op is applied (undo drops it).
CREATE TABLE IF NOT EXISTS removals (
  op INTEGER PRIMARY KEY, node INTEGER NOT NULL, ts TEXT NOT NULL, seen BLOB, kept INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS removals_by_node ON removals (node);
-- Where directories in the trash were removed from, when the op that removed them is in a
-- checkpoint (its undo record is gone): a directory comes back there when something is put in it.
CREATE TABLE IF NOT EXISTS removed_from (entry INTEGER PRIMARY KEY, parent INTEGER NOT NULL, name BLOB NOT NULL, ts TEXT NOT NULL);
`;

/** The root and the trash exist before any op: timestamps '' sort before every real one. */
const ROOTS = `
INSERT OR IGNORE INTO nodes (id, type, target, rdev, born_ts, mode, mode_ts, uid, uid_ts, gid, gid_ts,
  atime_s, atime_ns, atime_ts, mtime_s, mtime_ns, mtime_ts, ctime_ts)
VALUES (${ROOT_ID}, 'dir', x'', 0, '', ${0o755}, '', 0, '', 0, '', 0, 0, '', 0, 0, '', ''),
       (${TRASH_ID}, 'dir', x'', 0, '', ${0o700}, '', 0, '', 0, '', 0, 0, '', 0, 0, '', '');
`;

/**
 * Creates the projection tables unless they exist in this layout. Tables of an older layout (one
 * without the newest table) are dropped first; returns true then: they must be rebuilt from the log.
 */
export function createProjectionSchema(sql: SqlAdapter): boolean {
  if (sql.hasTable('removed_from')) return false;
  const older = sql.hasTable('tree_ops');
  if (older) for (const table of Object.keys(PROJECTION_TABLES)) sql.exec(`DROP TABLE IF EXISTS ${table}`);
  sql.exec(`${SCHEMA}${ROOTS}`);
  return older;
}

export function clearProjections(sql: SqlAdapter): void {
  for (const table of Object.keys(PROJECTION_TABLES)) sql.exec(`DELETE FROM ${table}`);
  sql.exec(ROOTS);
}
