// Read queries over the projection tables: lookup, getattr, readdir, readlink, read a range.
// The live tree and every history view answer through this one class.
import {
  assert, CHUNK_BYTES, manifestBytes, manifestFind, ROOT_ID, TRASH_ID, tsMs, ZERO_CHUNK,
  type ChunkStore, type LogStore, type NodeType, type SqlAdapter, type SqlStatement, type Timespec, type Ts,
} from '../log/index.ts';
import { derivedName, markedRefs, type Mark } from './derived-names.ts';
import type { HeadRow } from './heads.ts';
import type { NodeRow } from './registers.ts';
import type { EntryRow } from './tree.ts';
import { LOOKUP_COLUMNS, READAHEAD_ENTRIES_MAX, type ProjectionRows, type XattrRow } from './rows.ts';

export const TYPE_BITS: Record<NodeType, number> = {
  file: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  fifo: 0o010000,
  socket: 0o140000,
  chardev: 0o020000,
  blockdev: 0o060000,
};

export interface Attr {
  ino: number;
  type: NodeType;
  /** type bits | permission bits, as st_mode */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blocks: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  birthtime: Timespec;
}

export interface DirEntry {
  name: Uint8Array;
  ino: number;
  type: NodeType;
}

/**
 * What a listing shows of one entry, read with it in one query: its name and an xattr's value as
 * text (invalid UTF-8 reads as U+FFFD), its node's type (null before its create op is applied:
 * `listing` returns no such row), birth timestamp and mtime, its content size.
 */
export type ListingRow = [name: string, type: NodeType, bornTs: Ts, mtimeS: number | null, mtimeNs: number | null, size: number | null, xattr: string | null];

export interface ContentRow {
  op: number;
  ts: Ts;
  size: number;
  manifest: Uint8Array;
}

const DIR_SIZE = 4096;
/** No xattr has an empty name: a lookup that asks for none matches none. */
const EMPTY = new Uint8Array(0);

const sameName = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

const msTimespec = (ms: number): Timespec => [Math.floor(ms / 1000), (ms % 1000) * 1e6];
const tsSpec = (ts: Ts | null): Timespec => (ts ? msTimespec(tsMs(ts)) : [0, 0]);

export class Reader {
  private readonly stmt: {
    lookup: SqlStatement<EntryRow>; lookupWith: SqlStatement; lookupAll: SqlStatement; entryAt: SqlStatement<{ one: number }>;
    readdir: SqlStatement; listing: SqlStatement; conflictedIn: SqlStatement; child: SqlStatement<{ one: number }>;
    children: SqlStatement<EntryRow>;
    headByOp: SqlStatement<HeadRow>; headsOf: SqlStatement<HeadRow>;
    content: SqlStatement<ContentRow>; entriesOf: SqlStatement<EntryRow>; entriesIn: SqlStatement<EntryRow>;
    xattr: SqlStatement<XattrRow>; xattrs: SqlStatement<{ name: Uint8Array }>;
    totals: SqlStatement<{ type: NodeType; count: number; bytes: number }>;
  };

  private readonly beforeRead: () => void;
  /**
   * An xattr a lookup that misses the cache reads with the entry, its node and its content (a
   * cold stat is then one query, not four): the Workspace's mime type, which every stat asks for.
   */
  lookupXattr: Uint8Array | null = null;
  private readonly ids: Pick<LogStore, 'globalRef' | 'knownId'>;
  private readonly rows: ProjectionRows;

