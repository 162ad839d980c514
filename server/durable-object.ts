// The Durable Object replica: one workspace per object, addressed by name. Its state is a full
// replica (log, chunks, projections) in the object's SQLite storage, through the same log/ and
// projections/ code as wsd, and it serves the same sync, filesystem and log surfaces over capnweb
// (WebSocket, or HTTP batch). The Worker in front (worker.ts) checks the token and routes here.
import { newHttpBatchRpcResponse, newWebSocketRpcSession } from 'capnweb';
import { DoSqlite, MESSAGE_BYTES_MAX, type DoStorage, type VersionVector } from '../log/index.ts';
import { FileSystem, resolveAt, RpcInputError, Store } from '../projections/index.ts';
import { FilesystemService } from './filesystem-service.ts';

/** The part of a Durable Object's state this class uses. */
export interface DurableObjectState {
  storage: DoStorage;
}

/**
 * The Durable Object's RPC surface: the filesystem, log and sync surfaces (filesystem-service.ts)
 * plus compact, which only the durable home of a workspace offers.
 */
export class DurableWorkspaceService extends FilesystemService {
  private readonly home: Store;

  constructor(store: Store, fs: FileSystem, caller: string) {
    super(store, fs, { kind: 'rpc', id: caller });
    this.home = store;
  }

  /**
   * Replaces the log up to `at` (an op ORIGIN:seq, epoch ms or a date) with a checkpoint; peers
   * behind it load it when they next sync (spec/semantics.md, "Compaction").
   */
  compact(at: unknown): { ts: string; ops: number; pages: number; versionVector: VersionVector } {
    if (typeof at !== 'string' || at === '') throw new RpcInputError('compact wants a position: ORIGIN:seq, epoch milliseconds or a date');
    const checkpoint = this.home.compact(resolveAt(this.home, at));
    return { ts: checkpoint.ts, ops: checkpoint.ops, pages: checkpoint.pages, versionVector: checkpoint.versionVector };
  }
}

export class WorkspaceObject {
  private readonly store: Store;
  private readonly fs: FileSystem;

  constructor(state: DurableObjectState) {
    this.store = new Store(new DoSqlite(state.storage));
    this.fs = FileSystem.live(this.store);
  }

  /** `/ws` (a WebSocket upgrade) or `/api` (POST, a capnweb HTTP batch); the Worker checked the token. */
  async fetch(request: Request): Promise<Response> {
    const route = new URL(request.url).pathname.split('/').pop();
    const caller = request.headers.get('cf-connecting-ip') ?? 'worker';
    if (route === 'ws') {
      if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return text(426, 'upgrade required: ws speaks capnweb over a WebSocket\n');
      const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket & { accept(): void }];
      server.accept();
      const service = new DurableWorkspaceService(this.store, this.fs, `ws ${caller}`);
      server.addEventListener('close', () => service.close());
      server.addEventListener('error', () => service.close());
      newWebSocketRpcSession(server, service);
      return new Response(null, { status: 101, webSocket: client } as ResponseInit);
    }
    if (route === 'api') {
      if (request.method !== 'POST') return text(405, 'method not allowed\n', { allow: 'POST' });
      const length = Number(request.headers.get('content-length'));
      if (!(length <= 2 * MESSAGE_BYTES_MAX)) return text(413, `a batch is at most ${2 * MESSAGE_BYTES_MAX} bytes, with its content-length\n`);
      const service = new DurableWorkspaceService(this.store, this.fs, `http ${caller}`);
      try {
        return await newHttpBatchRpcResponse(request, service);
      } finally {
        service.close();
      }
    }
    return text(404, 'not found\n');
  }
}

export function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });
}

declare class WebSocketPair {
  0: WebSocket;
  1: WebSocket;
}
