// A per-inode write buffer: the open file's content as committed content plus the chunks
// changed since. Handles on one inode share it; reads and getattr see it; committing seals it
// into one manifest (storing only chunks that changed; a chunk of zeros becomes a hole). Dirty
// chunks beyond a byte budget are spilled to the chunk store (pinned until committed) so a large
// file never sits in RAM. Every loop runs over chunks held (written, spilled or in the base
// manifest), never over the file's size: growing a file to 1 TiB costs nothing.
import {
  assert, CHUNK_BYTES, EMPTY_MANIFEST, manifestAt, manifestBytes, manifestCount, manifestFind, packManifest, sha256,
  WRITE_BUFFER_BYTES_MAX, ZERO_CHUNK, type Actor, type ChunkRef, type ChunkStore, type ManifestEntry, type Ref,
} from '../log/index.ts';
import { readManifest } from './reader.ts';

const ZERO_CHUNK_HASH = sha256(ZERO_CHUNK);
const EMPTY = new Uint8Array(0);
const isZero = (data: Uint8Array) => Buffer.compare(data, ZERO_CHUNK.subarray(0, data.length)) === 0;

export class WriteBuffer {
  readonly ino: number;
  /** the setContent op this buffer's content is based on, or null for a never-written file */
  baseRef: Ref | null;
  size: number;
  changed = false;
  handles = 0;
  /** the last writer, recorded as the actor of the commit */
  actor: Actor;
  private base: Uint8Array;
  /** base chunks at index >= this were cut off by a truncate and read as zeros */
  private baseLimit: number;
  private readonly dirty = new Map<number, Uint8Array>();
  /** dirty chunks whose bytes past the buffer's length are still the base chunk's (see writable) */
  private readonly overBase = new Set<number>();
  private readonly spilled = new Map<number, ChunkRef>();
  private readonly chunks: ChunkStore;
  private readonly budgetBytes: number;

  constructor(ino: number, base: { ref: Ref; size: number; manifest: Uint8Array } | null, chunks: ChunkStore, actor: Actor, budgetBytes = WRITE_BUFFER_BYTES_MAX) {
    this.ino = ino;
    this.baseRef = base?.ref ?? null;
    this.size = base?.size ?? 0;
    this.base = base?.manifest ?? EMPTY_MANIFEST;
    this.baseLimit = Math.ceil(this.size / CHUNK_BYTES);
    this.chunks = chunks;
    this.actor = actor;
    this.budgetBytes = budgetBytes;
  }

  get dirtyBytes(): number {
    return this.dirty.size * CHUNK_BYTES;
  }

  /** At most the bytes the content's data chunks hold (st_blocks); holes hold none. */
  get allocatedBytes(): number {
    return Math.min(this.size, manifestBytes(this.base) + (this.dirty.size + this.spilled.size) * CHUNK_BYTES);
  }

  /** Chunk `index` as at least its current length in bytes (zeros where nothing was written). */
  private chunk(index: number): Uint8Array {
    const extent = Math.min(CHUNK_BYTES, this.size - index * CHUNK_BYTES);
    const dirty = this.dirty.get(index);
    if (dirty) return dirty.length >= extent ? dirty : this.writable(index, extent);
    const spilled = this.spilled.get(index);
    if (spilled) return this.chunks.get(spilled.hash);
    return this.baseChunk(index, extent);
  }

  /** Chunk `index` as the base manifest holds it, at least `extent` bytes (zeros past its end). */
  private baseChunk(index: number, extent: number): Uint8Array {
    const ref = index < this.baseLimit ? manifestFind(this.base, index) : undefined;
    if (!ref) return ZERO_CHUNK;
    const data = this.chunks.get(ref.hash);
    if (data.length >= extent) return data;
    const padded = new Uint8Array(extent);
    padded.set(data);
    return padded;
  }

  /**
   * Chunk `index` as a dirty buffer of at least `end` bytes, for a write of [writeFrom, end) or
   * (writeFrom omitted) to be read whole. Dirty buffers grow as they are written (doubling, up
   * to a chunk): a 100-byte file holds 100 bytes, not a zero-filled 512 KiB chunk, which
   * allocating and collecting made the largest cost of small writes. Bytes past the buffer's
   * length read as zeros, like a hole, or, for a chunk in `overBase`, as the base chunk's.
   */
  private writable(index: number, end: number, writeFrom = Infinity): Uint8Array {
    const held = this.dirty.get(index);
    if (held && held.length >= end) return held;
    const heldBytes = held?.length ?? 0;
    // A write from the start of a committed chunk, or on from where such writes reached, replaces
    // the bytes under it: the base chunk is not read (fetched and hashed) unless something else
    // needs it, so overwriting a file in order never reads what it replaces.
    const lazy = (held ? this.overBase.has(index) : writeFrom === 0 && !this.spilled.has(index) && index * CHUNK_BYTES < this.size) && writeFrom <= heldBytes;
    let from: Uint8Array;
    if (lazy) from = held ?? EMPTY;
    else if (held) from = this.overBase.has(index) ? this.underlay(index, held) : held;
    else from = index * CHUNK_BYTES < this.size ? this.chunk(index) : EMPTY;
    // Over a base the length is how far writes reached (the base's bytes lie past it), so no
    // doubling; otherwise a buffer reaching a quarter chunk is a large file's: the whole chunk
    // at once, not three allocations and copies on the way (128 KiB FUSE writes).
    const grown = lazy ? end : end >= CHUNK_BYTES / 4 ? CHUNK_BYTES : Math.max(end, 2 * heldBytes);
    const data = new Uint8Array(Math.min(CHUNK_BYTES, Math.max(grown, from.length)));
    data.set(from.subarray(0, data.length));
    const spilled = this.spilled.get(index);
    if (spilled) {
      this.spilled.delete(index);
      this.chunks.unpin(spilled.hash);
    }
    this.dirty.set(index, data);
    if (lazy) this.overBase.add(index);
    else this.overBase.delete(index);
    return data;
  }

