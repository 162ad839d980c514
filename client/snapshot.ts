// Loading a peer's checkpoint: fetch its pages (one message each) into the log's staging area,
// fetch the chunks they name, then let the store install it and rebase this replica's unsent ops.
import { CHECKPOINT_PAGE_BYTES_MAX, checkCheckpoint, CheckpointError, covers } from '../log/index.ts';
import { checkpointChunks, type Store, type SyncPeer } from '../projections/index.ts';
import { fetchChunks } from './chunks.ts';

/** A peer that compacts while its checkpoint is being fetched makes the fetch start over, this often. */
const SNAPSHOT_FETCHES_MAX = 3;

function checkPage(page: unknown): Uint8Array {
  if (!(page instanceof Uint8Array) || page.length > CHECKPOINT_PAGE_BYTES_MAX) throw new CheckpointError(`a checkpoint page must be bytes, at most ${CHECKPOINT_PAGE_BYTES_MAX}`);
  return page;
}

/** Loads the peer's checkpoint into `store`; returns how many of the store's ops were rebased. */
export async function loadSnapshot(store: Store, peer: SyncPeer): Promise<number> {
  for (let fetch = 0; fetch < SNAPSHOT_FETCHES_MAX; fetch++) {
    store.log.unstage();
    const first = await peer.snapshot(0);
    const checkpoint = checkCheckpoint(first.checkpoint);
    store.log.stage(0, checkPage(first.page));
    let changed = false;
    for (let n = 1; n < checkpoint.pages && !changed; n++) {
      const next = await peer.snapshot(n);
      changed = checkCheckpoint(next.checkpoint).digest !== checkpoint.digest;
      store.log.stage(n, checkPage(next.page));
    }
    if (changed) continue;
    await fetchChunks(store, peer, checkpointChunks(store.log.stagedPages()).values());
    const { versionVector } = await peer.hello();
    if (!covers(versionVector, checkpoint.versionVector)) throw new CheckpointError("the peer's checkpoint covers ops the peer says it does not hold");
    return store.installSnapshot(checkpoint, versionVector);
  }
  throw new Error(`the peer's checkpoint changed during each of ${SNAPSHOT_FETCHES_MAX} fetches`);
}