  /**
   * Nodes and entries by id come from the projector's row cache (`rows`); queries by name or
   * parent run in SQL after `beforeRead` has flushed what the cache holds. `ids` maps local ids
   * to global refs (for duplicate names).
   */
  constructor(sql: SqlAdapter, rows: ProjectionRows, ids: Pick<LogStore, 'globalRef' | 'knownId'>, beforeRead: () => void) {
    this.beforeRead = beforeRead;
    this.rows = rows;
    this.ids = ids;
    this.stmt = {
      lookup: sql.prepare('SELECT * FROM entries WHERE parent = ? AND name = ? ORDER BY ts DESC, id DESC LIMIT 1'),
      lookupWith: sql.prepare(`SELECT ${LOOKUP_COLUMNS} FROM entries e LEFT JOIN nodes n ON n.id = e.node LEFT JOIN content c ON c.node = e.node
        LEFT JOIN xattrs x ON x.node = e.node AND x.name = ? WHERE e.parent = ? AND e.name = ? ORDER BY e.ts DESC, e.id DESC LIMIT 1`),
      lookupAll: sql.prepare(`SELECT ${LOOKUP_COLUMNS}, e.name FROM entries e LEFT JOIN nodes n ON n.id = e.node LEFT JOIN content c ON c.node = e.node
        LEFT JOIN xattrs x ON x.node = e.node AND x.name = ? WHERE e.parent = ? ORDER BY e.name, e.ts, e.id`),
      // index-only: whether a directory has more entries than readahead reads, without reading them
      entryAt: sql.prepare('SELECT 1 AS one FROM entries WHERE parent = ? LIMIT 1 OFFSET ?'),
      readdir: sql.prepare(`SELECT e.id, e.name, e.node, e.type, c.node AS conflicted FROM entries e LEFT JOIN conflicted c ON c.node = e.node
        WHERE e.parent = ? ORDER BY e.name, e.ts DESC, e.id DESC`),
      // by name alone (the index's order): a name two entries share sends the caller to readdir
      listing: sql.prepare(`SELECT CAST(e.name AS TEXT), n.type, n.born_ts, n.mtime_s, n.mtime_ns, c.size, CAST(x.value AS TEXT)
        FROM entries e JOIN nodes n ON n.id = e.node LEFT JOIN content c ON c.node = e.node LEFT JOIN xattrs x ON x.node = e.node AND x.name = ?
        WHERE e.parent = ? ORDER BY e.name`),
      // from the conflicted nodes (few, usually none) to their entries by node: CROSS JOIN fixes the
      // order, +e.parent keeps the planner off the parent index
      conflictedIn: sql.prepare('SELECT 1 FROM conflicted f CROSS JOIN entries e ON e.node = f.node WHERE +e.parent = ? LIMIT 1'),
      headByOp: sql.prepare('SELECT * FROM heads WHERE op = ?'),
      headsOf: sql.prepare('SELECT * FROM heads WHERE node = ? ORDER BY ts DESC'),
      child: sql.prepare('SELECT 1 AS one FROM entries WHERE parent = ? LIMIT 1'),
      children: sql.prepare('SELECT * FROM entries WHERE parent = ? ORDER BY id'),
      content: sql.prepare('SELECT op, ts, size, manifest FROM content WHERE node = ?'),
      entriesOf: sql.prepare('SELECT * FROM entries WHERE node = ? AND parent != ? ORDER BY id'),
      entriesIn: sql.prepare('SELECT * FROM entries WHERE node = ? AND parent = ? ORDER BY id'),
      xattr: sql.prepare('SELECT value, ts FROM xattrs WHERE node = ? AND name = ?'),
      xattrs: sql.prepare('SELECT name FROM xattrs WHERE node = ? AND value IS NOT NULL ORDER BY name'),
      totals: sql.prepare(`SELECT n.type AS type, COUNT(*) AS count, COALESCE(SUM(c.size), 0) AS bytes FROM nodes n LEFT JOIN content c ON c.node = n.id
        WHERE n.type IS NOT NULL AND (n.links > 0 OR n.id = ?) GROUP BY n.type`),
    };
  }

  private get q(): Reader['stmt'] {
    this.beforeRead();
    return this.stmt;
  }

  node(ino: number): NodeRow | undefined {
    const row = this.rows.node(ino);
    if (row && row.type !== null) return row;
    const copy = row ? undefined : this.conflict(ino);
    const original = copy && this.rows.node(copy.node);
    if (!copy || !original) return undefined;
    const [mtime_s, mtime_ns] = tsSpec(copy.head.ts);
    return { ...original, id: ino, type: 'file', links: 1, subdirs: 0, mtime_s, mtime_ns, ctime_ts: copy.head.ts, born_ts: copy.head.ts };
  }

  /**
   * A conflict copy by its inode, the losing setContent op's id: the node it belongs to, its
   * head and the winning head. Undefined for anything else.
   */
  conflict(ino: number): { node: number; head: HeadRow; winner: HeadRow } | undefined {
    const head = this.q.headByOp.get(ino);
    if (!head) return undefined;
    const winner = this.q.headsOf.get(head.node)!;
    return winner.op === head.op ? undefined : { node: head.node, head, winner };
  }

  /** The content heads of a node (setContent op ids), newest first. */
  heads(node: number): number[] {
    return this.q.headsOf.all(node).map((head) => head.op);
  }

  /** True for a conflict copy (it has no node row of its own). */
  isConflictCopy(ino: number): boolean {
    return this.rows.node(ino) === undefined && this.conflict(ino) !== undefined;
  }

