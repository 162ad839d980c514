// The sync client: exchanges ops with a peer replica (pull what it lacks, then push what the peer
// lacks, chunks before the ops that name them), once or continuously over a capnweb WebSocket.
import { newWebSocketRpcSession, type RpcStub } from 'capnweb';
import { WebSocket } from 'ws';
import { decodeOp, hex, PeerNeedsSnapshotError, SnapshotRequiredError, SYNC_HASHES_MAX, type VersionVector } from '../log/index.ts';
import { opChunks, pageAfter, type Hello, type Store, type SyncPeer } from '../projections/index.ts';
import { fetchChunks } from './chunks.ts';
import { loadSnapshot } from './snapshot.ts';

export interface SyncResult {
  pulled: number;
  pushed: number;
  remote: Hello;
  /** set when the peer's checkpoint was loaded first: how many of this replica's ops were rebased */
  snapshot?: { rebased: number };
}

/**
 * One full exchange with a peer. Re-running it is harmless: both sides skip what they hold. A
 * peer that answers "snapshot required" (this replica is behind its checkpoint, or holds ops that
 * sort inside it) has its checkpoint loaded, and the exchange runs again.
 */
export async function syncOnce(store: Store, peer: SyncPeer): Promise<SyncResult> {
  try {
    return await exchange(store, peer);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ESNAPSHOT') throw error;
  }
  const rebased = await loadSnapshot(store, peer);
  return { ...await exchange(store, peer), snapshot: { rebased } };
}

/**
 * Runs a step of the exchange on this replica. Its own checkpoint refusing (pulled ops sort inside
 * it, or the peer is behind it) means the peer must load this checkpoint, not the other way round.
 */
function local<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof SnapshotRequiredError) throw new PeerNeedsSnapshotError(error);
    throw error;
  }
}

async function exchange(store: Store, peer: SyncPeer): Promise<SyncResult> {
  let pulled = 0;
  // The next page is asked for as soon as a page arrives, so the peer prepares it while this
  // replica stores the current one; the cursor after a page is known without storing it.
  const cursor = store.log.versionVector();
  let next = Promise.resolve(peer.pull(cursor));
  for (;;) {
    const page = await next;
    const ops = page.ops.map((bytes) => decodeOp(bytes));
    if (page.more) {
      for (const op of ops) cursor[op.origin] = Math.max(cursor[op.origin] ?? 0, op.seq);
      next = Promise.resolve(peer.pull({ ...cursor }));
      next.catch(() => {}); // awaited next round; a failure here must not go unhandled meanwhile
    }
    await fetchChunks(store, peer, ops.flatMap(opChunks));
    pulled += local(() => store.ingest(ops));
    if (!page.more) break;
  }
  let pushed = 0;
  let remote = await peer.hello();
  for (;;) {
    const page = local(() => pageAfter(store, remote.versionVector));
    if (page.ops.length === 0) break;
    const hashes = new Map<string, Uint8Array>();
    for (const bytes of page.ops) for (const { hash } of opChunks(decodeOp(bytes, true))) hashes.set(hex(hash), hash);
    const all = [...hashes.values()];
    for (let at = 0; at < all.length; at += SYNC_HASHES_MAX) {
      for (const hash of await peer.want(all.slice(at, at + SYNC_HASHES_MAX))) await peer.putChunk(hash, store.chunks.get(hash));
    }
    remote = await peer.push(page.ops);
    pushed += page.ops.length;
  }
  return { pulled, pushed, remote };
}

export interface SyncState {
  url: string;
  connected: boolean;
  /** ops the peer has that this replica lacks, as of the last exchange */
  lagOps: number;
  local: VersionVector;
  remote: VersionVector | null;
  pulled: number;
  pushed: number;
  lastError: string | null;
  lastSyncAt: number | null;
}

interface RemoteSync extends SyncPeer {
  subscribe(onNews: () => void): Promise<void>;
}

const BACKOFF_MS_MIN = 100;
const BACKOFF_MS_MAX = 5_000;

