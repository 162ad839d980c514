// A node's past, read from the log's node index (log/node-index.ts) without replaying the log:
// its ops, where its entry was and what its content was at any timestamp, and the nodes a file's
// history follows back through replacing renames (an editor's save, `sed -i`: new content under
// a temporary name, renamed over the file). Names are as the ops gave them: a name the merge rules
// changed (a conflict copy, a cycle a concurrent move undid) shows as the op named it. Before a
// checkpoint the index has nothing; the checkpoint's state answers instead.
import {
  assert, CheckpointError, LINEAGE_NODES_MAX, NodeRole, ROOT_ID, TRASH_ID, TRASH_REF,
  type NodeIndex, type Op, type Ts,
} from '../log/index.ts';
import { openHistory, type HistoryView } from './history.ts';
import type { Store } from './store.ts';

/** A node's content at a time: the setContent op (undefined for an empty file never written). */
export interface ContentAt {
  op?: Op;
  size: number;
  manifest: Uint8Array;
}

/** A stretch of a file's history: `node`'s ops up to and including `until`. */
export interface LineageStep {
  node: number;
  until: Ts;
}

const ALL_ROLES = [NodeRole.tree, NodeRole.content, NodeRole.attr];
/** Depth of a path walk; a deeper one is a cycle in names as the ops gave them. */
const PATH_DEPTH_MAX = 4096;
/** Tree ops of one node read to find its live entries (hard links); a node renamed more often shows its oldest ones. */
const TREE_OPS_WALKED_MAX = 4096;

export class NodeHistory {
  readonly store: Store;
  readonly index: NodeIndex;
  private checkpointView: HistoryView | null = null;
  private readonly ops = new Map<number, Op>();

  constructor(store: Store) {
    const index = store.log.nodes;
    if (!index) throw new CheckpointError('this store predates the history index: open it once for writing (ledgerfs mount, or wsd) to build it');
    this.store = store;
    this.index = index;
  }

  close(): void {
    this.checkpointView?.close();
    this.checkpointView = null;
  }

  /** The op with local id `id` (cached: history reads the same few ops again and again). */
  op(id: number): Op {
    let op = this.ops.get(id);
    if (!op) {
      op = this.store.log.get(id)?.op;
      assert(op, `indexed op ${id} is not in the log`);
      if (this.ops.size >= 65536) this.ops.clear();
      this.ops.set(id, op);
    }
    return op;
  }

  id(ref: string): number {
    return this.store.log.localId(ref);
  }

  /** The projection at the checkpoint, loaded once, for what the index no longer holds. */
  private atCheckpoint() {
    const checkpoint = this.store.log.checkpoint;
    if (!checkpoint) return null;
    this.checkpointView ??= openHistory(this.store, checkpoint.ts);
    return this.checkpointView.fs.reader;
  }

  /** The entry through which `node` had a name at `until` (its oldest live one, as the projections show), or null. */
  entryOf(node: number, until: Ts): number | null {
    if (node === ROOT_ID) return null;
    const ops = this.index.opsOf(node, '', until, TREE_OPS_WALKED_MAX, [NodeRole.tree]);
    if (ops.length === 0) return this.atCheckpoint()?.entriesOf(node)[0]?.id ?? null;
    const live = new Set<number>();
    for (const { op: id } of ops) {
      const op = this.op(id);
      if (op.kind === 'create' || op.kind === 'link') live.add(id);
      else if (op.kind === 'unlink' || op.kind === 'rmdir') live.delete(this.id(op.entry));
      else if (op.kind === 'move' && this.id(op.node) === node) {
        if (op.parent === TRASH_REF) live.delete(this.id(op.entry));
        else live.add(this.id(op.entry));
      } else if (op.kind === 'move' && !op.exchange) live.delete(this.id(op.other!));
    }
    return live.values().next().value ?? null;
  }

