// The Durable Object replica: one workspace per object, addressed by name. Its state is a full
// replica (log, chunks, projections) in the object's SQLite storage, through the same log/ and
// projections/ code as wsd, and it serves the same sync, filesystem and log surfaces over capnweb
// (WebSocket, or HTTP batch). The Worker in front (worker.ts) checks the token and routes here.
import { newHttpBatchRpcResponse, newWebSocketRpcSession } from 'capnweb';
import { DO_READ_BYTES_MAX, MESSAGE_BYTES_MAX, type DoStorage, type VersionVector } from '../log/index.ts';
import { R2Chunks, type Bucket } from '../log/r2-chunks.ts';
import { resolvePosition, RpcInputError, Workspace, type FileSystem, type Store } from '../projections/index.ts';
import { FILESYSTEM_METHODS, FilesystemService } from './filesystem-service.ts';
import { rpcSession, type Session } from './rpc-surface.ts';
import { SYNC_METHODS } from './sync-service.ts';

/** The Durable Object's surface, exactly (README "The Durable Object replica"). */
export const DURABLE_METHODS = [...SYNC_METHODS, ...FILESYSTEM_METHODS, 'compact', 'stats'] as const;

/** The part of a Durable Object's state this class uses. */
export interface DurableObjectState {
  storage: DoStorage & { readonly sql: { readonly databaseSize: number } };
}

/** The object's bindings: an R2 bucket for chunk bytes, optional. */
export interface DurableObjectEnv {
  CHUNKS?: Bucket;
}

/** One replica in one Durable Object: its store, live filesystem and chunk tier. */
export interface Home {
  store: Store;
  fs: FileSystem;
  r2: R2Chunks | null;
  databaseBytes(): number;
}

/**
 * The Durable Object's RPC surface: the filesystem, log and sync surfaces (filesystem-service.ts)
 * plus compact and stats. With chunks in R2, every call that reads chunk bytes fetches the ones
 * it meets and runs again (R2Chunks.withChunks).
 */
export class DurableWorkspaceService extends FilesystemService {
  private readonly home: Home;

  constructor(home: Home, caller: string) {
    super(home.store, home.fs, { kind: 'rpc', id: caller }, DO_READ_BYTES_MAX);
    this.home = home;
  }

  protected override withChunks<T>(call: () => T): T | Promise<T> {
    return this.home.r2 ? this.home.r2.withChunks(call) : call();
  }

  /** Rows, log, chunk bytes in SQLite and in R2, the database's size. */
  stats(): { ops: number; fingerprint: string; chunks: { count: number; bytes: number; localCount: number; localBytes: number; r2: boolean; lastError: string | null }; databaseBytes: number } {
    const { store, r2 } = this.home;
    const all = store.chunks.totals();
    const local = store.chunks.localTotals();
    return {
      ops: store.log.count(),
      fingerprint: store.log.fingerprint(),
      chunks: { count: all.count, bytes: all.bytes, localCount: local.count, localBytes: local.bytes, r2: r2 !== null, lastError: r2?.lastError ?? null },
      databaseBytes: this.home.databaseBytes(),
    };
  }

  /**
   * Replaces the log up to `at` (an op ORIGIN:seq, epoch ms or a date) with a checkpoint; peers
   * behind it load it when they next sync (spec/semantics.md, "Compaction").
   */
  compact(at: unknown): { ts: string; ops: number; pages: number; versionVector: VersionVector } {
    if (typeof at !== 'string' || at === '') throw new RpcInputError('compact wants a position: ORIGIN:seq, epoch milliseconds or a date');
    const { store } = this.home;
    const checkpoint = store.compact(resolvePosition(store, at).ts);
    return { ts: checkpoint.ts, ops: checkpoint.ops, pages: checkpoint.pages, versionVector: checkpoint.versionVector };
  }
}

export class WorkspaceObject {
  private readonly home: Home;
  /**
   * The object's files as @cloudflare/shell's Workspace API, for the Worker's own code (a
   * subclass, or a call on the stub): the same replica every peer syncs with, so what it writes
   * a synced wsd mount shows.
   */
  readonly workspace: Workspace;

  constructor(state: DurableObjectState, env: DurableObjectEnv = {}) {
    this.workspace = new Workspace({ storage: state.storage, r2: env.CHUNKS });
    const { store, fs, r2 } = this.workspace.home;
    this.home = { store: store!, fs, r2, databaseBytes: () => state.storage.sql.databaseSize };
  }

  /** `/ws` (a WebSocket upgrade) or `/api` (POST, a capnweb HTTP batch); the Worker checked the token. */
  async fetch(request: Request): Promise<Response> {
    const route = new URL(request.url).pathname.split('/').pop();
    const caller = request.headers.get('cf-connecting-ip') ?? 'worker';
    if (route === 'ws') {
      if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return text(426, 'upgrade required: ws speaks capnweb over a WebSocket\n');
      const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket & { accept(): void }];
      server.accept();
      const session = durableSession(this.home, `ws ${caller}`);
      server.addEventListener('close', () => session.close());
      server.addEventListener('error', () => session.close());
      newWebSocketRpcSession(server, session.target);
      return new Response(null, { status: 101, webSocket: client } as ResponseInit);
    }
    if (route === 'api') {
      if (request.method !== 'POST') return text(405, 'method not allowed\n', { allow: 'POST' });
      const length = Number(request.headers.get('content-length'));
      if (!(length <= 2 * MESSAGE_BYTES_MAX)) return text(413, `a batch is at most ${2 * MESSAGE_BYTES_MAX} bytes, with its content-length\n`);
      const session = durableSession(this.home, `http ${caller}`);
      try {
        return await newHttpBatchRpcResponse(request, session.target);
      } finally {
        session.close();
      }
    }
    return text(404, 'not found\n');
  }
}

/** A capnweb session of the Durable Object's surface; its ops are attributed to `caller`. */
export function durableSession(home: Home, caller: string): Session {
  return rpcSession(new DurableWorkspaceService(home, caller), DURABLE_METHODS);
}

export function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });
}

declare class WebSocketPair {
  0: WebSocket;
  1: WebSocket;
}
