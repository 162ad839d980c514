// The sync surface of a replica, the same over WebSocket and HTTP batch (capnweb). A peer
// learns the replica's cursor (hello), pulls ops after its own version vector in bounded pages,
// fetches the chunks those ops name (one chunk per call), and pushes its own ops after sending
// the chunks the replica lacks (want). A peer behind the replica's checkpoint fetches it page by
// page (snapshot). Every argument is checked; a bad call changes nothing. Peers reach it through
// syncSession: exactly SYNC_METHODS, nothing else of the object.
import type { RpcStub } from 'capnweb';
import {
  decodeOp, hex, isOrigin, MissingChunkError, SYNC_CHUNK_BYTES_MAX, SYNC_HASHES_MAX, SYNC_PAGE_BYTES_MAX, SYNC_PAGE_OPS_MAX,
  unpackManifest, HASH_BYTES, CHUNK_BYTES, type Checkpoint, type ChunkRef, type Op, type VersionVector,
} from '../log/index.ts';
import type { Store } from '../projections/index.ts';
import { rpcSession, type Session } from './rpc-surface.ts';

/** The sync surface, exactly (README "wsd", spec/protocol.md). */
export const SYNC_METHODS = ['hello', 'pull', 'chunks', 'want', 'putChunk', 'push', 'subscribe', 'snapshot'] as const;

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

function checkBytesArray(value: unknown, what: string, max: number, each: (bytes: Uint8Array) => void = () => {}): Uint8Array[] {
  if (!Array.isArray(value) || value.length > max) throw new RpcInputError(`${what} must be an array of at most ${max} byte arrays`);
  for (const item of value) {
    if (!(item instanceof Uint8Array)) throw new RpcInputError(`${what} must hold byte arrays`);
    each(item);
  }
  return value as Uint8Array[];
}

const checkHash = (hash: Uint8Array) => {
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

/** The sync calls over a store; in process it is a SyncPeer, over capnweb a syncSession. */
export class SyncService {
  private readonly store: Store;
  private readonly subscribers = new Set<RpcStub<() => void>>();
  private readonly unsubscribe: () => void;

  constructor(store: Store) {
    this.store = store;
    this.unsubscribe = store.onCommit(() => this.announce());
  }

  hello(): Hello {
    const { versionVector, fingerprint } = this.store.log.cursor();
    return { replica: this.store.origin, versionVector, fingerprint, ops: this.store.log.count() };
  }

  pull(after: unknown): Page {
    return pageAfter(this.store, checkVersionVector(after));
  }

  /**
   * Chunk bytes by hash, for a peer that pulled ops naming them: the longest prefix of the list
   * that fits the message budget, at least one chunk; the caller asks again for the rest.
   */
  chunks(hashes: unknown): Uint8Array[] {
    const wanted = checkBytesArray(hashes, 'hashes', SYNC_HASHES_MAX, checkHash);
    const out: Uint8Array[] = [];
    let bytes = 0;
    for (const hash of wanted) {
      const data = this.store.chunks.get(hash);
      if (out.length > 0 && bytes + data.length > SYNC_CHUNK_BYTES_MAX) break;
      out.push(data);
      bytes += data.length;
    }
    return out;
  }

  /** Of these hashes, the ones this replica lacks. */
  want(hashes: unknown): Uint8Array[] {
    return checkBytesArray(hashes, 'hashes', SYNC_HASHES_MAX, checkHash).filter((hash) => !this.store.chunks.has(hash));
  }

  /** Stores a chunk after checking its bytes against its hash. */
  putChunk(hash: unknown, data: unknown): void {
    const [h] = checkBytesArray([hash], 'hash', 1, checkHash);
    const [d] = checkBytesArray([data], 'chunk', 1, (bytes) => {
      if (bytes.length > CHUNK_BYTES) throw new RpcInputError(`a chunk is at most ${CHUNK_BYTES} bytes`);
    });
    this.store.chunks.putVerified(h!, d!);
  }

  /** Ingests a page of ops; every chunk they name must be here already. All or nothing. */
  push(ops: unknown): Hello {
    const decoded = checkBytesArray(ops, 'ops', SYNC_PAGE_OPS_MAX).map((bytes) => decodeOp(bytes));
    for (const op of decoded) {
      for (const { hash } of opChunks(op)) if (!this.store.chunks.has(hash)) throw new MissingChunkError(hex(hash));
    }
    this.store.ingest(decoded);
    return this.hello();
  }

  /**
   * Page `n` of this replica's checkpoint, for a peer that pull() told to load it
   * (SnapshotRequiredError); the checkpoint's digest tells the peer if it changed between pages.
   */
  snapshot(n: unknown): SnapshotPage {
    const checkpoint = this.store.log.checkpoint;
    if (!checkpoint) throw new RpcInputError('this replica has no checkpoint');
    if (!Number.isSafeInteger(n) || (n as number) < 0 || (n as number) >= checkpoint.pages) throw new RpcInputError(`the checkpoint has pages 0..${checkpoint.pages - 1}, not ${String(n)}`);
    return { checkpoint, page: this.store.log.checkpointPage(n as number)! };
  }

  /** Calls `onNews` whenever this replica commits ops, until the caller goes away. */
  subscribe(onNews: RpcStub<() => void>): void {
    if (typeof onNews !== 'function') throw new RpcInputError('subscribe wants a callback');
    this.subscribers.add(onNews.dup());
  }

  private announce(): void {
    for (const subscriber of this.subscribers) {
      subscriber().catch(() => {
        this.subscribers.delete(subscriber);
        subscriber[Symbol.dispose]();
      });
    }
  }

  close(): void {
    this.unsubscribe();
    for (const subscriber of this.subscribers) subscriber[Symbol.dispose]();
    this.subscribers.clear();
  }
}

/** A capnweb session of the sync surface over a store. */
export function syncSession(store: Store): Session {
  return rpcSession(new SyncService(store), SYNC_METHODS);
}
