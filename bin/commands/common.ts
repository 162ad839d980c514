// Shared by the CLI commands: opening a store that must exist, making a new file whole or not at
// all, usage errors. Commands import the modules they use rather than the library's index.ts:
// every module loaded is startup time.
import { existsSync, linkSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { openStore, type OpenStoreOptions } from '../../open-store.ts';
import type { Store } from '../../projections/store.ts';
import { needArg } from './usage.ts';

export { needArg, UsageError } from './usage.ts';

/**
 * Opens an existing store file; refuses to create one by accident, a file that is not a store,
 * and (unless `readonly`) a store another process writes.
 */
export function openExisting(db: string | undefined, options: Omit<OpenStoreOptions, 'file'> = {}): Store {
  const file = resolve(needArg(db, '<db>'));
  if (!existsSync(file)) throw new Error(`no store at ${file} (create one with: ledgerfs init ${db})`);
  return openStore({ ...options, file, existing: true });
}

/**
 * An existing store opened read-only inside one read transaction (Node's adapter; closing the
 * store ends it): everything read from it sees the same ops, whatever a wsd or mount serving it
 * commits meanwhile. The log's caches are read again inside the transaction.
 */
export function openSnapshot(db: string | undefined): Store {
  const store = openExisting(db, { readonly: true });
  store.sql.exec('BEGIN');
  store.log.reload();
  return store;
}

/**
 * Makes the new file `file` through `make(temporary)`: a file beside it that takes the name only
 * when make returns, and never over an existing file (a hard link, not a rename). Any failure
 * removes it, with the -wal and -shm a store leaves while open: nothing half made stays behind.
 */
export function createNew<T>(file: string, make: (temporary: string) => T): T {
  const exists = () => new Error(`${file} exists: refusing to overwrite it (remove it, or name a new file)`);
  if (existsSync(file)) throw exists();
  const temporary = `${file}.partial-${process.pid}`;
  try {
    const result = make(temporary);
    try {
      linkSync(temporary, file);
    } catch (error) {
      throw (error as NodeJS.ErrnoException).code === 'EEXIST' ? exists() : error;
    }
    return result;
  } finally {
    for (const leftover of [temporary, `${temporary}-wal`, `${temporary}-shm`]) rmSync(leftover, { force: true });
  }
}
