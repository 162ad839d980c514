// ledgerfs for Node: the store and the filesystem API (projections/), opened on better-sqlite3.
// The Durable Object replica opens the same Store on its own storage (server/durable-object.ts).
import { resolve } from 'node:path';
import { SyncClient } from './client/sync.ts';
import { openStore } from './open-store.ts';
import { Workspace as StoreWorkspace, type Store, type WorkspaceOptions } from './projections/index.ts';

export * from './projections/index.ts';
export { openSqlite, NodeSqlite, type NodeSqliteOptions } from './log/sqlite-node.ts';
export { openStoreFile, StoreFileError } from './log/store-file.ts';
export { openStore, type OpenStoreOptions } from './open-store.ts';

export interface NodeWorkspaceOptions extends Omit<WorkspaceOptions, 'sql'> {
  /** A ledgerfs Store, a Durable Object's storage, or a database file (':memory:' for one in memory). */
  sql?: WorkspaceOptions['sql'] | string;
}

/** Stores opened from a file path, shared by the Workspaces on that file until the last closes. */
const fileStores = new Map<string, { store: Store; users: number }>();

/**
 * The Workspace for Node: as the core one (projections/workspace.ts), and it also opens a store
 * from a file path (closed with the last Workspace on it) and syncs with another replica.
 */
export class Workspace extends StoreWorkspace {
  private readonly file: string | null;
  private closed = false;

  constructor(options: NodeWorkspaceOptions = {}) {
    const { sql = ':memory:' } = options;
    if (typeof sql !== 'string') {
      super({ ...options, sql });
      this.file = null;
      return;
    }
    const key = sql === ':memory:' ? `:memory:${fileStores.size}:${Math.random()}` : resolve(sql);
    const shared = fileStores.get(key) ?? { store: openStore({ file: sql }), users: 0 };
    shared.users++;
    fileStores.set(key, shared);
    try {
      super({ ...options, sql: shared.store });
    } catch (error) {
      Workspace.release(key);
      throw error;
    }
    this.file = key;
  }

  private static release(key: string): void {
    const shared = fileStores.get(key)!;
    if (--shared.users > 0) return;
    fileStores.delete(key);
    shared.store.close();
  }

  /**
   * Syncs continuously with another replica (a wsd, the Durable Object: `ws://host:port/ws`);
   * stop it with the handle's stop().
   */
  sync(url: string, options: { token?: string | null } = {}): SyncClient {
    if (!this.store) throw new Error('a past state does not sync');
    const client = new SyncClient(this.store, url, options);
    client.start();
    return client;
  }

  /** Closes the store this Workspace opened from a file path (once its last user closes). */
  close(): void {
    if (this.closed || this.file === null) return;
    this.closed = true;
    Workspace.release(this.file);
  }
}
