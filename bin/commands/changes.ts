// changes: what one command changed: every file its ops touched, from before its first op on the
// file to its last, with diffs. --actor is an exec id, a pid or part of a command line.
import type { Op } from '../../log/index.ts';
import { History } from '../../projections/history.ts';
import { openExisting, UsageError } from './common.ts';
import { printChanges } from './diff.ts';
import { matchesActor } from './history-format.ts';
import { openOutput, progress } from './output.ts';

export async function runChanges([db]: string[], values: Record<string, string | boolean | undefined>): Promise<number> {
  const actor = values.actor;
  if (typeof actor !== 'string' || actor === '') throw new UsageError('changes wants --actor <exec id|pid|command>');
  const store = openExisting(db, { readonly: true });
  const history = new History(store);
  const out = openOutput();
  try {
    const bar = progress('scan', store.log.count());
    const ops: Array<{ op: Op; id: number }> = [];
    let scanned = 0;
    for (const { op, id } of store.log.scan()) {
      bar.update(++scanned);
      if (matchesActor(op.actor, actor)) ops.push({ op, id });
    }
    bar.stop();
    if (ops.length === 0) throw new UsageError(`no op was made by an actor matching ${JSON.stringify(actor)} (see ledgerfs log)`);
    if (!values.json && !values['name-only']) out.line(`${ops.length} ops by ${JSON.stringify(actor)}`);
    printChanges(out, history.changesOf(ops, { patch: !values.stat && !values['name-only'] }), values);
    return 0;
  } finally {
    await out.end();
    history.close();
    store.close();
  }
}
