// ledgerfs for Node: the store and the filesystem API (projections/), opened on better-sqlite3.
// The Durable Object replica opens the same Store on its own storage (server/durable-object.ts).
import { openSqlite, type NodeSqliteOptions } from './log/sqlite-node.ts';
import { Store, type StoreOptions } from './projections/index.ts';

export * from './projections/index.ts';
export { openSqlite, NodeSqlite, type NodeSqliteOptions } from './log/sqlite-node.ts';

export interface OpenStoreOptions extends StoreOptions, NodeSqliteOptions {
  /** A database file, or ':memory:' (the default). */
  file?: string;
}

/** Opens (or creates) a store in a file, or in memory. */
export function openStore(options: OpenStoreOptions = {}): Store {
  const sql = openSqlite(options.file ?? ':memory:', { commitDelayMs: options.commitDelayMs });
  try {
    return new Store(sql, options);
  } catch (error) {
    sql.close();
    throw error;
  }
}
