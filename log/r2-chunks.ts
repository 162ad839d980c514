// Chunk bytes in an R2 bucket, for the Durable Object replica: a chunk is written to the object's
// SQLite first (in the op's transaction, like everywhere), then moved to the bucket, keyed by its
// hash (stored once), leaving only its hash and size in SQLite; a workspace is then not capped by
// the object's storage. Reads are synchronous, so a call that meets a chunk not in memory fails
// with ChunkNotLoadedError, rolls back, and runs again once the chunk is fetched (withChunks).
import { ChunkNotLoadedError, hex, type ChunkStore } from './chunk-store.ts';

/** The part of an R2 bucket binding used here. */
export interface Bucket {
  put(key: string, value: Uint8Array, options?: { sha256?: ArrayBuffer | string }): Promise<unknown>;
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
}

/** Chunks moved to the bucket per pass before the next look at the table. */
const OFFLOAD_BATCH = 8;
/** Chunk fetches one call may need before it is given up (a read is bounded by DO_READ_BYTES_MAX). */
const FETCHES_PER_CALL_MAX = 256;

export const chunkKey = (hash: Uint8Array) => `chunks/${hex(hash)}`;

export class R2Chunks {
  private readonly bucket: Bucket;
  private readonly chunks: ChunkStore;
  private moving: Promise<void> | null = null;
  private again = false;
  /** the last failure to move chunks, kept for stats; they stay in SQLite and move on the next pass */
  lastError: string | null = null;

  constructor(bucket: Bucket, chunks: ChunkStore) {
    this.bucket = bucket;
    this.chunks = chunks;
  }

  /** Moves every chunk whose bytes are in SQLite to the bucket; one pass at a time. */
  offload(): Promise<void> {
    if (this.moving) {
      this.again = true;
      return this.moving;
    }
    // Cleared once the pass settles, which is after this assignment even when it has nothing to move.
    this.moving = this.move().finally(() => {
      this.moving = null;
    });
    return this.moving;
  }

  private async move(): Promise<void> {
    try {
      do {
        this.again = false;
        for (let batch = this.chunks.local(OFFLOAD_BATCH); batch.length > 0; batch = this.chunks.local(OFFLOAD_BATCH)) {
          for (const { hash, data } of batch) {
            await this.bucket.put(chunkKey(hash), data, { sha256: hex(hash) });
            this.chunks.offloaded(hash);
          }
        }
      } while (this.again);
      this.lastError = null;
    } catch (error) {
      this.lastError = error instanceof Error ? error.message : String(error);
    }
  }

  /** Fetches a chunk's bytes from the bucket into memory. */
  async fetch(hash: Uint8Array): Promise<void> {
    const object = await this.bucket.get(chunkKey(hash));
    if (!object) throw new Error(`chunk ${hex(hash)} is in neither the Durable Object nor its R2 bucket`);
    this.chunks.load(hash, new Uint8Array(await object.arrayBuffer()));
  }

  /**
   * Runs `call` (synchronous, all or nothing) until it stops meeting chunks that are not loaded,
   * fetching each one it meets.
   */
  async withChunks<T>(call: () => T | Promise<T>): Promise<T> {
    for (let fetches = 0; ; fetches++) {
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof ChunkNotLoadedError) || fetches === FETCHES_PER_CALL_MAX) throw error;
        await this.fetch(error.hash);
      }
    }
  }
}
