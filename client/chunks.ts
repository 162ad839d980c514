// Fetching chunks from a peer: the ones this replica lacks, hash-checked as they land, in
// batches the peer answers whole (each under the chunk message budget), a few in flight.
import { CHUNK_BYTES, hex, SYNC_CHUNK_BYTES_MAX, SYNC_HASHES_MAX, type ChunkRef } from '../log/index.ts';
import type { Store, SyncPeer } from '../projections/index.ts';

/** How many chunk batches a puller keeps in flight. */
const CHUNK_FETCHES_IN_FLIGHT = 4;

/**
 * Fetches the chunks this replica lacks among `chunks`. A chunk's size (from a manifest) sizes
 * the batches; a bare hash counts as a whole chunk.
 */
export async function fetchChunks(store: Store, peer: SyncPeer, chunks: Iterable<ChunkRef | Uint8Array>): Promise<void> {
  const missing = new Map<string, ChunkRef>();
  for (const chunk of chunks) {
    const ref = chunk instanceof Uint8Array ? { hash: chunk, size: CHUNK_BYTES } : chunk;
    if (!store.chunks.has(ref.hash)) missing.set(hex(ref.hash), ref);
  }
  const batches: Uint8Array[][] = [];
  let bytes = Infinity;
  for (const { hash, size } of missing.values()) {
    if (bytes + size > SYNC_CHUNK_BYTES_MAX || batches.at(-1)!.length === SYNC_HASHES_MAX) {
      batches.push([]);
      bytes = 0;
    }
    batches.at(-1)!.push(hash);
    bytes += size;
  }
  const fetchBatch = async (batch: Uint8Array[]) => {
    for (let wanted = batch; wanted.length > 0;) {
      const got = await peer.chunks(wanted);
      if (got.length === 0) throw new Error('peer sent no chunks');
      got.forEach((data, i) => store.chunks.putVerified(wanted[i]!, data));
      wanted = wanted.slice(got.length);
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < batches.length) await fetchBatch(batches[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(CHUNK_FETCHES_IN_FLIGHT, batches.length) }, worker));
}
