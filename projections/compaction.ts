// Compaction: the state a checkpoint holds. Store.compact writes it and drops the log prefix;
// Store.installSnapshot loads a peer's. See spec/semantics.md, "Compaction".
import type { LogStore, SqlAdapter, Ts } from '../log/index.ts';
import { statePages } from './checkpoint-state.ts';
import { Projector, type RemovedFrom } from './projector.ts';

/**
 * The checkpoint state at `cut`: the previous checkpoint and the ops up to the cut replayed into
 * a scratch database, with removal verdicts taken from the live heads (the whole op set: whether
 * an edit keeps a removed name does not depend on where the edit sorts), and where each directory
 * in the trash was removed from (its removal's undo record goes with the log prefix).
 */
export function checkpointAt(log: LogStore, live: SqlAdapter, cut: Ts): { pages: Uint8Array[]; removed: RemovedFrom[] } {
  const scratch = live.scratch();
  try {
    const projector = new Projector(scratch, log, { verdictHeads: live });
    projector.rebuild({ until: cut });
    const removed = projector.removedDirectories();
    projector.settle(cut, removed);
    return { pages: statePages(scratch, log), removed };
  } finally {
    scratch.close();
  }
}
