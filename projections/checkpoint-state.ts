// The projection state of a checkpoint, as pages: every projection table but the tree-op undo
// log, with local ids written as global refs so that any replica can load it. A page is a
// msgpack array of sections [table, columns, rows], each row its own msgpack array; pages stay
// under CHECKPOINT_PAGE_BYTES_MAX so that one travels in one message (a single larger row, the
// manifest of a file over 7 GiB, goes alone, as a large op does in a sync page).
import { Packr } from 'msgpackr';
import {
  CHECKPOINT_PAGE_BYTES_MAX, CheckpointError, HASH_BYTES, hex, sha256, unpackManifest, xorInto,
  type LogStore, type Ref, type SqlAdapter, type SqlValue,
} from '../log/index.ts';
import { scanTable, type ProjectionTable } from './schema.ts';

/** The tables a checkpoint holds, each with the columns that hold local ids. */
const STATE_TABLES: Partial<Record<ProjectionTable, readonly string[]>> = {
  nodes: ['id'],
  entries: ['id', 'parent', 'node'],
  content: ['node', 'op'],
  heads: ['node', 'op'],
  superseded: ['op'],
  conflicted: ['node'],
  xattrs: ['node'],
  removals: ['op', 'node'],
  removed_from: ['entry', 'parent'],
};

/** Tables that are bookkeeping of compaction itself, not state a full replay would build. */
const COMPACTION_TABLES = new Set(['removed_from']);

type Section = [table: string, columns: string[], rows: Uint8Array[]];

/** msgpack framing of one row inside a section (a bin header), at most. */
const ROW_OVERHEAD_BYTES = 5;

const packr = new Packr({ useRecords: false, variableMapSize: true, structuredClone: false });

function columnsOf(sql: SqlAdapter, table: string): string[] {
  return sql.prepare<{ name: string }>(`SELECT name FROM pragma_table_info('${table}') ORDER BY cid`).all().map((c) => c.name);
}

/** Each state table's rows with local ids as global refs, in key order. */
function* globalRows(sql: SqlAdapter, ids: Pick<LogStore, 'globalRef'>, tables: readonly ProjectionTable[]): Generator<[string, string[], SqlValue[]]> {
  for (const table of tables) {
    const columns = columnsOf(sql, table);
    const at = STATE_TABLES[table]!.map((c) => columns.indexOf(c));
    for (const row of scanTable(sql, table, '*')) {
      for (const i of at) row[i] = ids.globalRef(row[i] as number);
      yield [table, columns, row];
    }
  }
}

/** The state in `sql` as checkpoint pages. The caller has flushed the projection. */
export function statePages(sql: SqlAdapter, ids: Pick<LogStore, 'globalRef'>, pageBytesMax = CHECKPOINT_PAGE_BYTES_MAX): Uint8Array[] {
  const pages: Uint8Array[] = [];
  let sections: Section[] = [];
  let bytes = 0;
  for (const [table, columns, row] of globalRows(sql, ids, Object.keys(STATE_TABLES) as ProjectionTable[])) {
    const packed = packr.pack(row);
    const header = packr.pack([table, columns]).length;
    if (sections.length > 0 && bytes + header + packed.length + ROW_OVERHEAD_BYTES > pageBytesMax) {
      pages.push(packr.pack(sections));
      sections = [];
      bytes = 0;
    }
    let section = sections[sections.length - 1];
    if (!section || section[0] !== table) {
      sections.push(section = [table, columns, []]);
      bytes += header;
    }
    section[2].push(packed);
    bytes += packed.length + ROW_OVERHEAD_BYTES;
  }
  if (sections.length > 0) pages.push(packr.pack(sections));
  return pages;
}

function sectionsOf(page: Uint8Array): Section[] {
  const sections = packr.unpack(page) as unknown;
  if (!Array.isArray(sections)) throw new CheckpointError('a checkpoint page is not a list of sections');
  const isSection = (s: unknown) => Array.isArray(s) && s.length === 3 && typeof s[0] === 'string' && Array.isArray(s[1]) && s[1].every((c) => typeof c === 'string')
    && Array.isArray(s[2]) && s[2].every((row) => row instanceof Uint8Array);
  if (!sections.every(isSection)) throw new CheckpointError('a checkpoint page holds a section that is not [table, columns, rows]');
  return sections as Section[];
}

/** Loads checkpoint pages into (cleared) projection tables, mapping refs to local ids. */
export function loadState(sql: SqlAdapter, ids: Pick<LogStore, 'localId'>, pages: Iterable<Uint8Array>): void {
  const statements = new Map<string, { insert: ReturnType<SqlAdapter['prepare']>; at: number[] }>();
  for (const page of pages) {
    for (const [table, columns, rows] of sectionsOf(page)) {
      const spec = Object.hasOwn(STATE_TABLES, table) ? STATE_TABLES[table as ProjectionTable] : undefined;
      if (!spec) throw new CheckpointError(`a checkpoint page holds unknown table ${JSON.stringify(table)}`);
      let statement = statements.get(table);
      if (!statement) {
        const mine = columnsOf(sql, table);
        if (JSON.stringify(mine) !== JSON.stringify(columns)) throw new CheckpointError(`checkpoint table ${table} has columns ${columns.join(', ')}, this ledgerfs has ${mine.join(', ')}`);
        statement = {
          insert: sql.prepare(`INSERT OR REPLACE INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`),
          at: spec.map((c) => columns.indexOf(c)),
        };
        statements.set(table, statement);
      }
      for (const packed of rows) {
        const row = packr.unpack(packed) as unknown;
        if (!Array.isArray(row) || row.length !== columns.length) throw new CheckpointError(`a checkpoint row of ${table} is not ${columns.length} values`);
        for (const i of statement.at) row[i] = ids.localId(row[i] as Ref);
        statement.insert.run(...row);
      }
    }
  }
}

/** Hex sha256 of every chunk a checkpoint's content and heads name. */
export function checkpointChunks(pages: Iterable<Uint8Array>): Map<string, Uint8Array> {
  const chunks = new Map<string, Uint8Array>();
  for (const page of pages) {
    for (const [table, columns, rows] of sectionsOf(page)) {
      if (table !== 'content' && table !== 'heads') continue;
      const at = columns.indexOf('manifest');
      for (const packed of rows) {
        for (const { hash } of unpackManifest((packr.unpack(packed) as SqlValue[])[at] as Uint8Array)) chunks.set(hex(hash), hash);
      }
    }
  }
  return chunks;
}

/**
 * A digest of the filesystem state in `sql` that any replica computes alike: every state table
 * but the compaction bookkeeping, rows with global refs, each hashed, the hashes XORed (rows are
 * unique by key, so this is a set hash, as the log's fingerprint is: any order gives it, and rows
 * stream through in bounded memory). A replica built from a checkpoint and its suffix has the
 * digest of a full replay of the same ops.
 */
export function stateDigest(sql: SqlAdapter, ids: Pick<LogStore, 'globalRef'>): string {
  const tables = (Object.keys(STATE_TABLES) as ProjectionTable[]).filter((table) => !COMPACTION_TABLES.has(table));
  const digest = new Uint8Array(HASH_BYTES);
  for (const [table, , row] of globalRows(sql, ids, tables)) xorInto(digest, sha256(packr.pack([table, row])));
  return hex(digest);
}