  /** Where entry `entry` was at `until`: its directory and name, or null once removed. */
  placeOf(entry: number, until: Ts): { parent: number; name: Uint8Array } | null {
    const last = this.index.entryLatest(entry, until);
    if (last === undefined) {
      const row = this.atCheckpoint()?.entry(entry);
      return row && row.parent !== TRASH_ID ? { parent: row.parent, name: row.name } : null;
    }
    const op = this.op(last);
    switch (op.kind) {
      case 'create':
      case 'link':
        return { parent: this.id(op.parent), name: op.name };
      case 'move':
        if (this.id(op.entry) === entry) return op.parent === TRASH_REF ? null : { parent: this.id(op.parent), name: op.name };
        // The replaced entry: gone, or, in an exchange, where the moved entry was.
        return op.exchange ? this.placeOf(this.id(op.entry), this.before(op.ts)) : null;
      default:
        return null;
    }
  }

  /** The path of `node` at `until` as names, or null when it had none. */
  pathAt(node: number, until: Ts): Uint8Array[] | null {
    const names: Uint8Array[] = [];
    for (let at = node, depth = 0; at !== ROOT_ID; depth++) {
      if (depth > PATH_DEPTH_MAX) return null;
      const entry = this.entryOf(at, until);
      const place = entry === null ? null : this.placeOf(entry, until);
      if (!place) return null;
      names.push(place.name);
      at = place.parent;
    }
    return names.reverse();
  }

  /** The path of entry `entry` at `until` (a create's or link's entry is the op's own id). */
  entryPathAt(entry: number, until: Ts): Uint8Array[] | null {
    const place = this.placeOf(entry, until);
    const parent = place && (place.parent === ROOT_ID ? [] : this.pathAt(place.parent, until));
    return parent ? [...parent, place.name] : null;
  }

  /** The content of `node` at `until` (the newest setContent at or before it), or null before any. */
  contentAt(node: number, until: Ts): ContentAt | null {
    const last = this.index.latest(node, NodeRole.content, until);
    if (last === undefined) {
      const row = this.atCheckpoint()?.content(node);
      return row ? { size: row.size, manifest: row.manifest } : null;
    }
    const op = this.op(last);
    assert(op.kind === 'setContent', 'content index names a setContent');
    return { op, size: op.size, manifest: op.manifest };
  }

  /** The create op of `node`, when it is still in the log. */
  createOf(node: number): (Op & { kind: 'create' }) | undefined {
    if (node === ROOT_ID || !this.store.log.hasId(node)) return undefined;
    const op = this.store.log.get(node)?.op;
    return op?.kind === 'create' ? op : undefined;
  }

  /** The timestamp just before `ts`: every op before it, none at it. */
  before(ts: Ts): Ts {
    return this.store.log.tsBefore(ts) ?? '';
  }

  /**
   * The stretches of history a file at `node` follows, newest first: the node itself, then, for
   * each rename that replaced another file with it, that file's history up to the rename.
   */
  lineage(node: number, until: Ts): LineageStep[] {
    const steps: LineageStep[] = [];
    const queue: LineageStep[] = [{ node, until }];
    const seen = new Set<number>();
    while (queue.length > 0 && steps.length < LINEAGE_NODES_MAX) {
      const step = queue.shift()!;
      if (seen.has(step.node)) continue;
      seen.add(step.node);
      steps.push(step);
      for (let after = ''; ;) {
        const page = this.index.opsOf(step.node, after, step.until, 4096, [NodeRole.tree]);
        for (const { op: id } of page) {
          const op = this.op(id);
          if (op.kind === 'move' && !op.exchange && op.otherNode !== null && this.id(op.node) === step.node) {
            queue.push({ node: this.id(op.otherNode), until: this.before(op.ts) });
          }
        }
        if (page.length < 4096) break;
        after = page[page.length - 1]!.ts;
      }
    }
    return steps;
  }

  /**
   * Up to `limit` ops of a file's history after `after` (its lineage's, and for a directory the
   * ops that named or removed entries in it), in timestamp order.
   */
  fileOps(steps: readonly LineageStep[], after: Ts, limit: number, directory = false): Array<{ id: number; op: Op }> {
    const found = new Map<number, Ts>();
    for (const step of steps) {
      for (const row of this.index.opsOf(step.node, after, step.until, limit, ALL_ROLES)) found.set(row.op, row.ts);
      if (directory) for (const row of this.index.opsIn(step.node, after, step.until, limit)) found.set(row.op, row.ts);
    }
    return [...found].sort((a, b) => (a[1] < b[1] ? -1 : 1)).slice(0, limit).map(([id]) => ({ id, op: this.op(id) }));
  }
}
