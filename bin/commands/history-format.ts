// The human forms shared by log, show, diff, blame and changes: which ops an --actor names, an
// op's time and label, a file change with its diff (who made an op: projections/actors.ts).
import { tsMs, type Actor, type Op } from '../../log/index.ts';
import type { FileChange } from '../../projections/changes.ts';
import { shortRef } from '../../projections/positions.ts';
import type { Store } from '../../projections/store.ts';
import { localTime } from './output.ts';

/** `--actor`: an exec id, a pid or an actor kind exactly, or part of a command line. */
export function matchesActor(actor: Actor, wanted: string): boolean {
  return actor.id === wanted || actor.kind === wanted || String(actor.pid) === wanted || (actor.command?.includes(wanted) ?? false);
}

export const opTime = (op: Pick<Op, 'ts'>) => localTime(tsMs(op.ts));

export const opLabel = (store: Store, op: Pick<Op, 'origin' | 'seq'>) => shortRef(store, op.origin, op.seq);

const STATUS_MARK: Record<FileChange['status'], string> = { added: 'A', removed: 'D', moved: 'R', changed: 'M' };

/** One change as `diff --name-only`, `--stat` or in full (the unified diff) prints it. */
export function formatChange(change: FileChange, form: 'name' | 'stat' | 'full'): string[] {
  const where = change.from ? `${change.from} -> ${change.path}` : change.path;
  if (form === 'name') return [change.path];
  if (change.replaced && form === 'full' && !change.patch && !change.note) return [`M ${where}  (replaced by a rename, same content)`];
  const counts = change.note ? `(${change.note})` : change.type === 'file' && change.status !== 'moved' ? `+${change.added} -${change.removed}` : '';
  const head = `${STATUS_MARK[change.status]} ${where}${change.type === 'file' ? '' : ` (${change.type})`}${counts ? `  ${counts}` : ''}`;
  if (form === 'stat' || !change.patch) return [head];
  return [head, ...change.patch.trimEnd().split('\n')];
}
