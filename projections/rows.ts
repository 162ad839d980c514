// A write-back cache of node and entry rows by id. Applying an op reads and writes them many
// times (a directory is touched by every create in it); the cache absorbs that and writes each
// dirty row once, in multi-row statements, before the transaction commits or anything reads the
// tables with SQL. Every write to these tables goes through it, so clean rows stay valid across
// transactions; a rollback or a rebuild starts it over.
import { assert, BulkWriter, NAME_BYTES_MAX, ROOT_ID, TRASH_ID, type NodeType, type SqlAdapter, type SqlStatement, type SqlValue, type Ts } from '../log/index.ts';
import type { ContentRow } from './reader.ts';
import type { NodeRow } from './registers.ts';
import type { EntryRow } from './tree.ts';

export const NODE_COLUMNS = ['id', 'type', 'target', 'rdev', 'born_ts', 'mode', 'mode_ts', 'uid', 'uid_ts', 'gid', 'gid_ts',
  'atime_s', 'atime_ns', 'atime_ts', 'mtime_s', 'mtime_ns', 'mtime_ts', 'ctime_ts', 'links', 'subdirs'] as const;
const ENTRY_COLUMNS = ['id', 'parent', 'name', 'node', 'type', 'ts'] as const;
const CONTENT_COLUMNS = ['op', 'ts', 'size', 'manifest'] as const;

/**
 * What a lookup that misses the cache reads in one query: the entry (`e`; its parent and name are
 * the lookup's own), its node (`n`), its content register (`c`) and one xattr (`x`), in the order
 * `learnLookup` takes them. An empty target (every node but a symlink) reads as NULL: a
 * better-sqlite3 blob is a Buffer of its own, outside the heap.
 */
const LOOKUP_COLUMN_LIST = ['e.id', 'e.node', 'e.type', 'e.ts', ...NODE_COLUMNS.map((c) => (c === 'target' ? "NULLIF(n.target, x'')" : `n.${c}`)),
  ...CONTENT_COLUMNS.map((c) => `c.${c}`), 'x.value', 'x.ts'];
export const LOOKUP_COLUMNS = LOOKUP_COLUMN_LIST.join(', ');
const LOOKUP_COLUMN_COUNT = LOOKUP_COLUMN_LIST.length;

type LookupRow = [
  id: number, node: number, type: NodeType, ts: Ts,
  nodeId: number | null, nodeType: string | null, target: Uint8Array | null, rdev: number | null, born_ts: Ts | null,
  mode: number | null, mode_ts: Ts | null, uid: number | null, uid_ts: Ts | null, gid: number | null, gid_ts: Ts | null,
  atime_s: number | null, atime_ns: number | null, atime_ts: Ts | null, mtime_s: number | null, mtime_ns: number | null, mtime_ts: Ts | null,
  ctime_ts: Ts | null, links: number, subdirs: number,
  op: number | null, contentTs: Ts, size: number, manifest: Uint8Array, value: Uint8Array | null, xattrTs: Ts | null,
];

const NO_TARGET = new Uint8Array(0);

/** Flush early inside a huge transaction (a rebuild) so memory stays bounded. */
const DIRTY_ROWS_MAX = 200_000;
/** Clean rows stay cached across transactions up to this many, then the cache starts over. */
const CACHED_ROWS_MAX = 100_000;
/** Longer xattr values are read from SQL each time (a mime type is tens of bytes). */
const XATTR_CACHED_BYTES_MAX = 256;
/**
 * The lookup that misses in one directory this many times reads it whole instead, as readahead
 * for names: a process that stats one file pays one query; one that walks a directory (ls -l,
 * git status, a reopened store's first scan) pays a query for each of the first misses before it.
 */
export const READAHEAD_MISSES = 8;
/** Directories with more entries are not read whole (an index-only probe finds them first): the read stays bounded. */
export const READAHEAD_ENTRIES_MAX = 4096;

/** An xattrs row as the cache keeps it. */
export interface XattrRow {
  value: Uint8Array | null;
  ts: Ts;
}

/**
 * A name as a map key: one character per byte, so distinct names stay distinct. A name (at most
 * 255 bytes) goes through String.fromCharCode, which makes no Buffer view to decode from.
 */
const nameKey = (name: Uint8Array): string => (name.length <= NAME_BYTES_MAX
  ? String.fromCharCode.apply(null, name as unknown as number[])
  : Buffer.from(name.buffer, name.byteOffset, name.byteLength).toString('latin1'));

