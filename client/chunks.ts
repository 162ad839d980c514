// Fetching chunks from a peer: the ones this replica lacks, hash-checked, in message-sized batches.
import { hex, SYNC_HASHES_MAX } from '../log/index.ts';
import type { Store } from '../projections/index.ts';
import type { SyncPeer } from './sync.ts';

/** Fetches the chunks this replica lacks among `hashes`, hash-checked, in message-sized batches. */
export async function fetchChunks(store: Store, peer: SyncPeer, hashes: Iterable<Uint8Array>): Promise<void> {
  const missing = new Map<string, Uint8Array>();
  for (const hash of hashes) if (!store.chunks.has(hash)) missing.set(hex(hash), hash);
  for (let wanted = [...missing.values()]; wanted.length > 0;) {
    const got = await peer.chunks(wanted.slice(0, SYNC_HASHES_MAX));
    if (got.length === 0) throw new Error('peer sent no chunks');
    got.forEach((data, i) => store.chunks.putVerified(wanted[i]!, data));
    wanted = wanted.slice(got.length);
  }
}
