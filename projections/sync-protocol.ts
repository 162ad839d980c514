// The sync protocol, in one module that both sides import (wsd's SyncService, the Durable
// Object, the sync client): the messages, the surface a peer offers (SyncPeer), the checks every
// argument from a peer goes through, and the paging that both pull and push use. The exchange
// itself is described in spec/protocol.md.
import {
  HASH_BYTES, isOrigin, SYNC_PAGE_BYTES_MAX, SYNC_PAGE_OPS_MAX, unpackManifest,
  type Checkpoint, type ChunkRef, type Op, type VersionVector,
} from '../log/index.ts';
import type { Store } from './store.ts';

export interface Hello {
  replica: string;
  versionVector: VersionVector;
  fingerprint: string;
  ops: number;
}

export interface Page {
  /** canonical op bytes, in timestamp order; each origin's ops contiguous after the cursor */
  ops: Uint8Array[];
  more: boolean;
}

/** One page of a replica's checkpoint, with the checkpoint it belongs to. */
export interface SnapshotPage {
  checkpoint: Checkpoint;
  page: Uint8Array;
}

/** A bad argument to an RPC call (sync or wsd): rejected before anything changes. */
export class RpcInputError extends TypeError {
  override name = 'RpcInputError';
  readonly code = 'EINVAL';
}

export function checkVersionVector(value: unknown): VersionVector {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new RpcInputError('version vector must be an object {origin: seq}');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 1_000_000) throw new RpcInputError('version vector too large');
  for (const [origin, seq] of entries) {
    if (!isOrigin(origin) || !Number.isSafeInteger(seq) || (seq as number) < 0) throw new RpcInputError(`bad version vector entry ${origin}: ${String(seq)}`);
  }
  return value as VersionVector;
}

export function checkBytesArray(value: unknown, what: string, max: number, each: (bytes: Uint8Array) => void = () => {}): Uint8Array[] {
  if (!Array.isArray(value) || value.length > max) throw new RpcInputError(`${what} must be an array of at most ${max} byte arrays`);
  for (const item of value) {
    if (!(item instanceof Uint8Array)) throw new RpcInputError(`${what} must hold byte arrays`);
    each(item);
  }
  return value as Uint8Array[];
}

export const checkHash = (hash: Uint8Array) => {
  if (hash.length !== HASH_BYTES) throw new RpcInputError('a chunk hash is 32 bytes');
};

/** The chunks an op names (setContent manifests): hash and size. */
export function opChunks(op: Op): ChunkRef[] {
  return op.kind === 'setContent' ? unpackManifest(op.manifest) : [];
}

/**
 * One page of ops the holder of `after` lacks, bounded in count and bytes. Ops leave a replica
 * only once committed: with group commit a crash could otherwise reuse a seq a peer already holds.
 */
export function pageAfter(store: Store, after: VersionVector): Page {
  store.sync();
  const stored = store.log.after(after, SYNC_PAGE_OPS_MAX + 1);
  const ops: Uint8Array[] = [];
  let bytes = 0;
  for (const { bytes: op } of stored) {
    if (ops.length === SYNC_PAGE_OPS_MAX || (ops.length > 0 && bytes + op.length > SYNC_PAGE_BYTES_MAX)) break;
    ops.push(op);
    bytes += op.length;
  }
  return { ops, more: ops.length < stored.length };
}

/** The sync surface as a caller sees it: a capnweb stub of a replica's service, or the service itself. */
export interface SyncPeer {
  hello(): Promise<Hello> | Hello;
  pull(after: VersionVector): Promise<Page> | Page;
  chunks(hashes: Uint8Array[]): Promise<Uint8Array[]> | Uint8Array[];
  want(hashes: Uint8Array[]): Promise<Uint8Array[]> | Uint8Array[];
  putChunk(hash: Uint8Array, data: Uint8Array): Promise<void> | void;
  push(ops: Uint8Array[]): Promise<Hello> | Hello;
  snapshot(n: number): Promise<SnapshotPage> | SnapshotPage;
}