export function blankNode(id: number): NodeRow {
  return {
    id, type: null, target: null, rdev: null, born_ts: null, mode: null, mode_ts: null, uid: null, uid_ts: null, gid: null, gid_ts: null,
    atime_s: null, atime_ns: null, atime_ts: null, mtime_s: null, mtime_ns: null, mtime_ts: null, ctime_ts: null, links: 0, subdirs: 0,
  };
}

export class ProjectionRows {
  private readonly nodes = new Map<number, NodeRow>();
  private readonly entries = new Map<number, EntryRow | null>();
  /**
   * parent -> name -> the entry a lookup of that name answers (the most recently placed; null
   * for none). Kept exact on every entry change (see placed), so path walks and stats run no SQL.
   */
  private readonly names = new Map<number, Map<string, EntryRow | null>>();
  private namesCount = 0;
  /** parent -> lookups in it that missed the cache (see missed) */
  private readonly misses = new Map<number, number>();
  /** node -> its content register (null: none), for nodes where it is known exactly */
  private readonly contents = new Map<number, ContentRow | null>();
  /**
   * xattr name -> node -> its row (value null: removed; ts '': no row), for values up to
   * XATTR_CACHED_BYTES_MAX (a Workspace reads a file's mime type on every stat and listing: one
   * map for that name, not one per node). Kept exact by applying the upsert's rule (the newest
   * ts wins) to each queued write.
   */
  private readonly xattrValues = new Map<string, Map<number, XattrRow>>();
  private xattrValuesCount = 0;
  /**
   * Nodes whose every xattr xattrValues holds: those created since the cache began, which had
   * none (a name it lacks is then absent, not unknown: a write's getxattr of a new file asks no SQL).
   */
  private readonly xattrsWhole = new Set<number>();
  private readonly dirtyNodes = new Set<number>();
  private readonly dirtyEntries = new Set<number>();
  private treeOps: SqlValue[][] = [];
  private contentRows: SqlValue[][] = [];
  private xattrs: SqlValue[][] = [];
  /** ts of the newest tree op applied; ops after it need no undo-do-redo */
  lastTreeTs: Ts = '';
  /** True while the cache holds every row (a rebuild into empty tables): a miss means absent. */
  private complete = false;
  private readonly stmt: {
    node: SqlStatement<NodeRow>; entry: SqlStatement<EntryRow>; deleteEntry: SqlStatement;
    lastTreeTs: SqlStatement<{ ts: Ts | null }>; later: SqlStatement<{ ts: Ts; op: number; undo: Uint8Array }>; dropLater: SqlStatement;
    treeOp: SqlStatement<{ undo: Uint8Array }>; child: SqlStatement<{ one: number }>;
    removedFrom: SqlStatement<{ parent: number; name: Uint8Array; ts: Ts }>;
  };
  private readonly bulk: { nodes: BulkWriter; entries: BulkWriter; treeOps: BulkWriter; content: BulkWriter; xattrs: BulkWriter };

  constructor(sql: SqlAdapter) {
    this.stmt = {
      node: sql.prepare('SELECT * FROM nodes WHERE id = ?'),
      entry: sql.prepare('SELECT * FROM entries WHERE id = ?'),
      deleteEntry: sql.prepare('DELETE FROM entries WHERE id = ?'),
      lastTreeTs: sql.prepare('SELECT max(ts) AS ts FROM tree_ops'),
      later: sql.prepare('SELECT ts, op, undo FROM tree_ops WHERE ts >= ? ORDER BY ts DESC'),
      dropLater: sql.prepare('DELETE FROM tree_ops WHERE ts >= ?'),
      treeOp: sql.prepare('SELECT undo FROM tree_ops WHERE ts = ?'),
      child: sql.prepare('SELECT 1 AS one FROM entries WHERE parent = ? LIMIT 1'),
      removedFrom: sql.prepare('SELECT parent, name, ts FROM removed_from WHERE entry = ?'),
    };
    this.bulk = {
      nodes: new BulkWriter(sql, `INSERT OR REPLACE INTO nodes (${NODE_COLUMNS.join(', ')})`, NODE_COLUMNS.length),
      entries: new BulkWriter(sql, `INSERT OR REPLACE INTO entries (${ENTRY_COLUMNS.join(', ')})`, ENTRY_COLUMNS.length),
      treeOps: new BulkWriter(sql, 'INSERT INTO tree_ops (ts, op, undo)', 3),
      // Registers: the upsert keeps the newest value per key, so rows may be queued in any order.
      content: new BulkWriter(sql, 'INSERT INTO content (node, op, ts, size, manifest)', 5,
        'ON CONFLICT (node) DO UPDATE SET op = excluded.op, ts = excluded.ts, size = excluded.size, manifest = excluded.manifest WHERE excluded.ts > content.ts'),
      xattrs: new BulkWriter(sql, 'INSERT INTO xattrs (node, name, value, ts)', 4,
        'ON CONFLICT (node, name) DO UPDATE SET value = excluded.value, ts = excluded.ts WHERE excluded.ts > xattrs.ts'),
    };
    this.reset();
  }

