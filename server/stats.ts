// What /__wsd/stats reports: the store's size (rows per table, log length, chunk bytes and the
// bytes gc would free), write buffers not yet committed, sync lag, and the process's memory.
import type { SyncClient } from '../client/index.ts';
import type { FileSystem, Store } from '../projections/index.ts';

const TABLES = ['ops', 'nodes', 'entries', 'content', 'heads', 'xattrs', 'chunks'];

export interface StatsSource {
  store: Store;
  fs: FileSystem;
  client: SyncClient | null;
}

/**
 * Orphan chunks need a pass over the whole log on the thread that serves the mount, so it runs
 * at most once per ORPHANS_EVERY_MS (and only when the log or the chunks changed); `asOf` says
 * when the figure was taken.
 */
const ORPHANS_EVERY_MS = 60_000;

export function statsReporter({ store, fs, client }: StatsSource): () => Record<string, unknown> {
  let orphans = { key: '', count: 0, bytes: 0, asOf: 0 };
  return () => {
    const rows = Object.fromEntries(TABLES.map((table) => [table, (store.sql.prepare<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).get()!).n]));
    const chunks = store.chunks.totals();
    const key = `${store.log.count()}/${chunks.count}/${chunks.bytes}`;
    if (orphans.key !== key && Date.now() - orphans.asOf >= ORPHANS_EVERY_MS) {
      const found = store.chunks.orphans(store.referencedChunks());
      orphans = { key, count: found.length, bytes: found.reduce((sum, row) => sum + row.size, 0), asOf: Date.now() };
    }
    const sync = client?.state();
    const memory = process.memoryUsage();
    return {
      rows,
      log: { ops: store.log.count(), fingerprint: store.log.fingerprint() },
      chunks: { count: chunks.count, bytes: chunks.bytes, orphanCount: orphans.count, orphanBytes: orphans.bytes, orphansAsOf: orphans.asOf },
      writeBuffers: fs.openBuffers(),
      sync: sync ? { connected: sync.connected, lagOps: sync.lagOps, pulled: sync.pulled, pushed: sync.pushed, lastError: sync.lastError, lastSyncAt: sync.lastSyncAt } : null,
      process: { rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal, uptimeSeconds: Math.round(process.uptime()) },
    };
  };
}
