// blame: each line of a text file with the op, time and actor that last wrote it, following
// the file through renames (a temporary name renamed over it included).
import { History } from '../../projections/history.ts';
import { resolvePosition, shortRef } from '../../projections/positions.ts';
import { needArg, openExisting } from './common.ts';
import { localTime, openOutput, progress } from './output.ts';
import { tsMs } from '../../log/index.ts';

const BLAME_WHO_CHARS = 24;

export async function runBlame([db, path]: string[], values: Record<string, string | boolean | undefined>): Promise<number> {
  needArg(path, '<path>');
  const store = openExisting(db, { readonly: true });
  const history = new History(store);
  const out = openOutput();
  try {
    const at = typeof values.at === 'string' ? resolvePosition(store, values.at) : undefined;
    const bar = at ? progress('replay', store.log.count()) : null;
    const result = history.blame(path, at, (done) => bar?.update(done));
    bar?.stop();
    if (values.json) {
      for (const line of result.lines) out.line(JSON.stringify(line));
      return 0;
    }
    const width = String(result.lines.length).length;
    for (const line of result.lines) {
      const [origin, seq] = line.op ? [line.op.slice(0, 26), Number(line.op.slice(27))] : ['', 0];
      const label = line.op ? shortRef(store, origin, seq) : '-';
      const when = line.ts ? localTime(tsMs(line.ts)) : ''.padEnd(19);
      // The command alone says who in blame's narrow column; `show <op>` has the rest.
      const who = line.actor ? (line.actor.command ?? [line.actor.kind, line.actor.id].filter(Boolean).join(' ')) : '(checkpoint)';
      out.line(`${label.padStart(6)} ${when} ${who.slice(0, BLAME_WHO_CHARS).padEnd(BLAME_WHO_CHARS)} ${String(line.line).padStart(width)}| ${line.text}`);
    }
    return 0;
  } finally {
    await out.end();
    history.close();
    store.close();
  }
}