  /** The base chunk's bytes with a held prefix written over them. */
  private underlay(index: number, held: Uint8Array): Uint8Array {
    const base = this.baseChunk(index, 0);
    const data = new Uint8Array(Math.max(base.length, held.length));
    data.set(base);
    data.set(held);
    return data;
  }

  read(offset: number, length: number, into?: Uint8Array): Uint8Array {
    return readManifest(this.size, offset, length, (index) => this.chunk(index), into);
  }

  write(offset: number, data: Uint8Array): void {
    for (let at = 0; at < data.length;) {
      const index = Math.floor((offset + at) / CHUNK_BYTES);
      const within = offset + at - index * CHUNK_BYTES;
      const n = Math.min(data.length - at, CHUNK_BYTES - within);
      this.writable(index, within + n, within).set(data.subarray(at, at + n), within);
      at += n;
    }
    this.size = Math.max(this.size, offset + data.length);
    this.changed = true;
    if (this.dirtyBytes > this.budgetBytes) this.spill();
  }

  truncate(size: number): void {
    if (size < this.size) {
      const keep = Math.ceil(size / CHUNK_BYTES);
      for (const index of [...this.dirty.keys()]) {
        if (index < keep) continue;
        this.dirty.delete(index);
        this.overBase.delete(index);
      }
      for (const [index, ref] of [...this.spilled]) {
        if (index < keep) continue;
        this.spilled.delete(index);
        this.chunks.unpin(ref.hash);
      }
      const within = size % CHUNK_BYTES;
      // Over a base, the whole chunk: the zeros must reach past the written prefix.
      if (within !== 0) this.writable(keep - 1, this.overBase.has(keep - 1) ? CHUNK_BYTES : within).fill(0, within);
      this.baseLimit = Math.min(this.baseLimit, keep);
    }
    this.size = size;
    this.changed = true;
  }

  /** Moves full dirty chunks to the chunk store; they stay pinned until the next seal. */
  private spill(): void {
    for (const index of [...this.dirty.keys()]) {
      if ((index + 1) * CHUNK_BYTES > this.size) continue;
      const hash = this.chunks.put(this.chunk(index));
      this.chunks.pin(hash);
      this.spilled.set(index, { hash, size: CHUNK_BYTES });
      this.dirty.delete(index);
      this.overBase.delete(index);
    }
  }

  /** Stores changed chunks and returns the new manifest; the buffer is then clean over it. */
  seal(): { size: number; manifest: Uint8Array } {
    const count = Math.ceil(this.size / CHUNK_BYTES);
    const held = [...this.dirty.keys(), ...this.spilled.keys()];
    for (let at = 0; at < manifestCount(this.base); at++) {
      const { index } = manifestAt(this.base, at);
      if (index >= this.baseLimit) break;
      if (!this.dirty.has(index) && !this.spilled.has(index)) held.push(index);
    }
    const entries: ManifestEntry[] = [];
    for (const index of held.sort((a, b) => a - b)) {
      assert(index < count, `chunk ${index} is past the end`);
      const entry = this.sealed(index, Math.min(CHUNK_BYTES, this.size - index * CHUNK_BYTES));
      if (entry) entries.push(entry);
    }
    const manifest = packManifest(entries);
    this.discard();
    this.base = manifest;
    this.baseLimit = count;
    this.changed = false;
    return { size: this.size, manifest };
  }

  /** The manifest entry of a held chunk of `length` bytes, or undefined when it is all zeros. */
  private sealed(index: number, length: number): ManifestEntry | undefined {
    const spilled = this.spilled.get(index);
    if (spilled) {
      assert(spilled.size === length, `spilled chunk ${index} is not full`);
      return Buffer.compare(spilled.hash, ZERO_CHUNK_HASH) === 0 ? undefined : { index, ...spilled };
    }
    if (!this.dirty.has(index)) {
      const ref = manifestFind(this.base, index)!;
      if (ref.size === length) return ref;
    }
    const data = this.chunk(index).subarray(0, length);
    return isZero(data) ? undefined : { index, hash: this.chunks.put(data), size: length };
  }

  /** Drops dirty state and releases pins (after a seal, or when abandoning the buffer). */
  discard(): void {
    this.dirty.clear();
    this.overBase.clear();
    for (const ref of this.spilled.values()) this.chunks.unpin(ref.hash);
    this.spilled.clear();
  }
}
