// The timeline of a store: the ops of a range over time, one lane per actor (a process, an exec,
// an RPC caller, a tool call; another replica's apart from this one's), the conflicts among them,
// and what each lane and each op changed, with unified diffs from the History machinery that
// `changes` and `show` use. Bounded whatever the range: the newest TIMELINE_OPS_MAX ops, diffs
// that read at most TIMELINE_DIFF_READ_BYTES_MAX, stop at DIFF_EDIT_LINES_MAX and embed
// at most TIMELINE_PATCH_BYTES_MAX, and the result says what it cut. timeline-page.ts shows it.
import {
  DIFF_TEXT_BYTES_MAX, formatRef, NodeRole, DIFF_EDIT_LINES_MAX, DIFF_PAGE_EDIT_LINES_MAX, TIMELINE_DIFF_READ_BYTES_MAX, TIMELINE_OPS_MAX, TIMELINE_PATCH_BYTES_MAX, TRASH_REF, tsMs,
  type Actor, type Op, type OpKind, type StoredOp, type Ts,
} from '../log/index.ts';
import { describeActor } from './actors.ts';
import { opChanges, showPath, type DiffOptions, type FileChange } from './changes.ts';
import { derivedName, type Mark } from './derived-names.ts';
import { History } from './history.ts';
import { latestPosition, PositionError, shortOrigin, shortRef, type Position } from './positions.ts';
import type { Store } from './store.ts';

/** A file change as the page shows it; its diff is an index into `Timeline.patches`. */
export interface TimelineChange {
  status: FileChange['status'];
  type: FileChange['type'];
  path: string;
  from?: string;
  added: number;
  removed: number;
  /** why there is no diff */
  note?: string;
  patch?: number;
}

export interface TimelineOp {
  /** ORIGIN:seq */
  ref: string;
  /** as `ledgerfs log` prints it */
  label: string;
  ms: number;
  kind: OpKind;
  /** the paths it touched, as they were when it applied */
  paths: string[];
  lane: number;
  /** who made it (in an exec's lane, which of its processes) */
  actor: string;
  changes: TimelineChange[];
  /** indexes into `Timeline.conflicts` */
  conflicts: number[];
}

export interface TimelineLane {
  label: string;
  kind: Actor['kind'];
  /** the replica that made its ops, when not this store (as `log` prints origins) */
  replica: string | null;
  ops: number;
  /** the command lines of its ops, each once, in order (an exec's lane holds each process it ran), at most LANE_COMMANDS_MAX */
  commands: string[];
  /** what its ops changed, from before the first to the last (as `changes --actor`) */
  changes: TimelineChange[];
}

/**
 * Concurrent edits of a file (the older shows as a conflict copy) or two entries given one name
 * (the one placed earlier shows under a duplicate name); see derived-names.ts.
 */
export interface TimelineConflict {
  kind: 'edit' | 'name';
  path: string;
  /** the loser's derived name, where it shows (or showed) */
  shownAs: string | null;
  /** the ops involved, oldest first: refs, and labels as `log` prints them */
  ops: string[];
  labels: string[];
  /** the derived name is still there now */
  open: boolean;
}

export interface Timeline {
  origin: string;
  /** the range as given: ops after `since` (none: from the start), up to `until` */
  since: string | null;
  until: string;
  opsInRange: number;
  ops: TimelineOp[];
  lanes: TimelineLane[];
  conflicts: TimelineConflict[];
  patches: string[];
  cut: { ops: boolean; diffs: boolean };
  limits: { opsMax: number; diffReadBytesMax: number; patchBytesMax: number };
}

export interface TimelineOptions {
  /** ops after it (default: from the first) */
  since?: Position;
  /** ops up to it (default: now) */
  until?: Position;
}

/** Command lines a lane lists: an exec that runs a loop of processes has as many. */
const LANE_COMMANDS_MAX = 16;

/** Ops of one actor on one replica share a lane: an exec, RPC caller or tool call by its id, a process by pid and command. */
function laneKey(op: Op): string {
  const { kind, id, pid, command } = op.actor;
  return [op.origin, kind, id ?? (pid === undefined ? '' : `${pid} ${command ?? ''}`)].join('\n');
}

