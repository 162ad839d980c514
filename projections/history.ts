// Time travel: the tree as it was at a past op or time, built by replaying the log prefix into a
// scratch in-memory projection and read through the same FileSystem code as the live tree; and
// the history queries (a path's ops, diff, blame, show) over the node index.
import { formatRef, HISTORY_PAGE_OPS_MAX, type Actor, type Op, type Ts } from '../log/index.ts';
import { blame, type Blame, type BlameLimits } from './blame.ts';
import { diffPage, foldReplacements, nodeChange, nodesOf, opChanges, showPath, type DiffOptions, type DiffPage, type FileChange } from './changes.ts';
import { FsError } from './errors.ts';
import { FileSystem } from './filesystem.ts';
import { NodeHistory } from './node-history.ts';
import { pathText, type PathLike } from './paths.ts';
import { PositionError, type Position } from './positions.ts';
import { Projector } from './projector.ts';
import type { Attr } from './reader.ts';
import type { Store } from './store.ts';

export interface HistoryView {
  fs: FileSystem;
  /** ops replayed */
  ops: number;
  until: Ts;
  close(): void;
}

export function openHistory(store: Store, until: Ts, onProgress?: (done: number) => void): HistoryView {
  const scratch = store.sql.scratch();
  const projector = new Projector(scratch, store.log);
  const ops = projector.rebuild({ until, onProgress });
  const fs = new FileSystem({ reader: projector.reader(), chunks: store.chunks }, null);
  return { fs, ops, until, close: () => scratch.close() };
}

/** One op of a file's (or the log's) history, as `log` and the history RPC call show it. */
export interface HistoryEntry {
  op: string;
  ts: Ts;
  kind: Op['kind'];
  /** the paths it touched, as they were when it applied: before and after a move */
  paths: string[];
  actor: Actor;
}

export interface HistoryPage {
  entries: HistoryEntry[];
  /** pass as `after` to read on */
  cursor: Ts;
  more: boolean;
}

/**
 * The history queries over one store: a path's ops, diffs, blame, an op's changes. Paths at a
 * past position are resolved in a history view (a replay); at the latest position, in the live
 * projections. close() drops the scratch databases it opened.
 */
export class History {
  readonly store: Store;
  readonly nodes: NodeHistory;
  private readonly live: FileSystem;

  constructor(store: Store) {
    this.store = store;
    this.nodes = new NodeHistory(store);
    this.live = new FileSystem(store, null);
  }

  close(): void {
    this.nodes.close();
  }

  /** The node at `path` at `at` (now without it); ENOENT names the position. */
  resolve(path: PathLike, at?: Position, onProgress?: (done: number) => void): { node: number; type: Attr['type'] } {
    const latest = at === undefined || at.ts >= (this.store.log.maxTs() ?? '');
    const view = latest ? null : openHistory(this.store, at.ts, onProgress);
    try {
      const attr = (view?.fs ?? this.live).lstat(path);
      return { node: attr.ino, type: attr.type };
    } catch (error) {
      if ((error as FsError).code !== 'ENOENT') throw error;
      throw new FsError('ENOENT', 'history', pathText(path), latest ? 'not there now: name a position it existed at' : `not there at ${at.text}`);
    } finally {
      view?.close();
    }
  }

  /** The paths an op touched, as they were when it applied. */
  opPaths(op: Op, id: number): string[] {
    const { nodes } = this;
    const before = () => nodes.before(op.ts);
    const paths = op.kind === 'create' || op.kind === 'link' ? [nodes.entryPathAt(id, op.ts)]
      : op.kind === 'move' ? [nodes.entryPathAt(nodes.id(op.entry), before()), nodes.entryPathAt(nodes.id(op.entry), op.ts)]
      : op.kind === 'unlink' || op.kind === 'rmdir' ? [nodes.entryPathAt(nodes.id(op.entry), before())]
      : [nodes.pathAt(nodes.id(op.node), op.ts)];
    return [...new Set(paths.map(showPath).filter((p): p is string => p !== null))];
  }

  entry(op: Op, id: number): HistoryEntry {
    return { op: formatRef(op.origin, op.seq), ts: op.ts, kind: op.kind, paths: this.opPaths(op, id), actor: op.actor };
  }

  /**
   * A page of the history of the file at `path` (at `at`, default now): its ops and those of the
   * files it replaced by renames; for a directory also the ops that named or removed entries in it.
   */
  fileHistory(path: PathLike, options: { at?: Position; after?: Ts; limit?: number; onProgress?: (done: number) => void } = {}): HistoryPage {
    const limit = Math.min(options.limit ?? HISTORY_PAGE_OPS_MAX, HISTORY_PAGE_OPS_MAX);
    const until = options.at?.ts ?? this.store.log.maxTs() ?? '';
    const { node, type } = this.resolve(path, options.at, options.onProgress);
    const steps = this.nodes.lineage(node, until);
    const ops = this.nodes.fileOps(steps, options.after ?? '', limit + 1, type === 'dir');
    const entries = ops.slice(0, limit).map(({ op, id }) => this.entry(op, id));
    return { entries, cursor: entries.at(-1)?.ts ?? options.after ?? '', more: ops.length > limit };
  }

  diff(from: Position, to: Position, options: DiffOptions & { after?: Ts } = {}): DiffPage {
    if (to.ts < from.ts) throw new PositionError(`${to.text} is before ${from.text}: diff <from> <to> goes forward`);
    return diffPage(this.nodes, from.ts, to.ts, options);
  }

  blame(path: PathLike, at?: Position, onProgress?: (done: number) => void, limits?: BlameLimits): Blame {
    const { node, type } = this.resolve(path, at, onProgress);
    if (type !== 'file') throw new FsError(type === 'dir' ? 'EISDIR' : 'EINVAL', 'blame', pathText(path), 'blame reads a text file');
    return blame(this.nodes, node, at?.ts ?? this.store.log.maxTs() ?? '', pathText(path), limits);
  }

  /** What a set of ops (one command's) changed: each node they touched, from before the first of them to the last. */
  changesOf(ops: Iterable<{ op: Op; id: number }>, options: DiffOptions = {}): FileChange[] {
    const spans = new Map<number, { first: Ts; last: Ts }>();
    for (const { op, id } of ops) {
      for (const node of nodesOf(this.nodes, op, id)) {
        const span = spans.get(node);
        if (span) span.last = op.ts;
        else spans.set(node, { first: op.ts, last: op.ts });
      }
    }
    const changes = [...spans].map(([node, { first, last }]) => nodeChange(this.nodes, node, this.nodes.before(first), last, options)).filter((c): c is FileChange => c !== null);
    const last = [...spans.values()].reduce((max, span) => (span.last > max ? span.last : max), '');
    return foldReplacements(this.nodes, changes, last, options);
  }

  /** One op (a position naming an op) with the changes it made. */
  show(position: Position, options: DiffOptions = {}): { entry: HistoryEntry; changes: FileChange[] } {
    if (!position.op) throw new PositionError(`${position.text} is a time: show wants an op (ORIGIN:seq or a seq)`);
    const id = this.store.log.localId(position.op);
    const op = this.nodes.op(id);
    return { entry: this.entry(op, id), changes: opChanges(this.nodes, id, options) };
  }
}
