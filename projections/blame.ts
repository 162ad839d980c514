// Blame: each line of a text file with the op that last wrote it. The file's versions are the
// setContent ops of its lineage (node-history.ts: through the renames that replaced it, so a line
// `sed -i` wrote under a temporary name is sed's), diffed one to the next with jsdiff; a line
// keeps the op of the version it first appeared in.
import { diffArrays } from 'diff';
import { BLAME_READ_BYTES_MAX, BLAME_VERSIONS_MAX, NodeRole, type Actor, type Op, type Ts } from '../log/index.ts';
import { contentBytes, textOf } from './changes.ts';
import { FsError } from './errors.ts';
import type { NodeHistory } from './node-history.ts';

export interface BlameLine {
  /** 1-based */
  line: number;
  text: string;
  /** ORIGIN:seq of the op that wrote the line, or null for a line from before the checkpoint */
  op: string | null;
  ts: Ts | null;
  actor: Actor | null;
}

export interface Blame {
  lines: BlameLine[];
  /** versions read */
  versions: number;
  /** true when a version's diff gave up (see BlameLimits): its lines are all its own */
  approximate: boolean;
}

/** Bounds on diff work, for a server's thread (the DiffOptions of changes.ts, same meaning). */
export interface BlameLimits {
  editLinesMax?: number;
  editBudget?: { lines: number };
}

const splitLines = (text: string) => {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
};

/** Blames `node` as it was at `until`; `shown` names it in errors. */
export function blame(history: NodeHistory, node: number, until: Ts, shown: string, limits: BlameLimits = {}): Blame {
  const versions: Array<{ id: number; ts: Ts }> = [];
  for (const step of history.lineage(node, until)) {
    versions.push(...history.index.opsOf(step.node, '', step.until, BLAME_VERSIONS_MAX, [NodeRole.content]).map((row) => ({ id: row.op, ts: row.ts })));
  }
  versions.sort((a, b) => (a.ts < b.ts ? -1 : 1));
  if (versions.length > BLAME_VERSIONS_MAX) throw new FsError('EFBIG', 'blame', shown, `over ${BLAME_VERSIONS_MAX} versions`);
  // Content from before the checkpoint: its lines have no op.
  const first = versions.length > 0 ? undefined : history.contentAt(node, until);
  let lines: Array<{ text: string; op: Op | null }> = first ? linesOf(history, first, shown).map((text) => ({ text, op: null })) : [];
  let previous: Uint8Array | null = null;
  let read = 0;
  let approximate = false;
  for (const { id } of versions) {
    const op = history.op(id);
    if (op.kind !== 'setContent') continue;
    if (previous && Buffer.from(previous).equals(op.manifest)) continue;
    previous = op.manifest;
    read += op.size;
    if (read > BLAME_READ_BYTES_MAX) throw new FsError('EFBIG', 'blame', shown, `its versions hold over ${BLAME_READ_BYTES_MAX} bytes`);
    const next = linesOf(history, { op, size: op.size, manifest: op.manifest }, shown);
    const allowed = Math.min(limits.editLinesMax ?? Infinity, limits.editBudget?.lines ?? Infinity);
    const parts = allowed > 0 ? diffArrays(lines.map((l) => l.text), next, { maxEditLength: allowed }) : undefined;
    if (!parts) {
      // Past the bound the version counts as a rewrite: every line is its own.
      if (limits.editBudget) limits.editBudget.lines -= allowed;
      approximate = true;
      lines = next.map((text) => ({ text, op }));
      continue;
    }
    const carried: typeof lines = [];
    let at = 0;
    for (const part of parts) {
      if (part.removed) {
        at += part.count ?? part.value.length;
        if (limits.editBudget) limits.editBudget.lines -= part.value.length;
      } else if (part.added) {
        for (const text of part.value) carried.push({ text, op });
        if (limits.editBudget) limits.editBudget.lines -= part.value.length;
      } else {
        for (let i = 0; i < part.value.length; i++) carried.push(lines[at++]!);
      }
    }
    lines = carried;
  }
  const global = (op: Op | null) => (op ? `${op.origin}:${op.seq}` : null);
  return { lines: lines.map((l, i) => ({ line: i + 1, text: l.text, op: global(l.op), ts: l.op?.ts ?? null, actor: l.op?.actor ?? null })), versions: versions.length, approximate };
}

function linesOf(history: NodeHistory, content: Parameters<typeof contentBytes>[1], shown: string): string[] {
  const bytes = contentBytes(history.store.chunks, content);
  if (!bytes) throw new FsError('EFBIG', 'blame', shown, 'a version is too large to blame');
  const text = textOf(bytes);
  if (text === null) throw new FsError('EINVAL', 'blame', shown, 'not a text file');
  return splitLines(text);
}