/**
 * Keeps a store in step with an upstream replica: syncs on connect, when the store commits and
 * when the upstream announces news; reconnects with exponential backoff.
 */
export class SyncClient {
  readonly url: string;
  private readonly token: string | null;
  private readonly store: Store;
  private session: RpcStub<RemoteSync> | null = null;
  private socket: WebSocket | null = null;
  private running = false;
  private pending = false;
  private stopped = true;
  private backoffMs = BACKOFF_MS_MIN;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private readonly waiters: Array<() => void> = [];
  private readonly status: Omit<SyncState, 'local' | 'lagOps'>;

  /** `token`: sent as `Authorization: Bearer` when the upstream wants one (wsd's WSD_TOKEN). */
  constructor(store: Store, url: string, options: { token?: string | null } = {}) {
    this.store = store;
    this.url = url;
    this.token = options.token ?? null;
    this.status = { url, connected: false, remote: null, pulled: 0, pushed: 0, lastError: null, lastSyncAt: null };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unsubscribe = this.store.onCommit(() => this.kick());
    this.connect();
  }

  /** Stops syncing: closes the connection (an exchange in flight fails and ends) and waits for it. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.disconnect();
    while (this.running) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  state(): SyncState {
    const local = this.store.log.versionVector();
    const remote = this.status.remote;
    const lagOps = remote ? Object.entries(remote).reduce((sum, [origin, seq]) => sum + Math.max(0, seq - (local[origin] ?? 0)), 0) : 0;
    return { ...this.status, local, lagOps };
  }

  /** Resolves after the next exchange that completes. */
  synced(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.kick();
    });
  }

  private connect(): void {
    if (this.stopped) return;
    const socket = new WebSocket(this.url, { headers: this.token ? { authorization: `Bearer ${this.token}` } : {} });
    const session = newWebSocketRpcSession<RemoteSync>(socket as unknown as globalThis.WebSocket);
    this.session = session;
    this.socket = socket;
    session.onRpcBroken((error: unknown) => this.broken(session, error));
    session.subscribe(() => this.kick()).then(
      () => {
        this.status.connected = true;
        this.kick();
      },
      (error: unknown) => this.broken(session, error),
    );
  }

  /** Ends the session and closes its socket, which fails any call in flight at once. */
  private disconnect(): void {
    const session = this.session;
    this.session = null;
    this.status.connected = false;
    session?.[Symbol.dispose]();
    this.socket?.terminate();
    this.socket = null;
  }

  private broken(session: RpcStub<RemoteSync>, error: unknown): void {
    if (session !== this.session) return;
    this.status.lastError = error instanceof Error ? error.message : String(error);
    this.disconnect();
    if (this.stopped) return;
    this.reconnectTimer = setTimeout(() => this.connect(), this.backoffMs);
    this.reconnectTimer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MS_MAX);
  }

  /** Runs exchanges one at a time; a kick during one runs another after it. */
  private kick(): void {
    if (!this.session || !this.status.connected) return;
    this.pending = true;
    if (this.running) return;
    this.running = true;
    void (async () => {
      let waiters: Array<() => void> = [];
      try {
        while (this.pending && this.session && !this.stopped) {
          this.pending = false;
          waiters = this.waiters.splice(0);
          const result = await syncOnce(this.store, this.session);
          this.status.pulled += result.pulled;
          this.status.pushed += result.pushed;
          this.status.remote = result.remote.versionVector;
          this.status.lastSyncAt = Date.now();
          this.status.lastError = null;
          this.backoffMs = BACKOFF_MS_MIN;
          for (const resolve of waiters.splice(0)) resolve();
        }
      } catch (error) {
        // Whoever waits for an exchange waits for the next one that completes.
        this.waiters.unshift(...waiters);
        this.status.lastError = error instanceof Error ? error.message : String(error);
        if (this.session) this.broken(this.session, error);
      } finally {
        this.running = false;
      }
    })();
  }
}