/** The lane's name: an id names the whole lane (not one of its processes), with the first command seen. */
const laneActor = ({ kind, id, name, pid, command }: Actor): Actor => (id ? { kind, id, name, command } : { kind, pid, command });

export function buildTimeline(store: Store, options: TimelineOptions = {}): Timeline {
  const since = options.since ?? null;
  const until = options.until ?? latestPosition(store);
  if (since && until.ts < since.ts) throw new PositionError(`until ${until.text} is before since ${since.text}: a timeline runs forward`);
  const after = since?.ts ?? '';
  const picked = store.log.last(TIMELINE_OPS_MAX, until.ts).filter(({ op }) => op.ts > after);
  const opsInRange = picked.length < TIMELINE_OPS_MAX ? picked.length : store.log.countBetween(after, until.ts);
  const history = new History(store);
  try {
    const timeline: Timeline = {
      origin: store.origin, since: since?.text ?? null, until: until.text, opsInRange, ops: [], lanes: [], conflicts: [], patches: [],
      cut: { ops: picked.length < opsInRange, diffs: false },
      limits: { opsMax: TIMELINE_OPS_MAX, diffReadBytesMax: TIMELINE_DIFF_READ_BYTES_MAX, patchBytesMax: TIMELINE_PATCH_BYTES_MAX },
    };
    const laneOps = placeOps(store, history, picked, timeline);
    findConflicts(store, history, picked, timeline);
    diffAll(history, picked, laneOps, timeline);
    return timeline;
  } finally {
    history.close();
  }
}

/** Fills `timeline.ops` and `timeline.lanes` (in order of their first op); returns each lane's ops. */
function placeOps(store: Store, history: History, picked: readonly StoredOp[], timeline: Timeline): StoredOp[][] {
  const lanes = new Map<string, number>();
  const laneOps: StoredOp[][] = [];
  for (const stored of picked) {
    const { op, id } = stored;
    const key = laneKey(op);
    let lane = lanes.get(key);
    if (lane === undefined) {
      lane = timeline.lanes.length;
      lanes.set(key, lane);
      laneOps.push([]);
      timeline.lanes.push({
        label: describeActor(laneActor(op.actor)), kind: op.actor.kind, replica: op.origin === store.origin ? null : shortOrigin(store, op.origin),
        ops: 0, commands: [], changes: [],
      });
    }
    const shown = timeline.lanes[lane]!;
    shown.ops++;
    const { command } = op.actor;
    if (command && shown.commands.length < LANE_COMMANDS_MAX && !shown.commands.includes(command)) shown.commands.push(command);
    laneOps[lane]!.push(stored);
    timeline.ops.push({
      ref: formatRef(op.origin, op.seq), label: shortRef(store, op.origin, op.seq), ms: tsMs(op.ts), kind: op.kind,
      paths: history.opPaths(op, id), lane, actor: describeActor(op.actor), changes: [], conflicts: [],
    });
  }
  return laneOps;
}

/** The path of `names` with its last name marked as the projections derive it. */
function markedPath(names: Uint8Array[] | null, marks: readonly Mark[]): string | null {
  if (!names || names.length === 0) return null;
  return showPath([...names.slice(0, -1), derivedName(names.at(-1)!, marks)]);
}

/**
 * Conflicts among the ops shown. An edit is concurrent when the file's newest content before it
 * is not among its bases: both were heads at once, and the older shows as a conflict copy. Two
 * entries with one name are found as the live tree shows them now (the index has no lookup by
 * name): an entry an op placed that lost its name to another.
 */
