// A content manifest: the chunks of a file, in order, as packed 36-byte records
// (sha256 then the chunk's size as uint32 big-endian). Packed so that a 1 GiB file's manifest
// is one 72 KiB value that can be sliced without decoding.
import { assert } from './assert.ts';

export const HASH_BYTES = 32;
export const MANIFEST_RECORD_BYTES = HASH_BYTES + 4;

export interface ChunkRef {
  hash: Uint8Array;
  size: number;
}

export const EMPTY_MANIFEST = new Uint8Array(0);

export function manifestCount(manifest: Uint8Array): number {
  return manifest.length / MANIFEST_RECORD_BYTES;
}

export function manifestAt(manifest: Uint8Array, index: number): ChunkRef {
  const at = index * MANIFEST_RECORD_BYTES;
  assert(at + MANIFEST_RECORD_BYTES <= manifest.length, `manifest index ${index} out of range`);
  const view = new DataView(manifest.buffer, manifest.byteOffset + at + HASH_BYTES, 4);
  return { hash: manifest.subarray(at, at + HASH_BYTES), size: view.getUint32(0) };
}

export function packManifest(chunks: readonly ChunkRef[]): Uint8Array {
  const out = new Uint8Array(chunks.length * MANIFEST_RECORD_BYTES);
  const view = new DataView(out.buffer);
  chunks.forEach((chunk, i) => {
    assert(chunk.hash.length === HASH_BYTES, 'chunk hash must be 32 bytes');
    out.set(chunk.hash, i * MANIFEST_RECORD_BYTES);
    view.setUint32(i * MANIFEST_RECORD_BYTES + HASH_BYTES, chunk.size);
  });
  return out;
}

export function unpackManifest(manifest: Uint8Array): ChunkRef[] {
  return Array.from({ length: manifestCount(manifest) }, (_, i) => manifestAt(manifest, i));
}
