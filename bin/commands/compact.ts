// compact: replace the log up to a cut (an op, ORIGIN:seq, or a time) with a checkpoint of the
// projections at that point. Peers that lack ops the checkpoint replaced, or hold ops that sort
// inside it, load it (snapshot) and rebase their unsent ops when they next sync. History before the
// cut is gone; `verify` rebuilds from the checkpoint.
import { resolvePosition } from '../../projections/index.ts';
import { needArg, openExisting } from './common.ts';

// A replica serving the store (wsd, mount) reads its checkpoint once, at open: compacting under
// it would leave it serving a stale log. Opening the store for writing refuses while one runs.
export function runCompact([db]: string[], values: { at?: string | boolean; json?: string | boolean }): number {
  const at = needArg(typeof values.at === 'string' ? values.at : undefined, '--at <op|time>');
  const store = openExisting(db);
  try {
    const before = store.log.count();
    const checkpoint = store.compact(resolvePosition(store, at).ts);
    const report = { ts: checkpoint.ts, replaced: before - store.log.count(), covered: checkpoint.ops, left: store.log.count(), pages: checkpoint.pages, versionVector: checkpoint.versionVector };
    if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else process.stdout.write(`checkpoint at ${report.ts}: ${report.replaced} ops replaced (${report.covered} covered in all), ${report.left} left in the log, ${report.pages} pages\n`);
    return 0;
  } finally {
    store.close();
  }
}
