// What changed between two positions, in a command or in one op: per file (node) its status
// (added, removed, moved, changed), paths before and after, and a unified diff of text content
// (jsdiff). Answered from the node index (node-history.ts): the ops in the range name the nodes,
// and each node's path and content at both ends are point lookups, so the cost follows the ops
// in the range, never the log's length; a long range answers in pages with a cursor.
import { formatPatch, structuredPatch } from 'diff';
import {
  DIFF_PAGE_BYTES_MAX, DIFF_PAGE_FILES_MAX, DIFF_PAGE_READ_BYTES_MAX, DIFF_SCAN_OPS_MAX, DIFF_TEXT_BYTES_MAX, indexRows, manifestFind, ZERO_CHUNK,
  type ChunkStore, type NodeType, type Op, type Ts,
} from '../log/index.ts';
import { showName } from './canonical.ts';
import type { ContentAt, NodeHistory } from './node-history.ts';
import { readManifest } from './reader.ts';

export type ChangeStatus = 'added' | 'removed' | 'moved' | 'changed';

export interface FileChange {
  status: ChangeStatus;
  type: NodeType | 'unknown';
  /** the path after (before, for a removal) */
  path: string;
  /** the path before, when it differs */
  from?: string;
  /** the node's id (ORIGIN:seq of its create op) */
  node: string;
  sizeBefore: number | null;
  sizeAfter: number | null;
  /** lines added and removed (text files) */
  added: number;
  removed: number;
  /** the unified diff, when asked for and the content is text */
  patch?: string;
  /** why no patch: the content is not text, too large, or too changed to diff within `editLinesMax` */
  note?: 'binary' | 'too large' | 'too many edits';
  /** the node a rename over the path replaced (an editor's save): the diff is against its content */
  replaced?: string;
}

export interface DiffOptions {
  patch?: boolean;
  /**
   * Bytes of content the diffs may still read, spent by every call given the same object; a
   * content past what is left is not read, and its change says 'too large'.
   */
  readBudget?: { bytes: number };
  /**
   * Lines added plus removed a diff looks for before it gives up (jsdiff's maxEditLength): its
   * time grows with the square of the edit, so two unrelated 1 MiB texts take tens of seconds
   * unbounded. Default: no bound.
   */
  editLinesMax?: number;
  /**
   * Lines added plus removed all diffs given the same object may look for, in all: what a diff
   * finds, or looked for and gave up on, is spent; one with less left than `editLinesMax` gives
   * up at what is left. A diff page ends before that happens (see diffPage).
   */
  editBudget?: { lines: number };
}

