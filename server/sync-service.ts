// The sync surface of a replica, the same over WebSocket and HTTP batch (capnweb). A peer
// learns the replica's cursor (hello), pulls ops after its own version vector in bounded pages,
// fetches the chunks those ops name (one chunk per call), and pushes its own ops after sending
// the chunks the replica lacks (want). A peer behind the replica's checkpoint fetches it page by
// page (snapshot). Every argument is checked; a bad call changes nothing. Peers reach it through
// syncSession: exactly SYNC_METHODS, nothing else of the object.
import type { RpcStub } from 'capnweb';
import { CHUNK_BYTES, decodeOp, hex, MissingChunkError, SYNC_CHUNK_BYTES_MAX, SYNC_HASHES_MAX, SYNC_PAGE_OPS_MAX } from '../log/index.ts';
import {
  checkBytesArray, checkHash, checkVersionVector, opChunks, pageAfter, RpcInputError,
  type Hello, type Page, type SnapshotPage, type Store, type SyncPeer,
} from '../projections/index.ts';
import { rpcSession, type Session } from './rpc-surface.ts';

/** The sync surface, exactly (README "wsd", spec/protocol.md). */
export const SYNC_METHODS = ['hello', 'pull', 'chunks', 'want', 'putChunk', 'push', 'subscribe', 'snapshot'] as const;

export class SyncService implements SyncPeer {
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
  chunks(hashes: unknown): Uint8Array[] | Promise<Uint8Array[]> {
    return this.withChunks(() => this.#chunksNow(hashes));
  }

  /**
   * Runs a call that reads chunk bytes. Here, as it is; a replica whose chunk bytes may be
   * elsewhere (the Durable Object with R2) fetches those the call needs and runs it again.
   */
  protected withChunks<T>(call: () => T): T | Promise<T> {
    return call();
  }

  #chunksNow(hashes: unknown): Uint8Array[] {
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
