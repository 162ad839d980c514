// A replica's position: its version vector {origin -> max contiguous seq} and an
// order-independent fingerprint of its op set (XOR of sha256 of each op's canonical bytes;
// ops are unique by (origin, seq), so XOR is a set hash).
import { hash } from 'node:crypto';
import { isOrigin } from './ids.ts';
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

/** `origin:seq,origin:seq` sorted by origin: one string form for logs and CLIs. */
export function formatVersionVector(vv: VersionVector): string {
  return Object.keys(vv).sort().map((origin) => `${origin}:${vv[origin]}`).join(',');
}

export function parseVersionVector(text: string): VersionVector {
  const vv: VersionVector = {};
  if (text.trim() === '') return vv;
  for (const part of text.split(',')) {
    const [origin, seqText] = part.split(':');
    const seq = Number(seqText);
    if (!isOrigin(origin) || !Number.isInteger(seq) || seq < 0) throw new TypeError(`bad version vector entry ${JSON.stringify(part)}`);
    vv[origin] = seq;
  }
  return vv;
}

/** True when `a` has seen everything `b` has. */
export function covers(a: VersionVector, b: VersionVector): boolean {
  return Object.entries(b).every(([origin, seq]) => (a[origin] ?? 0) >= seq);
}