export interface DiffPage {
  changes: FileChange[];
  /** pass as `after` to read on */
  cursor: Ts;
  more: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export const showPath = (names: Uint8Array[] | null): string | null => (names ? `/${names.map(showName).join('/')}` : null);

/** The bytes of a content, or null when over DIFF_TEXT_BYTES_MAX or what is left of `budget`. */
export function contentBytes(chunks: ChunkStore, content: ContentAt | null, budget?: { bytes: number }): Uint8Array | null {
  if (!content) return new Uint8Array(0);
  if (content.size > DIFF_TEXT_BYTES_MAX || (budget && content.size > budget.bytes)) return null;
  if (budget) budget.bytes -= content.size;
  return readManifest(content.size, 0, content.size, (i) => {
    const ref = manifestFind(content.manifest, i);
    return ref ? chunks.get(ref.hash) : ZERO_CHUNK;
  });
}

/** The text of `bytes`, or null when they are not UTF-8 or hold a NUL (a binary file). */
export function textOf(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

const sameContent = (a: ContentAt | null, b: ContentAt | null) =>
  (a?.size ?? 0) === (b?.size ?? 0) && Buffer.from(a?.manifest ?? []).equals(Buffer.from(b?.manifest ?? []));

/** The nodes an op touches, as local ids. */
export function nodesOf(history: NodeHistory, op: Op, id: number): number[] {
  const rows: Parameters<typeof indexRows>[3] = { node: [], entry: [], parent: [] };
  indexRows(op, id, (ref: string) => history.id(ref), rows);
  return [...new Set(rows.node.map((row) => row[0] as number))];
}

/** The content each reported change compared, for folding replacements. */
const compared = new WeakMap<FileChange, { before: ContentAt | null; after: ContentAt | null }>();

/**
 * A file replaced by a rename (new content written under a temporary name, renamed over it) shows
 * as one change of the path, diffed against the content it replaced, not as a removal and an add.
 */
export function foldReplacements(history: NodeHistory, changes: FileChange[], to: Ts, options: DiffOptions = {}): FileChange[] {
  const removed = new Map(changes.filter((c) => c.status === 'removed' && c.type === 'file').map((c) => [history.id(c.node), c]));
  if (removed.size === 0) return changes;
  const folded = new Set<FileChange>();
  const out = changes.map((change) => {
    if (change.status !== 'added' || change.type !== 'file') return change;
    const step = history.lineage(history.id(change.node), to).find((s) => removed.has(s.node) && !folded.has(removed.get(s.node)!));
    if (!step) return change;
    const gone = removed.get(step.node)!;
    folded.add(gone);
    const before = compared.get(gone)!.before;
    const after = compared.get(change)!.after;
    const merged: FileChange = { ...change, status: 'changed', sizeBefore: gone.sizeBefore, replaced: gone.node, added: 0, removed: 0 };
    if (gone.path !== change.path) merged.from = gone.path;
    delete merged.note;
    delete merged.patch;
    if (!sameContent(before, after)) Object.assign(merged, textDiff(history.store.chunks, gone.path, change.path, before, after, options));
    return merged;
  });
  return out.filter((change) => !folded.has(change));
}

/** How `node` changed from `from` to `to`, or null when it did not (or lived and died between). */
export function nodeChange(history: NodeHistory, node: number, from: Ts, to: Ts, options: DiffOptions = {}): FileChange | null {
  const before = showPath(history.pathAt(node, from));
  const after = showPath(history.pathAt(node, to));
  if (before === null && after === null) return null;
  const create = history.createOf(node);
  const type = create?.type ?? 'unknown';
  const contentBefore = before === null ? null : history.contentAt(node, from);
  const contentAfter = after === null ? null : history.contentAt(node, to);
  const changed = type !== 'dir' && !sameContent(contentBefore, contentAfter);
  const status: ChangeStatus = before === null ? 'added' : after === null ? 'removed' : changed ? 'changed' : before !== after ? 'moved' : 'changed';
  if (status === 'changed' && !changed) return null; // attributes only
  const change: FileChange = {
    status, type, path: (after ?? before)!, node: history.store.log.globalRef(node),
    sizeBefore: before === null ? null : contentBefore?.size ?? 0, sizeAfter: after === null ? null : contentAfter?.size ?? 0,
    added: 0, removed: 0,
  };
  if (before !== null && after !== null && before !== after) change.from = before;
  if (type === 'file' && changed) Object.assign(change, textDiff(history.store.chunks, before ?? after!, after ?? before!, contentBefore, contentAfter, options));
  compared.set(change, { before: contentBefore, after: contentAfter });
  return change;
}

function textDiff(chunks: ChunkStore, fromPath: string, toPath: string, a: ContentAt | null, b: ContentAt | null, options: DiffOptions) {
  // Neither side is read (nor charged) unless both fit what the read budget has left.
  if (options.readBudget && (a?.size ?? 0) + (b?.size ?? 0) > options.readBudget.bytes) return { note: 'too large' as const };
  const bytesA = contentBytes(chunks, a, options.readBudget);
  const bytesB = bytesA && contentBytes(chunks, b, options.readBudget);
  if (!bytesA || !bytesB) return { note: 'too large' as const };
  const textA = textOf(bytesA);
  const textB = textOf(bytesB);
  if (textA === null || textB === null) return { note: 'binary' as const };
  const edits = options.editBudget;
  const allowed = Math.min(options.editLinesMax ?? Infinity, edits?.lines ?? Infinity);
  if (allowed <= 0) return { note: 'too many edits' as const };
  const patch = structuredPatch(`a${fromPath}`, `b${toPath}`, textA, textB, '', '', { context: 3, maxEditLength: allowed });
  if (!patch) {
    if (edits) edits.lines -= allowed;
    return { note: 'too many edits' as const };
  }
  let added = 0;
  let removed = 0;
  for (const hunk of patch.hunks) {
    for (const line of hunk.lines) {
      if (line[0] === '+') added++;
      else if (line[0] === '-') removed++;
    }
  }
  if (edits) edits.lines -= added + removed;
  return { added, removed, ...(options.patch ? { patch: formatPatch(patch).replace(/^=+\n/, '') } : {}) };
}

/**
 * A page of the changes from `from` to `to`: the files touched by up to DIFF_SCAN_OPS_MAX ops
 * after `after` (default `from`), each reported once, in the page of its first op in the range.
 */
export function diffPage(history: NodeHistory, from: Ts, to: Ts, options: DiffOptions & { after?: Ts; filesMax?: number } = {}): DiffPage {
  const start = options.after && options.after > from ? options.after : from;
  const filesMax = Math.min(options.filesMax ?? DIFF_PAGE_FILES_MAX, DIFF_PAGE_FILES_MAX);
  const changes: FileChange[] = [];
  const seen = new Set<number>();
  let cursor = start;
  let scanned = 0;
  let patchBytes = 0;
  // What this page reads is counted on the caller's budget, or on one of its own.
  const reads = options.readBudget ?? { bytes: Number.MAX_SAFE_INTEGER };
  const readsAtStart = reads.bytes;
  options = { ...options, readBudget: reads };
  for (const { op, id } of history.store.log.scan(start, Math.min(DIFF_SCAN_OPS_MAX, 1024))) {
    if (op.ts > to) break;
    // An op's diffs get the whole of editLinesMax each: the page ends when less is left.
    const editsLeft = options.editBudget ? options.editBudget.lines >= (options.editLinesMax ?? 1) : true;
    const full = scanned >= DIFF_SCAN_OPS_MAX || changes.length >= filesMax || patchBytes >= DIFF_PAGE_BYTES_MAX || readsAtStart - reads.bytes >= DIFF_PAGE_READ_BYTES_MAX || !editsLeft;
    if (full) return { changes: foldReplacements(history, changes, to, options), cursor, more: true };
    scanned++;
    for (const node of nodesOf(history, op, id)) {
      if (seen.has(node) || (start > from && history.index.touched(node, from, start))) continue;
      seen.add(node);
      const change = nodeChange(history, node, from, to, options);
      if (change) changes.push(change);
      patchBytes += change?.patch?.length ?? 0;
    }
    cursor = op.ts;
  }
  return { changes: foldReplacements(history, changes, to, options), cursor: to, more: false };
}

/** What one op changed: each node it touched, from just before it to it. */
export function opChanges(history: NodeHistory, id: number, options: DiffOptions = {}): FileChange[] {
  const op = history.op(id);
  const before = history.before(op.ts);
  return nodesOf(history, op, id).map((node) => nodeChange(history, node, before, op.ts, options)).filter((c): c is FileChange => c !== null);
}
