// Shared by the CLI commands: opening a store that must exist, usage errors. Commands import the
// modules they use rather than the library's index.ts: every module loaded is startup time.
import { existsSync } from 'node:fs';
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