  /**
   * Forgets everything cached (after a rollback, or when the tables were rewritten). `complete`
   * says the tables hold only the roots, so the cache can answer misses itself.
   */
  reset(complete = false, lastTreeTs?: Ts): void {
    this.complete = complete;
    this.nodes.clear();
    this.entries.clear();
    this.names.clear();
    this.namesCount = 0;
    this.misses.clear();
    this.contents.clear();
    this.xattrValues.clear();
    this.xattrValuesCount = 0;
    this.xattrsWhole.clear();
    this.dirtyNodes.clear();
    this.dirtyEntries.clear();
    this.treeOps = [];
    this.contentRows = [];
    this.xattrs = [];
    this.lastTreeTs = lastTreeTs ?? this.stmt.lastTreeTs.get()?.ts ?? '';
    if (complete) for (const root of [ROOT_ID, TRASH_ID]) this.nodes.set(root, this.stmt.node.get(root)!);
  }

  get dirty(): boolean {
    return this.dirtyNodes.size + this.dirtyEntries.size + this.treeOps.length + this.contentRows.length + this.xattrs.length > 0;
  }

  node(id: number): NodeRow | undefined {
    let row = this.nodes.get(id);
    if (row === undefined && !this.complete) {
      row = this.stmt.node.get(id);
      if (row) this.nodes.set(id, row);
    }
    return row;
  }

  saveNode(row: NodeRow): void {
    this.nodes.set(row.id, row);
    this.dirtyNodes.add(row.id);
    this.bound();
  }

  entry(id: number): EntryRow | undefined {
    let row = this.entries.get(id);
    if (row === undefined) {
      row = this.complete ? null : this.stmt.entry.get(id) ?? null;
      this.entries.set(id, row);
    }
    return row ?? undefined;
  }

  saveEntry(row: EntryRow): void {
    this.placed(this.entries.get(row.id), row);
    this.entries.set(row.id, row);
    this.dirtyEntries.add(row.id);
    this.bound();
  }

  deleteEntry(id: number): void {
    this.placed(this.entries.get(id), null);
    this.entries.set(id, null);
    this.dirtyEntries.add(id);
  }

  /**
   * The entry a lookup of `name` in `parent` answers, from the name cache; a miss asks `query`
   * (SQL: the newest entry of that name) and caches the answer.
   */
  named(parent: number, name: Uint8Array, query: () => EntryRow | undefined): EntryRow | undefined {
    const key = nameKey(name);
    const hit = this.names.get(parent)?.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const row = query() ?? null;
    let dir = this.names.get(parent);
    if (!dir) this.names.set(parent, (dir = new Map()));
    // the query may have read the whole directory (readahead), this name with it
    if (!dir.has(key)) this.namesCount++;
    dir.set(key, row);
    this.trim();
    return row ?? undefined;
  }

  /** What the name cache says of `name` in `parent`: undefined when it does not know. */
  knownName(parent: number, name: Uint8Array): EntryRow | null | undefined {
    return this.names.get(parent)?.get(nameKey(name));
  }

  /**
   * Counts a lookup in `parent` that the cache could not answer; true at the READAHEAD_MISSES-th,
   * once per directory while the cache lasts: the caller then reads the directory whole.
   */
  missed(parent: number): boolean {
    const count = (this.misses.get(parent) ?? 0) + 1;
    this.misses.set(parent, count);
    return count === READAHEAD_MISSES;
  }

  /**
   * Caches a directory read whole: `rows` are its entries, each LOOKUP_COLUMNS and then its name,
   * in the index's order (by name, then the most recently placed last: the one a lookup answers,
   * and no sort in SQL). Names the cache knows keep what it knows, which is exact.
   */
  learnDirectory(parent: number, rows: SqlValue[][], xattr: Uint8Array | null): void {
    let dir = this.names.get(parent);
    if (!dir) this.names.set(parent, (dir = new Map()));
    const nameOf = (row: SqlValue[]) => row[LOOKUP_COLUMN_COUNT] as Uint8Array;
    const xattrKey = xattr && nameKey(xattr);
    let key = rows.length > 0 ? nameKey(nameOf(rows[0]!)) : '';
    for (let i = 0; i < rows.length; i++) {
      const next = i + 1 < rows.length ? nameKey(nameOf(rows[i + 1]!)) : undefined;
      // a name's loser (a later row has its name), or a name known already
      if (next !== key && !dir.has(key)) {
        dir.set(key, this.learnRow(rows[i]!, parent, nameOf(rows[i]!), xattrKey, true));
        this.namesCount++;
      }
      key = next!;
    }
    this.trim();
  }