  /**
   * The entry named `name` in `parent`. Among entries that share a name the most recently placed
   * keeps it; the others answer to their duplicate names, and conflict copies to theirs (see
   * derived-names.ts): a name resolves exactly when readdir lists it. A conflict copy's entry is
   * virtual: its id and node are the head's op id.
   */
  lookup(parent: number, name: Uint8Array): EntryRow | undefined {
    // a hit, the common case, makes no closure for the miss
    const known = this.rows.knownName(parent, name);
    const winner = known !== undefined ? known ?? undefined : this.rows.named(parent, name, () => {
      if (this.rows.missed(parent) && this.readAhead(parent)) {
        const read = this.rows.knownName(parent, name);
        if (read !== undefined) return read ?? undefined;
      }
      const row = this.q.lookupWith.values(this.lookupXattr ?? EMPTY, parent, name)[0];
      return row && this.rows.learnLookup(row, parent, name, this.lookupXattr);
    });
    if (winner) return winner;
    for (const ref of markedRefs(name, '.conflict-')) {
      const op = this.ids.knownId(ref);
      const conflict = op === undefined ? undefined : this.conflict(op);
      if (!conflict) continue;
      const marks: Mark[] = [['.conflict-', ref]];
      for (const entry of this.q.entriesIn.all(conflict.node, parent)) {
        if (sameName(derivedName(entry.name, [...this.dupMarks(entry), ...marks]), name)) {
          return { id: op!, parent, name, node: op!, type: 'file', ts: conflict.head.ts };
        }
      }
    }
    for (const ref of markedRefs(name, '.dup-')) {
      const id = this.ids.knownId(ref);
      const entry = id === undefined ? undefined : this.entry(id);
      if (entry?.parent === parent && sameName(this.shownName(entry), name)) return entry;
    }
    return undefined;
  }

  /** Reads a directory of up to READAHEAD_ENTRIES_MAX entries whole into the cache; false for a larger one. */
  private readAhead(parent: number): boolean {
    if (this.q.entryAt.get(parent, READAHEAD_ENTRIES_MAX)) return false;
    const rows = this.q.lookupAll.values(this.lookupXattr ?? EMPTY, parent);
    this.rows.learnDirectory(parent, rows, this.lookupXattr);
    return true;
  }

  /** The mark of an entry that lost its name to a more recently placed one, or none. */
  private dupMarks(entry: EntryRow): Mark[] {
    return this.q.lookup.get(entry.parent, entry.name)!.id === entry.id ? [] : [['.dup-', this.ids.globalRef(entry.id)]];
  }

  /** The name an entry shows in readdir: its own, or its duplicate name. */
  private shownName(entry: EntryRow): Uint8Array {
    const marks = this.dupMarks(entry);
    return marks.length === 0 ? entry.name : derivedName(entry.name, marks);
  }

  entry(id: number): EntryRow | undefined {
    return this.rows.entry(id);
  }

  /** Live (not trashed) entries that point at a node, oldest first. */
  entriesOf(node: number): EntryRow[] {
    return this.q.entriesOf.all(node, TRASH_ID);
  }

  attr(ino: number, row = this.node(ino)): Attr | undefined {
    if (!row) return undefined;
    const type = row.type as NodeType;
    const content = type === 'file' ? this.content(ino) : undefined;
    const size = type === 'dir' ? DIR_SIZE : type === 'symlink' ? row.target!.length : content?.size ?? 0;
    const stored = content ? manifestBytes(content.manifest) : size;
    const nlink = type === 'dir' ? (row.links > 0 || ino === ROOT_ID ? 2 + row.subdirs : 0) : row.links;
    return {
      ino,
      type,
      mode: TYPE_BITS[type] | (row.mode ?? 0),
      nlink,
      uid: row.uid ?? 0,
      gid: row.gid ?? 0,
      rdev: row.rdev ?? 0,
      size,
      blocks: Math.ceil(stored / 512),
      atime: [row.atime_s ?? 0, row.atime_ns ?? 0],
      mtime: [row.mtime_s ?? 0, row.mtime_ns ?? 0],
      ctime: tsSpec(row.ctime_ts),
      birthtime: tsSpec(row.born_ts),
    };
  }

  /**
   * Entries sorted by name bytes; duplicates after the first of a name get their duplicate names,
   * and each conflicted file is followed by its conflict copies.
   */
  readdir(parent: number, offset = 0, limit = -1): DirEntry[] {
    // Rows as arrays: a listing is the one read whose row count the directory sets.
    const rows = this.q.readdir.values(parent) as Array<[id: number, name: Uint8Array, node: number, type: NodeType, conflicted: number | null]>;
    let derived = false;
    const entries: DirEntry[] = [];
    const copies = new Set<number>();
    rows.forEach(([id, name, node, type, conflicted], i) => {
      const loser = i > 0 && Buffer.compare(rows[i - 1]![1], name) === 0;
      derived ||= loser;
      const dup: Mark[] = loser ? [['.dup-', this.ids.globalRef(id)]] : [];
      entries.push({ name: loser ? derivedName(name, dup) : name, ino: node, type });
      if (conflicted === null) return;
      for (const head of this.q.headsOf.all(node).slice(1)) {
        if (copies.has(head.op)) continue;
        copies.add(head.op);
        derived = true;
        entries.push({ name: derivedName(name, [...dup, ['.conflict-', this.ids.globalRef(head.op)]]), ino: head.op, type: 'file' });
      }
    });
    if (derived) entries.sort((a, b) => Buffer.compare(a.name, b.name));
    return entries.slice(offset, limit < 0 ? undefined : offset + limit);
  }

