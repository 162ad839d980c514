// show: one op, who made it, and what it changed (the content diff it made).
import { describeActor } from '../../projections/actors.ts';
import { History } from '../../projections/history.ts';
import { resolvePosition } from '../../projections/positions.ts';
import { needArg, openExisting } from './common.ts';
import { printChanges } from './diff.ts';
import { opLabel, opTime } from './history-format.ts';
import { openOutput } from './output.ts';

export async function runShow([db, opText]: string[], values: Record<string, string | boolean | undefined>): Promise<number> {
  needArg(opText, '<op> position');
  const store = openExisting(db, { readonly: true });
  const history = new History(store);
  const out = openOutput();
  try {
    const { entry, changes } = history.show(resolvePosition(store, opText), { patch: !values.stat && !values['name-only'] });
    if (values.json) {
      out.line(JSON.stringify({ ...entry, changes }));
    } else {
      const op = history.nodes.op(store.log.localId(entry.op));
      out.line(`op ${entry.op} (${opLabel(store, op)})  ${entry.kind}  ${entry.paths.join(' -> ')}`);
      out.line(`at ${opTime(op)}  by ${describeActor(entry.actor)}${entry.actor.uid !== undefined ? ` uid ${entry.actor.uid}` : ''}`);
      out.line('');
      printChanges(out, changes, values);
    }
    return 0;
  } finally {
    await out.end();
    history.close();
    store.close();
  }
}
