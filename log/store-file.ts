// A store file (Node only): whether it is one, and which process owns it. One process owns a store: two
// writers would share one replica id, each numbering its own ops from the same seq, and a peer
// refuses the second op it sees with a taken number. So a process that opens a store for writing
// checks, after opening it, that no other process has it open for writing (Linux /proc: every
// fd of every process we may look at, and its access mode). Checking after our own open means
// two that start together both refuse, never both run. Readers (log, verify, replay open the
// file read-only) never count, and never write: not even to make an empty file a store.
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import type { SqlAdapter } from './sql.ts';
import { openSqlite, type NodeSqlite, type NodeSqliteOptions } from './sqlite-node.ts';

const O_ACCMODE = 0o3;

/** The store is another process's, or the file is not a store: a user's mistake, named in one line. */
export class StoreFileError extends Error {
  override name = 'StoreFileError';
}

/** Other processes that have `file` open for writing. */
function writersOf(file: string): number[] {
  const target = realpathSync(file);
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)) {
    try {
      const writing = readdirSync(`/proc/${pid}/fd`).some((fd) => {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== target) return false;
        const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
        return flags !== null && (parseInt(flags[1]!, 8) & O_ACCMODE) !== 0;
      });
      if (writing) pids.push(Number(pid));
    } catch {
      // gone, or not ours to look at
    }
  }
  return pids;
}

/** Throws naming the processes that already write `file`. */
export function claimStore(file: string): void {
  const pids = writersOf(file);
  if (pids.length > 0) throw new StoreFileError(`${file} is open in process ${pids.join(', ')} (a running wsd or ledgerfs mount): one process owns a store; stop it first`);
}

const tableCount = (sql: SqlAdapter, name?: string) =>
  sql.prepare<{ n: number }>(`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'${name ? ' AND name = ?' : ''}`).get(...(name ? [name] : []))!.n;

/** Refuses a file that is not a store, looking on `sql` before it writes anything; `empty` lets an empty database pass. */
function checkStore(sql: SqlAdapter, file: string, empty: boolean): void {
  let tables = 0;
  let origin = false;
  try {
    tables = tableCount(sql);
    origin = tables > 0 && tableCount(sql, 'meta') > 0 && sql.prepare("SELECT 1 AS one FROM meta WHERE key = 'origin'").get() !== undefined;
  } catch (error) {
    throw new StoreFileError(`${file} is not a ledgerfs store (${(error as Error).message})`);
  }
  if (origin || (empty && tables === 0)) return;
  throw new StoreFileError(`${file} is not a ledgerfs store (${tables > 0 ? 'a database with other tables' : 'an empty database'}); create one with: ledgerfs init <new file>`);
}

/**
 * Opens a store file: `readonly` for reading only (the file must be a store already), else for
 * writing, as its one owner. `existing` refuses a file that is not a store yet; without it a new
 * file or an empty database becomes one. A database with other tables is never taken for one.
 */
export function openStoreFile(file: string, options: NodeSqliteOptions & { existing?: boolean } = {}): NodeSqlite {
  const { readonly = false, existing = false } = options;
  let sql: NodeSqlite;
  if (readonly || existing || existsSync(file)) {
    try {
      sql = openSqlite(file, options, (opened) => checkStore(opened, file, !readonly && !existing));
    } catch (error) {
      if (error instanceof StoreFileError) throw error;
      throw new StoreFileError(`${file} is not a ledgerfs store (${(error as Error).message})`);
    }
  } else {
    sql = openSqlite(file, options);
  }
  try {
    if (!readonly) claimStore(file);
    return sql;
  } catch (error) {
    sql.close();
    throw error;
  }
}
