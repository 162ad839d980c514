// A replica's position: its version vector {origin -> max contiguous seq} and an
// order-independent fingerprint of its op set (XOR of sha256 of each op's canonical bytes;
// ops are unique by (origin, seq), so XOR is a set hash).
import { hash } from 'node:crypto';
import { HASH_BYTES } from './manifest.ts';

export type VersionVector = Record<string, number>;

export interface Cursor {
  versionVector: VersionVector;
  /** hex of the 32-byte fingerprint */
  fingerprint: string;
}

export const EMPTY_FINGERPRINT = '0'.repeat(HASH_BYTES * 2);

export function opDigest(bytes: Uint8Array): Buffer {
  return hash('sha256', bytes, 'buffer') as unknown as Buffer;
}

export function xorInto(acc: Uint8Array, digest: Uint8Array): void {
  for (let i = 0; i < HASH_BYTES; i++) acc[i]! ^= digest[i]!;
}