function findConflicts(store: Store, history: History, picked: readonly StoredOp[], timeline: Timeline): void {
  const { nodes } = history;
  const now: Ts = store.log.maxTs() ?? '';
  const shown = new Map(timeline.ops.map((op, i) => [op.ref, i]));
  const add = (conflict: Omit<TimelineConflict, 'ops' | 'labels'>, ops: Op[]) => {
    const index = timeline.conflicts.length;
    const refs = ops.map((op) => formatRef(op.origin, op.seq));
    timeline.conflicts.push({ ...conflict, ops: refs, labels: ops.map((op) => shortRef(store, op.origin, op.seq)) });
    for (const ref of refs) {
      const at = shown.get(ref);
      if (at !== undefined) timeline.ops[at]!.conflicts.push(index);
    }
  };
  for (const { op, id } of picked) {
    if (op.kind === 'setContent') {
      const node = nodes.id(op.node);
      const previous = nodes.index.latest(node, NodeRole.content, nodes.before(op.ts));
      if (previous === undefined) continue;
      const loser = store.log.globalRef(previous);
      if (op.base.includes(loser)) continue;
      const open = store.reader.conflict(previous) !== undefined;
      add({
        kind: 'edit', path: showPath(nodes.pathAt(node, op.ts)) ?? '(unlinked)', open,
        shownAs: markedPath(nodes.pathAt(node, open ? now : op.ts), [['.conflict-', loser]]),
      }, [nodes.op(previous), op]);
    } else if (op.kind === 'create' || op.kind === 'link' || (op.kind === 'move' && !op.exchange && op.parent !== TRASH_REF)) {
      const entry = op.kind === 'move' ? nodes.id(op.entry) : id;
      const row = store.reader.entry(entry);
      if (!row || row.parent !== nodes.id(op.parent) || Buffer.compare(row.name, op.name) !== 0) continue;
      const holder = store.reader.lookup(row.parent, row.name);
      if (!holder || holder.id === entry) continue;
      const names = nodes.entryPathAt(entry, now);
      const holderOp = nodes.index.entryLatest(holder.id, now);
      add(
        { kind: 'name', path: showPath(names) ?? '(unlinked)', open: true, shownAs: markedPath(names, [['.dup-', store.log.globalRef(entry)]]) },
        holderOp === undefined ? [op] : [nodes.op(holderOp), op].sort((a, b) => (a.ts < b.ts ? -1 : 1)),
      );
    }
  }
}

/**
 * Each lane's changes (newest lane first: the commands are what a reader opens first), then each
 * op's (newest first), all reading from one budget; each distinct diff is embedded once.
 */
function diffAll(history: History, picked: readonly StoredOp[], laneOps: readonly StoredOp[][], timeline: Timeline): void {
  const options: DiffOptions = { patch: true, readBudget: { bytes: TIMELINE_DIFF_READ_BYTES_MAX }, editLinesMax: DIFF_EDIT_LINES_MAX, editBudget: { lines: DIFF_PAGE_EDIT_LINES_MAX } };
  const patches = new Map<string, number>();
  let patchBytes = 0;
  const embed = (change: FileChange): TimelineChange => {
    const { status, type, path, from, added, removed, patch } = change;
    const shown: TimelineChange = { status, type, path, ...(from ? { from } : {}), added, removed };
    if (change.note === 'too large' && Math.max(change.sizeBefore ?? 0, change.sizeAfter ?? 0) <= DIFF_TEXT_BYTES_MAX) {
      timeline.cut.diffs = true;
      shown.note = 'not diffed: the page read all the content it may';
    } else if (change.note) {
      shown.note = change.note;
    } else if (patch !== undefined) {
      let index = patches.get(patch);
      if (index === undefined && patchBytes + patch.length <= TIMELINE_PATCH_BYTES_MAX) {
        index = timeline.patches.push(patch) - 1;
        patches.set(patch, index);
        patchBytes += patch.length;
      }
      if (index === undefined) {
        timeline.cut.diffs = true;
        shown.note = 'diff not embedded: the page holds all the diff text it may';
      } else {
        shown.patch = index;
      }
    }
    return shown;
  };
  const newestFirst = laneOps.map((ops, lane) => ({ ops, lane })).sort((a, b) => (a.ops.at(-1)!.op.ts > b.ops.at(-1)!.op.ts ? -1 : 1));
  for (const { ops, lane } of newestFirst) timeline.lanes[lane]!.changes = history.changesOf(ops, options).map(embed);
  for (let i = picked.length - 1; i >= 0; i--) timeline.ops[i]!.changes = opChanges(history.nodes, picked[i]!.id, options).map(embed);
  // Past the edit budget, diffs gave up early: the page says it left diffs out.
  if (options.editBudget!.lines < DIFF_EDIT_LINES_MAX) timeline.cut.diffs = true;
}
