// A content manifest: the data chunks of a file, as packed 40-byte records in increasing chunk
// order (the chunk's index as uint32 big-endian, sha256, the chunk's size as uint32 big-endian).
// A chunk index without a record is a hole and reads as zeros, so a manifest costs what was
// written, not the file's size: a 1 TiB file with one byte at its end has one record. Packed so
// that a 1 GiB file's manifest is one 80 KiB value searched without decoding.
import { assert } from './assert.ts';
import { CHUNK_BYTES } from './limits.ts';

export const HASH_BYTES = 32;
export const MANIFEST_RECORD_BYTES = 4 + HASH_BYTES + 4;

export interface ChunkRef {
  hash: Uint8Array;
  size: number;
}

/** A data chunk of a file: bytes [index * CHUNK_BYTES, index * CHUNK_BYTES + size). */
export interface ManifestEntry extends ChunkRef {
  index: number;
}

export const EMPTY_MANIFEST = new Uint8Array(0);

/** What a hole reads as. Shared: callers only ever read from it. */
export const ZERO_CHUNK = new Uint8Array(CHUNK_BYTES);

/** The number of data chunks (records); holes have none. */
export function manifestCount(manifest: Uint8Array): number {
  return manifest.length / MANIFEST_RECORD_BYTES;
}

const view = (manifest: Uint8Array) => new DataView(manifest.buffer, manifest.byteOffset, manifest.length);

/** The `at`-th record. */
export function manifestAt(manifest: Uint8Array, at: number): ManifestEntry {
  const start = at * MANIFEST_RECORD_BYTES;
  assert(start + MANIFEST_RECORD_BYTES <= manifest.length, `manifest record ${at} out of range`);
  const data = view(manifest);
  return {
    index: data.getUint32(start),
    hash: manifest.subarray(start + 4, start + 4 + HASH_BYTES),
    size: data.getUint32(start + 4 + HASH_BYTES),
  };
}

/** The data chunk at chunk `index`, or undefined for a hole (binary search). */
export function manifestFind(manifest: Uint8Array, index: number): ManifestEntry | undefined {
  const data = view(manifest);
  for (let low = 0, high = manifestCount(manifest) - 1; low <= high;) {
    const mid = (low + high) >>> 1;
    const at = data.getUint32(mid * MANIFEST_RECORD_BYTES);
    if (at === index) return manifestAt(manifest, mid);
    if (at < index) low = mid + 1;
    else high = mid - 1;
  }
  return undefined;
}

/** Bytes the data chunks hold (what st_blocks counts); holes hold none. */
export function manifestBytes(manifest: Uint8Array): number {
  const count = manifestCount(manifest);
  if (count === 0) return 0;
  // the last record's size: its last four bytes, big-endian (read in place: every stat asks)
  const end = manifest.length;
  const last = manifest[end - 4]! * 0x1000000 + ((manifest[end - 3]! << 16) | (manifest[end - 2]! << 8) | manifest[end - 1]!);
  return (count - 1) * CHUNK_BYTES + last;
}

export function packManifest(entries: readonly ManifestEntry[]): Uint8Array {
  const out = new Uint8Array(entries.length * MANIFEST_RECORD_BYTES);
  const data = view(out);
  entries.forEach((entry, i) => {
    assert(entry.hash.length === HASH_BYTES, 'chunk hash must be 32 bytes');
    assert(i === 0 || entry.index > entries[i - 1]!.index, 'manifest entries must be in increasing chunk order');
    const start = i * MANIFEST_RECORD_BYTES;
    data.setUint32(start, entry.index);
    out.set(entry.hash, start + 4);
    data.setUint32(start + 4 + HASH_BYTES, entry.size);
  });
  return out;
}

export function unpackManifest(manifest: Uint8Array): ManifestEntry[] {
  return Array.from({ length: manifestCount(manifest) }, (_, i) => manifestAt(manifest, i));
}
