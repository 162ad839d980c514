// What the log gives a Workspace that shell's cannot have: the versions of a file with who made
// them and when, the changes between two positions, and who last changed each line. Each reads
// the log in timestamp order (time proportional to the log, output bounded).
import { diffArrays } from 'diff';
import {
  formatRef, manifestAt, tsMs, WORKSPACE_DIFF_LINES_MAX, WORKSPACE_HISTORY_COUNT_MAX, type Actor, type Op, type Ref, type Ts,
} from '../log/index.ts';
import { FsError } from './errors.ts';
import { readManifest } from './reader.ts';
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
  op: Ref;
  time: number;
  actor: Actor;
}

const changeOf = (op: Op): Change => ({
  op: formatRef(op.origin, op.seq), ts: op.ts, time: tsMs(op.ts), kind: op.kind, actor: op.actor, ...(op.kind === 'setContent' ? { size: op.size } : {}),
});

/** Ops that made or changed node `ref`, oldest first. */
export function nodeHistory(store: Store, ref: Ref): Change[] {
  const found: Change[] = [];
  for (const { op } of store.log.scan()) {
    const own = formatRef(op.origin, op.seq) === ref && op.kind === 'create';
    if (!own && !('node' in op && op.node === ref)) continue;
    if (found.length === WORKSPACE_HISTORY_COUNT_MAX) throw new FsError('E2BIG', 'history', undefined, `more than ${WORKSPACE_HISTORY_COUNT_MAX} versions`);
    found.push(changeOf(op));
  }
  return found;
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

/** Each line of node `ref`'s content, with the version that last changed it. */
export function blameNode(store: Store, ref: Ref): BlameLine[] {
  const decoder = new TextDecoder();
  let lines: Array<{ text: string; by: Op }> = [];
  let versions = 0;
  for (const { op } of store.log.scan()) {
    if (op.kind !== 'setContent' || op.node !== ref) continue;
    if (++versions > WORKSPACE_HISTORY_COUNT_MAX) throw new FsError('E2BIG', 'blame', undefined, `more than ${WORKSPACE_HISTORY_COUNT_MAX} versions`);
    const bytes = readManifest(op.size, 0, op.size, (i) => store.chunks.get(manifestAt(op.manifest, i).hash));
    const next = decoder.decode(bytes).split('\n');
    if (next.length > WORKSPACE_DIFF_LINES_MAX) throw new FsError('EFBIG', 'blame', undefined, `blame takes at most ${WORKSPACE_DIFF_LINES_MAX} lines`);
    const kept: typeof lines = [];
    let at = 0;
    for (const part of diffArrays(lines.map((l) => l.text), next)) {
      if (part.removed) at += part.count;
      else if (part.added) for (const text of part.value) kept.push({ text, by: op });
      else for (let i = 0; i < part.count; i++) kept.push(lines[at++]!);
    }
    lines = kept;
  }
  return lines.map(({ text, by }, i) => ({ line: i + 1, text, op: formatRef(by.origin, by.seq), time: tsMs(by.ts), actor: by.actor }));
}
