// A Worker for the property tests: Durable Object replicas whose clock and origin the test
// sets, so runs replay from a seed. Each object is the real DO stack (DoSqlite on its SQLite
// storage, Store, the DO's RPC surface); the session's main object opens it and adds what the
// property needs: apply a generated call inside the object, set its clock, read its canonical
// tree, verify, and reopen the store on the same storage (the object's process restarting).
import { newWebSocketRpcSession } from 'capnweb';
import { DoSqlite, type DoStorage } from '../../log/index.ts';
import { canonicalTree, FileSystem, Store, type CanonicalEntry } from '../../projections/index.ts';
import { DURABLE_METHODS, DurableWorkspaceService } from '../../server/durable-object.ts';
import { rpcSurface } from '../../server/rpc-surface.ts';
import { applyReal, outcome, type Call } from '../fs-calls.ts';

class PropertyReplica extends DurableWorkspaceService {
  private readonly harness: ReplicaHarness;

  constructor(harness: ReplicaHarness, store: Store, fs: FileSystem) {
    super({ store, fs, r2: null, databaseBytes: () => 0 }, 'property');
    this.harness = harness;
  }

  apply(call: Call): string {
    return outcome(() => applyReal(this.harness.fs!, call));
  }

  setClock(ms: number): void {
    this.harness.clock.ms = ms;
  }

  tree(): CanonicalEntry[] {
    return canonicalTree(this.harness.fs!);
  }

  verify(): boolean {
    return this.harness.store!.verify().ok;
  }
}

class ReplicaHarness {
  readonly clock = { ms: 0, now(): number { return this.ms; } };
  private readonly storage: DoStorage;
  store: Store | null = null;
  fs: FileSystem | null = null;
  private origin = '';

  constructor(storage: DoStorage) {
    this.storage = storage;
  }

  /** Opens (or, with the same origin, reopens) the replica on the object's storage. */
  open(origin: string, ms: number) {
    this.origin = origin;
    this.clock.ms = ms;
    this.store = new Store(new DoSqlite(this.storage), { clock: this.clock, mintOrigin: () => this.origin });
    this.fs = FileSystem.live(this.store);
    return rpcSurface(new PropertyReplica(this, this.store, this.fs), [...DURABLE_METHODS, 'apply', 'setClock', 'tree', 'verify']);
  }
}

export class ReplicaObject {
  private readonly storage: DoStorage;

  constructor(state: { storage: DoStorage }) {
    this.storage = state.storage;
  }

  fetch(): Response {
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket & { accept(): void }];
    server.accept();
    newWebSocketRpcSession(server, rpcSurface(new ReplicaHarness(this.storage), ['open']));
    return new Response(null, { status: 101, webSocket: client } as ResponseInit);
  }
}

interface Env {
  REPLICAS: { idFromName(name: string): unknown; get(id: unknown): { fetch(request: Request): Promise<Response> } };
}

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    return env.REPLICAS.get(env.REPLICAS.idFromName(new URL(request.url).pathname)).fetch(request);
  },
};

declare class WebSocketPair {
  0: WebSocket;
  1: WebSocket;
}
