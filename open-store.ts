// openStore: a Store on better-sqlite3, in memory or in a file. Its own module so that the CLI
// can open a store without loading the rest of the library (each module costs startup time).
import { openSqlite, type NodeSqliteOptions } from './log/sqlite-node.ts';
import { openStoreFile } from './log/store-file.ts';
import { Store, type StoreOptions } from './projections/store.ts';

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