  /**
   * Keeps the name cache exact as an entry moves from `before` to `after` (null: gone). The
   * entries the tree changes are always read through entry() first, so `before` is known.
   */
  private placed(before: EntryRow | null | undefined, after: EntryRow | null): void {
    if (before) {
      const dir = this.names.get(before.parent);
      const key = nameKey(before.name);
      // The winner leaving its name: which entry takes the name over is for SQL to say.
      if (dir?.get(key)?.id === before.id && dir.delete(key)) this.namesCount--;
    }
    if (!after) return;
    const dir = this.names.get(after.parent);
    const key = nameKey(after.name);
    const winner = dir?.get(key);
    if (winner === undefined) return;
    if (winner === null || after.ts > winner.ts || (after.ts === winner.ts && after.id > winner.id)) dir!.set(key, after);
    else if (winner.id === after.id && dir!.delete(key)) this.namesCount--;
  }

  /** A node's content register, cached where known; a miss asks `query` (SQL). */
  content(node: number, query: () => ContentRow | undefined): ContentRow | undefined {
    const hit = this.contents.get(node);
    if (hit !== undefined) return hit ?? undefined;
    const row = query() ?? null;
    this.contents.set(node, row);
    return row ?? undefined;
  }

  /** True when the cache knows the node has no content register (no setContent applied to it). */
  knownWithoutContent(node: number): boolean {
    return this.contents.get(node) === null;
  }

  /** Records that a node has no content register and no xattrs (created just now, touched by no op before). */
  bare(node: number): void {
    this.contents.set(node, null);
    this.xattrsWhole.add(node);
  }

  /** A node's xattr value (null: none), cached when small; a miss asks `query` (SQL) for its row. */
  xattr(node: number, name: Uint8Array, query: () => XattrRow | undefined): Uint8Array | null {
    const key = nameKey(name);
    const hit = this.xattrValues.get(key)?.get(node);
    if (hit !== undefined) return hit.value;
    if (this.xattrsWhole.has(node)) return null;
    const row = query() ?? { value: null, ts: '' };
    this.cacheXattr(node, key, row);
    return row.value;
  }

  private cacheXattr(node: number, key: string, row: XattrRow): void {
    let values = this.xattrValues.get(key);
    if (row.value !== null && row.value.length > XATTR_CACHED_BYTES_MAX) {
      if (values?.delete(node)) this.xattrValuesCount--;
      this.xattrsWhole.delete(node);
      return;
    }
    if (!values) this.xattrValues.set(key, (values = new Map()));
    if (!values.has(node)) this.xattrValuesCount++;
    values.set(node, row);
  }

  /**
   * Caches what a LOOKUP_COLUMNS row says about the entry's node, content and xattr `name`
   * (null: none was asked for), where the cache does not know already (what it knows is as new
   * or newer: SQL was read after a flush), and returns the entry. `name` is the lookup's, a view
   * into its path that the entry copies.
   */
  learnLookup(values: SqlValue[], parent: number, name: Uint8Array, xattr: Uint8Array | null): EntryRow {
    return this.learnRow(values, parent, name, xattr && nameKey(xattr), false);
  }

  /** learnLookup with the xattr's key given; `ownName`: `name` is the row's own (a directory read whole), kept as it is. */
  private learnRow(values: SqlValue[], parent: number, name: Uint8Array, key: string | null, ownName: boolean): EntryRow {
    const [id, node, type, ts, nodeId, nodeType, target, rdev, born_ts, mode, mode_ts, uid, uid_ts, gid, gid_ts,
      atime_s, atime_ns, atime_ts, mtime_s, mtime_ns, mtime_ts, ctime_ts, links, subdirs, op, contentTs, size, manifest, value, xattrTs] =
      values as LookupRow;
    // a copy even of a Buffer, whose own slice() is a view into the lookup's path
    const entry: EntryRow = { id, parent, name: ownName ? name : Uint8Array.prototype.slice.call(name), node, type, ts };
    if (nodeId !== null && !this.nodes.has(nodeId)) {
      this.nodes.set(nodeId, {
        id: nodeId, type: nodeType, target: target ?? (nodeType === null ? null : NO_TARGET), rdev, born_ts, mode, mode_ts, uid, uid_ts, gid, gid_ts,
        atime_s, atime_ns, atime_ts, mtime_s, mtime_ns, mtime_ts, ctime_ts, links, subdirs,
      });
    }
    if (!this.contents.has(node)) this.contents.set(node, op === null ? null : { op, ts: contentTs, size, manifest });
    if (key !== null && this.xattrValues.get(key)?.has(node) !== true) this.cacheXattr(node, key, { value, ts: xattrTs ?? '' });
    return entry;
  }

