// log: the ops in timestamp order, each with its kind, the paths it touched (as they were when
// it applied, from the node index) and who made it. --path follows one file through renames;
// --since/--until/--tail/--limit/--reverse bound it; --actor picks one command's ops.
import { manifestCount, type Op, type StoredOp } from '../../log/index.ts';
import { describeActor } from '../../projections/actors.ts';
import { showName } from '../../projections/canonical.ts';
import { History, type HistoryEntry } from '../../projections/history.ts';
import { resolvePosition } from '../../projections/positions.ts';
import { matchesActor, opLabel, opTime } from './history-format.ts';
import { openExisting, UsageError } from './common.ts';
import { openOutput, progress } from './output.ts';

type Values = Record<string, string | boolean | undefined>;

function detail(op: Op): Record<string, unknown> {
  switch (op.kind) {
    case 'create': return { type: op.type, mode: op.mode.toString(8), ...(op.type === 'symlink' ? { target: showName(op.target) } : {}) };
    case 'setContent': return { size: op.size, chunks: manifestCount(op.manifest), base: op.base, ...(op.deletes.length > 0 ? { afterRemovals: op.deletes } : {}) };
    case 'setAttr': return Object.fromEntries(Object.entries({ mode: op.mode?.toString(8), uid: op.uid, gid: op.gid, atime: op.atime, mtime: op.mtime }).filter(([, v]) => v !== null && v !== undefined));
    case 'setXattr': return { name: showName(op.name), removed: op.value === null };
    case 'move': return op.exchange ? { exchange: true } : op.other ? { replaced: op.other } : {};
    default: return {};
  }
}

export const count = (value: string | boolean | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isSafeInteger(n) || n < 0) throw new UsageError(`${name} wants a whole number, got ${JSON.stringify(value)}`);
  return n;
};

export async function runLog([db]: string[], values: Values): Promise<number> {
  const limit = count(values.limit, '--limit') ?? Infinity;
  const tail = count(values.tail, '--tail');
  if (tail !== undefined && values.limit !== undefined) throw new UsageError('--tail and --limit do not go together: --tail N keeps the newest N');
  const store = openExisting(db, { readonly: true });
  const history = new History(store);
  const out = openOutput();
  try {
    const since = typeof values.since === 'string' ? resolvePosition(store, values.since).ts : '';
    const untilPosition = typeof values.until === 'string' ? resolvePosition(store, values.until) : undefined;
    const until = untilPosition?.ts ?? store.log.maxTs() ?? '';
    const actor = typeof values.actor === 'string' ? values.actor : undefined;
    const picked: Array<{ entry: HistoryEntry; op: Op }> = [];
    const keep = (entry: HistoryEntry, op: Op) => {
      picked.push({ entry, op });
      if (tail !== undefined && picked.length > tail) picked.shift();
    };
    const full = () => tail === undefined && picked.length >= limit;
    if (typeof values.path === 'string') {
      for (let after = since, more = true; more && !full();) {
        const page = history.fileHistory(values.path, { at: untilPosition, after });
        for (const entry of page.entries) {
          if (entry.ts > until || full()) break;
          const op = history.nodes.op(store.log.localId(entry.op));
          if (!actor || matchesActor(op.actor, actor)) keep(entry, op);
        }
        ({ more } = page);
        after = page.cursor;
      }
    } else {
      const ops: Iterable<StoredOp> = tail !== undefined && !actor ? store.log.last(tail, until).filter(({ op }) => op.ts > since) : store.log.scan(since);
      const bar = actor ? progress('log', store.log.count()) : null;
      let scanned = 0;
      for (const { op, id } of ops) {
        if (op.ts > until || full()) break;
        bar?.update(++scanned);
        if (!actor || matchesActor(op.actor, actor)) keep(history.entry(op, id), op);
      }
      bar?.stop();
    }
    if (values.reverse) picked.reverse();
    for (const { entry, op } of picked) {
      const extra = detail(op);
      if (values.json) {
        out.line(JSON.stringify({ ...entry, detail: extra }));
      } else {
        const shown = Object.entries(extra).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
        out.line(`${opTime(op)}  ${opLabel(store, op).padStart(6)}  ${op.kind.padEnd(10)} ${entry.paths.join(' -> ') || '(unlinked)'}  [${describeActor(op.actor)}]${shown ? `  ${shown}` : ''}`);
      }
    }
    return 0;
  } finally {
    await out.end();
    history.close();
    store.close();
  }
}
