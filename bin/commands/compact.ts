// compact: replace the log up to a cut (an op, ORIGIN:seq, or a time; by default an hour ago)
// with a checkpoint of the projections at that point, then give the space back to the disk
// (chunks nothing references any more, VACUUM). Peers that lack ops the checkpoint replaced, or
// hold ops that sort inside it, load it (snapshot) and rebase their unsent ops when they next
// sync; a peer that synced within the hour has everything before the default cut. History before the cut is gone; `verify` rebuilds from
// the checkpoint.
import { existsSync, statSync } from 'node:fs';
import { resolvePosition } from '../../projections/positions.ts';
import { needArg, openExisting } from './common.ts';

/** Bytes of the store on disk: the database and its write-ahead log. */
const onDisk = (file: string) => statSync(file).size + (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);

/** The default cut: what every replica syncing at least hourly already holds. */
const DEFAULT_AGE_MS = 60 * 60 * 1000;

// A replica serving the store (wsd, mount) reads its checkpoint once, at open: compacting under
// it would leave it serving a stale log. Opening the store for writing refuses while one runs.
export function runCompact([db]: string[], values: { at?: string | boolean; json?: string | boolean }): number {
  const file = needArg(db, '<db>');
  const store = openExisting(file);
  const bytesBefore = onDisk(file);
  let report;
  try {
    const before = store.log.count();
    // By default the newest op an hour old or older: nothing newer than the store's own clock.
    const cut = typeof values.at === 'string' ? resolvePosition(store, values.at).ts : store.log.tsBefore(resolvePosition(store, String(Date.now() - DEFAULT_AGE_MS)).ts);
    if (cut === undefined) {
      process.stdout.write('nothing to compact: no op in the log is an hour old (pass --at to choose the cut)\n');
      return 0;
    }
    const checkpoint = store.compact(cut);
    // Chunks only the replaced ops named go, then VACUUM (outside any transaction) rewrites the
    // file without the freed pages.
    const freed = store.gc();
    store.sql.exec('VACUUM');
    report = { ts: checkpoint.ts, replaced: before - store.log.count(), covered: checkpoint.ops, left: store.log.count(), pages: checkpoint.pages, versionVector: checkpoint.versionVector, chunksFreed: freed.count, bytesBefore, bytesAfter: 0 };
  } finally {
    store.close();
  }
  report.bytesAfter = onDisk(file);
  if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(`checkpoint at ${report.ts}: ${report.replaced} ops replaced (${report.covered} covered in all), ${report.left} left in the log, ${report.pages} pages; ${report.chunksFreed} chunks freed; ${report.bytesBefore} -> ${report.bytesAfter} bytes on disk\n`);
  return 0;
}