  /**
   * A directory's entries by name bytes with what a listing shows of each (ListingRow), in one
   * query and without a Buffer per name. Undefined when readdir would derive names (a name two
   * entries share, a conflict copy) or an entry's node is not created yet: readdir and attr answer those.
   */
  listing(parent: number, xattr: Uint8Array): ListingRow[] | undefined {
    if (this.q.conflictedIn.values(parent).length > 0) return undefined;
    const rows = this.q.listing.values(xattr, parent) as ListingRow[];
    for (let i = 0; i < rows.length; i++) {
      // equal text is a shared name or two invalid names that read the same: readdir tells them apart
      if (rows[i]![1] === null || (i > 0 && rows[i]![0] === rows[i - 1]![0])) return undefined;
    }
    return rows;
  }

  /** The entries in a directory, as stored (no derived names, no conflict copies). */
  children(dir: number): EntryRow[] {
    return this.q.children.all(dir);
  }

  isEmpty(dir: number): boolean {
    return this.q.child.get(dir) === undefined;
  }

  content(ino: number): ContentRow | undefined {
    const content = this.rows.content(ino, () => this.q.content.get(ino));
    if (content || this.rows.node(ino)) return content;
    const copy = this.conflict(ino);
    return copy && { op: copy.head.op, ts: copy.head.ts, size: copy.head.size, manifest: copy.head.manifest };
  }

  xattr(ino: number, name: Uint8Array): Uint8Array | null {
    return this.rows.xattr(ino, name, () => this.q.xattr.get(ino, name));
  }

  /** Nodes in the tree (the root included, the trash not) and their content bytes, by type. */
  totals(): Array<{ type: NodeType; count: number; bytes: number }> {
    return this.q.totals.all(ROOT_ID);
  }

  xattrNames(ino: number): Uint8Array[] {
    return this.q.xattrs.all(ino).map((row) => row.name);
  }

  /**
   * Bytes [offset, offset+length) of a file's committed content, clipped at its size; holes are
   * zeros. With `out` they are copied there (the FUSE reply buffer) instead of a new array.
   */
  read(ino: number, offset: number, length: number, chunks: ChunkStore, out?: Uint8Array): Uint8Array {
    const content = this.content(ino);
    if (!content) return new Uint8Array(0);
    return readManifest(content.size, offset, length, (i) => {
      const ref = manifestFind(content.manifest, i);
      return ref ? chunks.get(ref.hash) : ZERO_CHUNK;
    }, out);
  }

  /** A path of a node now (its oldest live entry), or null if it has none or sits in the trash. */
  pathOf(node: number): Uint8Array[] | null {
    if (node === ROOT_ID) return [];
    const names: Uint8Array[] = [];
    let entry: EntryRow | undefined = this.entriesOf(node)[0];
    for (let depth = 0; entry; depth++) {
      assert(depth < 1_000_000, 'path walk found a cycle');
      names.push(entry.name);
      if (entry.parent === ROOT_ID) return names.reverse();
      entry = this.entry(entry.parent);
    }
    return null;
  }

  /** The directory an entry-less walk up from `ino` reaches: a directory's own entry's parent. */
  parentOf(dir: number): number {
    if (dir === ROOT_ID) return ROOT_ID;
    const entry = this.entry(dir);
    assert(entry, `directory ${dir} has no entry`);
    return entry.parent;
  }
}

/**
 * Reads a range out of fixed-size chunks; `chunk(i)` supplies chunk i's bytes. The bytes go to
 * `into` when given (at least `length` bytes long), else to a new array; the filled part returns.
 */
export function readManifest(size: number, offset: number, length: number, chunk: (index: number) => Uint8Array, into?: Uint8Array): Uint8Array {
  const end = Math.min(size, offset + length);
  if (offset >= end) return new Uint8Array(0);
  assert(!into || into.length >= end - offset, 'read buffer shorter than the read');
  const out = into ? into.subarray(0, end - offset) : new Uint8Array(end - offset);
  for (let at = offset; at < end;) {
    const index = Math.floor(at / CHUNK_BYTES);
    const within = at - index * CHUNK_BYTES;
    const data = chunk(index);
    const n = Math.min(end - at, data.length - within);
    assert(n > 0, `chunk ${index} too short for offset ${at}`);
    out.set(data.subarray(within, within + n), at - offset);
    at += n;
  }
  return out;
}
