// What the log gives a Workspace that shell's cannot have: the versions of a file with who made
// them and when, the changes between two positions, and who last changed each line. A file's
// versions and its blame come from the node index (history.ts); changes read the log from `from`
// (output bounded).
import {
  DIFF_EDIT_LINES_MAX, DIFF_PAGE_EDIT_LINES_MAX, formatRef, tsMs, WORKSPACE_HISTORY_COUNT_MAX, type Actor, type Op, type Ref, type Ts,
} from '../log/index.ts';
import { FsError } from './errors.ts';
import { History } from './history.ts';
import type { Store } from './store.ts';

export interface Change {
  /** the op, ORIGIN:seq */
  op: Ref;
  ts: Ts;
  /** epoch milliseconds of ts */
  time: number;
  kind: Op['kind'];
  actor: Actor;
  /** the file's size after a setContent */
  size?: number;
}

export interface BlameLine {
  line: number;
  text: string;
  /** the op that last changed the line; null for a line from before the checkpoint */
  op: Ref | null;
  time: number | null;
  actor: Actor | null;
}

const changeOf = (op: Op): Change => ({
  op: formatRef(op.origin, op.seq), ts: op.ts, time: tsMs(op.ts), kind: op.kind, actor: op.actor, ...(op.kind === 'setContent' ? { size: op.size } : {}),
});

/**
 * Ops that made or changed node `node` and the files it replaced by renames (an editor's save),
 * oldest first, from the node index: the work is the answer's, not the log's.
 */
export function nodeHistory(store: Store, node: number): Change[] {
  const history = new History(store);
  try {
    const steps = history.nodes.lineage(node, store.log.maxTs() ?? '');
    const ops = history.nodes.fileOps(steps, '', WORKSPACE_HISTORY_COUNT_MAX + 1);
    if (ops.length > WORKSPACE_HISTORY_COUNT_MAX) throw new FsError('E2BIG', 'history', undefined, `more than ${WORKSPACE_HISTORY_COUNT_MAX} versions`);
    return ops.map(({ op }) => changeOf(op));
  } finally {
    history.close();
  }
}

/** Ops after `from` up to and including `to` (timestamps), oldest first. */
export function changesBetween(store: Store, from: Ts, to: Ts): Change[] {
  const found: Change[] = [];
  for (const { op } of store.log.scan(from)) {
    if (op.ts > to) break;
    if (found.length === WORKSPACE_HISTORY_COUNT_MAX) throw new FsError('E2BIG', 'changes', undefined, `more than ${WORKSPACE_HISTORY_COUNT_MAX} changes: narrow the range`);
    found.push(changeOf(op));
  }
  return found;
}

/**
 * Each line of the file at `path` with the version that last changed it (blame.ts, through the
 * renames that replaced it), its diffs bounded as on any server's thread (approximate past them).
 */
export function blamePath(store: Store, path: string): BlameLine[] {
  const history = new History(store);
  try {
    const limits = { editLinesMax: DIFF_EDIT_LINES_MAX, editBudget: { lines: DIFF_PAGE_EDIT_LINES_MAX } };
    return history.blame(path, undefined, undefined, limits).lines.map(({ line, text, op, ts, actor }) => ({ line, text, op, time: ts === null ? null : tsMs(ts), actor }));
  } finally {
    history.close();
  }
}
