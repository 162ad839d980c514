// log: the ops in timestamp order, each with its kind, the paths it touched (as they were when
// it applied, found by replaying the log into a scratch projection) and who made it.
import { formatRef, manifestCount, TRASH_ID, type Actor, type Op } from '../../log/index.ts';
import { Projector, showName } from '../../projections/index.ts';
import { openExisting, UsageError } from './common.ts';

interface LogLine {
  ts: string;
  op: string;
  kind: Op['kind'];
  paths: string[];
  actor: Actor;
  detail: Record<string, unknown>;
}

const matchesActor = (actor: Actor, wanted: string) =>
  actor.id === wanted || actor.kind === wanted || String(actor.pid) === wanted || actor.command === wanted;

const underPath = (path: string, wanted: string) => {
  const base = wanted.length > 1 ? wanted.replace(/\/+$/, '') : wanted;
  return base === '/' || path === base || path.startsWith(`${base}/`);
};

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

export function runLog([db]: string[], values: { path?: string | boolean; actor?: string | boolean; limit?: string | boolean; json?: string | boolean }): number {
  const limit = values.limit === undefined ? Infinity : Number(values.limit);
  if (!(limit >= 0)) throw new UsageError('--limit wants a number');
  const store = openExisting(db, { readonly: true });
  const scratch = store.sql.scratch();
  try {
    const projector = new Projector(scratch, store.log);
    // After compaction the log starts at the checkpoint: so does the replay.
    if (store.log.checkpoint) projector.rebuild({ until: store.log.checkpoint.ts });
    const reader = projector.reader();
    const local = (ref: string) => store.log.localId(ref);
    const show = (names: Uint8Array[] | null) => (names ? `/${names.map(showName).join('/')}` : null);
    const entryPath = (entryId: number) => {
      const entry = reader.entry(entryId);
      if (!entry || entry.parent === TRASH_ID) return null;
      const parent = reader.pathOf(entry.parent);
      return parent && show([...parent, entry.name]);
    };
    let shown = 0;
    for (const stored of store.log.scan()) {
      const { op, id } = stored;
      const before = op.kind === 'move' || op.kind === 'unlink' || op.kind === 'rmdir' ? entryPath(local(op.entry)) : null;
      projector.apply(stored);
      const after = op.kind === 'create' || op.kind === 'link' ? entryPath(id)
        : op.kind === 'move' ? entryPath(local(op.entry))
        : op.kind === 'unlink' || op.kind === 'rmdir' ? null
        : show(reader.pathOf(local(op.node)));
      const paths = [...new Set([before, after].filter((p): p is string => p !== null))];
      if (typeof values.actor === 'string' && !matchesActor(op.actor, values.actor)) continue;
      if (typeof values.path === 'string' && !paths.some((p) => underPath(p, values.path as string))) continue;
      const line: LogLine = { ts: op.ts, op: formatRef(op.origin, op.seq), kind: op.kind, paths, actor: op.actor, detail: detail(op) };
      if (values.json) {
        process.stdout.write(`${JSON.stringify(line)}\n`);
      } else {
        const who = [op.actor.kind, op.actor.id, op.actor.pid !== undefined ? `pid ${op.actor.pid}` : undefined, op.actor.command].filter(Boolean).join(' ');
        const extra = Object.entries(line.detail).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
        process.stdout.write(`${op.ts}  ${line.op}  ${op.kind.padEnd(10)} ${paths.join(' -> ') || '(unlinked)'}  [${who}]${extra ? `  ${extra}` : ''}\n`);
      }
      if (++shown >= limit) break;
    }
    return 0;
  } finally {
    scratch.close();
    store.close();
  }
}
