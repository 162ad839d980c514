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

/**
 * The replica holding a checkpoint cannot serve a peer from behind it, nor take an op that sorts
 * inside it: the peer must load the checkpoint (snapshot) and rebase its own unsent ops.
 */
export class SnapshotRequiredError extends Error {
  override name = 'SnapshotRequiredError';
  readonly code = 'ESNAPSHOT';
  /** the checkpoint's cut */
  readonly ts: string;
  readonly versionVector: VersionVector;
  constructor(checkpoint: { ts: string; versionVector: VersionVector }, why: string) {
    super(`snapshot required: ${why} (this replica's checkpoint covers every op up to ${checkpoint.ts})`);
    this.ts = checkpoint.ts;
    this.versionVector = checkpoint.versionVector;
  }
}

/**
 * The other side of SnapshotRequiredError: ops pulled from a peer sort inside this replica's
 * checkpoint. Loading anything here does not help; the peer loads this checkpoint when it syncs.
 */
export class PeerNeedsSnapshotError extends Error {
  override name = 'PeerNeedsSnapshotError';
  readonly code = 'EPEERSNAPSHOT';
  constructor(cause: SnapshotRequiredError) {
    super(`the peer must load this replica's checkpoint: ${cause.message}`, { cause });
  }
}

/** Whether `vv` holds every op `cover` does. */
export function covers(vv: VersionVector, cover: VersionVector): boolean {
  return Object.entries(cover).every(([origin, seq]) => (vv[origin] ?? 0) >= seq);
}
