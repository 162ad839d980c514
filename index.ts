// ledgerfs for Node: the store and the filesystem API (projections/), opened on better-sqlite3.
// The Durable Object replica opens the same Store on its own storage (server/durable-object.ts).
import { openSqlite, type NodeSqliteOptions } from './log/sqlite-node.ts';
import { openStoreFile } from './log/store-file.ts';
import { Store, type StoreOptions } from './projections/index.ts';

export * from './projections/index.ts';
export { openSqlite, NodeSqlite, type NodeSqliteOptions } from './log/sqlite-node.ts';
export { openStoreFile, StoreFileError } from './log/store-file.ts';

export interface OpenStoreOptions extends StoreOptions, NodeSqliteOptions {
  /** A database file, or ':memory:' (the default). */
  file?: string;
  /** Refuse a file that is not a store already (instead of making a new or empty file one). */
  existing?: boolean;
}

/**
 * Opens (or creates) a store in memory or in a file; a file is opened by its one owner, or
 * read-only (log/store-file.ts).
 */
export function openStore(options: OpenStoreOptions = {}): Store {
  const file = options.file ?? ':memory:';
  const sql = file === ':memory:' ? openSqlite(file) : openStoreFile(file, options);
  try {
    return new Store(sql, options);
  } catch (error) {
    sql.close();
    throw error;
  }
}