  recordTreeOp(ts: Ts, op: number, undo: Uint8Array): void {
    assert(ts > this.lastTreeTs, 'tree ops must be recorded in timestamp order');
    this.treeOps.push([ts, op, undo]);
    this.lastTreeTs = ts;
  }

  /** Removes and returns the tree ops at or after `ts`, newest first, for undoing. */
  takeTreeOpsFrom(ts: Ts): Array<{ ts: Ts; op: number; undo: Uint8Array }> {
    this.flush();
    const later = this.stmt.later.all(ts);
    this.stmt.dropLater.run(ts);
    this.lastTreeTs = this.stmt.lastTreeTs.get()?.ts ?? '';
    return later;
  }

  /** The undo record of the applied tree op at `ts`, or undefined. */
  treeOpUndo(ts: Ts): Uint8Array | undefined {
    this.flush();
    return this.stmt.treeOp.get(ts)?.undo;
  }

  /** Where a directory in the trash was removed from, when a checkpoint holds the removal. */
  removedFrom(entry: number): { parent: number; name: Uint8Array; ts: Ts } | undefined {
    return this.stmt.removedFrom.get(entry);
  }

  /** Whether a directory has entries. */
  hasChildren(parent: number): boolean {
    this.flush();
    return this.stmt.child.get(parent) !== undefined;
  }

  queueContent(node: number, op: number, ts: Ts, size: number, manifest: Uint8Array): void {
    this.contentRows.push([node, op, ts, size, manifest]);
    // The same rule as the upsert: the newest ts wins. An uncached register stays uncached.
    const known = this.contents.get(node);
    if (known === null || (known !== undefined && ts > known.ts)) this.contents.set(node, { op, ts, size, manifest });
  }

  queueXattr(node: number, name: Uint8Array, value: Uint8Array | null, ts: Ts): void {
    this.xattrs.push([node, name, value, ts]);
    // The upsert's rule: the newest ts wins. An uncached name stays uncached.
    const key = nameKey(name);
    const known = this.xattrValues.get(key)?.get(node);
    if (known !== undefined ? ts > known.ts : this.xattrsWhole.has(node)) this.cacheXattr(node, key, { value, ts });
  }

  private bound(): void {
    if (this.dirtyNodes.size + this.dirtyEntries.size > DIRTY_ROWS_MAX) this.flush();
  }

  /** Writes every dirty row; the caller holds the transaction. */
  flush(): void {
    if (!this.dirty) return;
    this.bulk.nodes.write([...this.dirtyNodes].map((id) => NODE_COLUMNS.map((c) => this.nodes.get(id)![c])));
    const live: SqlValue[][] = [];
    for (const id of this.dirtyEntries) {
      const row = this.entries.get(id);
      if (row) live.push(ENTRY_COLUMNS.map((c) => row[c]));
      else this.stmt.deleteEntry.run(id);
    }
    this.bulk.entries.write(live);
    this.bulk.treeOps.write(this.treeOps);
    this.bulk.content.write(this.contentRows);
    this.bulk.xattrs.write(this.xattrs);
    this.dirtyNodes.clear();
    this.dirtyEntries.clear();
    this.treeOps = [];
    this.contentRows = [];
    this.xattrs = [];
    this.trim();
  }

  /**
   * Keeps the clean cache within CACHED_ROWS_MAX: reads alone fill it too (lookups, readahead).
   * Node and entry rows wait while any is dirty: the next flush trims them.
   */
  private trim(): void {
    if (this.nodes.size + this.entries.size > CACHED_ROWS_MAX && !this.dirty) this.reset(false, this.lastTreeTs);
    else if (this.namesCount + this.misses.size + this.contents.size + this.xattrValuesCount + this.xattrsWhole.size > CACHED_ROWS_MAX) {
      this.names.clear();
      this.namesCount = 0;
      this.misses.clear();
      this.contents.clear();
      this.xattrValues.clear();
      this.xattrValuesCount = 0;
      this.xattrsWhole.clear();
    }
  }
}
