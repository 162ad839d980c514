// Replicas converge through the sync protocol. Three replicas make concurrent changes through
// the filesystem API and sync pairwise over the protocol (syncOnce against a peer's sync surface:
// the same calls capnweb carries) on a simulated network whose links go down and come back;
// clocks skew and jump backwards; the third replica crashes and reopens; a fourth may cold-start
// from one peer midway. The third replica is a file store in process, or, in the second property,
// a Durable Object on workerd reached over a capnweb WebSocket. After every link heals and a full
// exchange, all replicas hold the same op set (fingerprint, version vector) and the same
// canonical tree, each equals a rebuild of its log, and the invariants hold (every name listed,
// duplicate names and conflict copies included, can be looked up, read and removed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newWebSocketRpcSession, type RpcStub } from 'capnweb';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../client/index.ts';
import { canonicalTree, FileSystem, openStore, type CanonicalEntry, type Store, type SyncPeer } from '../index.ts';
import { buildWorker, startLocalWorker, type LocalWorker } from '../server/local-worker.ts';
import { SyncService } from '../server/sync-service.ts';
import { fcParams, ORIGINS, RUNS, TestClock } from './fc.ts';
import { applyReal, callArb, outcome, type Call } from './fs-calls.ts';
import { checkContent, checkNamesReachable, checkNoLostWrites, checkTree } from './invariants.ts';

const BASE_MS = 1_700_000_000_000;
const SKEW_MS_MAX = 25_000;
/** Runs of the property with the Durable Object: each run is a new object and a WebSocket session. */
const DO_RUNS = Math.max(10, Math.round(RUNS / 5));
const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-replication-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let runs = 0;

type Step =
  | { kind: 'call'; replica: number; call: Call }
  | { kind: 'sync'; a: number; b: number }
  | { kind: 'link'; a: number; b: number; up: boolean }
  | { kind: 'clock'; replica: number; deltaMs: number }
  | { kind: 'crash' }
  | { kind: 'join'; from: number };

const replicaArb = fc.nat(2);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('call' as const), replica: replicaArb, call: callArb }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('sync' as const), a: replicaArb, b: replicaArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('link' as const), a: replicaArb, b: replicaArb, up: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clock' as const), replica: replicaArb, deltaMs: fc.integer({ min: -20_000, max: 20_000 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('join' as const), from: replicaArb }) },
);

/** A replica as the property drives it: in process (a Store) or a Durable Object over capnweb. */
interface Replica {
  /** the store, when this replica can start an exchange itself */
  store: Store | null;
  apply(call: Call): Promise<unknown> | unknown;
  /** its sync surface, for another replica's exchange; done() when the exchange is over */
  peer(): { peer: SyncPeer; done(): void };
  clockMs: number;
  setClock(ms: number): Promise<void> | void;
  /** the process restarting: reopen on the same storage, holding exactly what it held */
  crash(): Promise<void>;
  position(): Promise<{ fingerprint: string; versionVector: Record<string, number> }>;
  tree(): Promise<CanonicalEntry[]> | CanonicalEntry[];
  check(): Promise<void> | void;
  close(): void;
}

function localReplica(i: number, file?: string): Replica {
  const clock = new TestClock(BASE_MS + i * 5_000);
  const open = () => openStore({ clock, mintOrigin: () => ORIGINS[i]!, ...(file ? { file } : {}) });
  const replica: Replica = {
    store: open(),
    apply: (call) => outcome(() => applyReal(FileSystem.live(replica.store!), call)),
    peer: () => {
      const service = new SyncService(replica.store!);
      return { peer: service, done: () => service.close() };
    },
    get clockMs() {
      return clock.ms;
    },
    setClock: (ms) => void (clock.ms = ms),
    crash: async () => {
      const before = replica.store!.log.cursor();
      replica.store!.sql.close();
      replica.store = open();
      expect(replica.store.log.cursor()).toEqual(before);
    },
    position: async () => replica.store!.log.cursor(),
    tree: () => canonicalTree(FileSystem.live(replica.store!)),
    check: () => {
      const store = replica.store!;
      const verdict = store.verify();
      expect(verdict.rebuilt).toBe(verdict.live);
      checkTree(store, FileSystem.live(store));
      checkContent(store);
      checkNoLostWrites(store);
      checkNamesReachable(store, FileSystem.live(store));
    },
    close: () => replica.store!.close(),
  };
  return replica;
}

interface PropertyReplicaStub {
  apply(call: Call): Promise<string>;
  setClock(ms: number): Promise<void>;
  tree(): Promise<CanonicalEntry[]>;
  verify(): Promise<boolean>;
  hello(): Promise<{ fingerprint: string; versionVector: Record<string, number> }>;
}

interface HarnessStub {
  open(origin: string, ms: number): RpcStub<PropertyReplicaStub & SyncPeer>;
}

async function durableReplica(worker: LocalWorker, i: number, run: number): Promise<Replica> {
  const socket = new WebSocket(new URL(`/run-${run}`, worker.url).href.replace(/^http/, 'ws'));
  const harness = newWebSocketRpcSession<HarnessStub>(socket as unknown as globalThis.WebSocket);
  let clockMs = BASE_MS + i * 5_000;
  let stub = harness.open(ORIGINS[i]!, clockMs);
  return {
    store: null,
    // fast-check builds records without a prototype, which capnweb does not send.
    apply: (call) => stub.apply({ ...call }),
    peer: () => ({ peer: stub as unknown as SyncPeer, done: () => {} }),
    get clockMs() {
      return clockMs;
    },
    setClock: async (ms) => {
      clockMs = ms;
      await stub.setClock(ms);
    },
    crash: async () => {
      const before = await stub.hello();
      stub = harness.open(ORIGINS[i]!, clockMs);
      const after = await stub.hello();
      expect([after.fingerprint, after.versionVector]).toEqual([before.fingerprint, before.versionVector]);
    },
    position: async () => {
      const { fingerprint, versionVector } = await stub.hello();
      return { fingerprint, versionVector };
    },
    tree: () => stub.tree(),
    check: async () => expect(await stub.verify()).toBe(true),
    close: () => socket.terminate(),
  };
}

const canonical = (vv: Record<string, number>) => Object.fromEntries(Object.entries(vv).sort(([a], [b]) => (a < b ? -1 : 1)));

async function exchange(a: Replica, b: Replica): Promise<void> {
  const [from, to] = a.store ? [a, b] : [b, a];
  const { peer, done } = to.peer();
  try {
    await syncOnce(from.store!, peer);
  } finally {
    done();
  }
}

/** Runs `steps` on the replicas `make` opens; then heals every link and checks convergence. */
async function run(steps: Step[], make: () => Promise<Replica[]>): Promise<void> {
  const replicas = await make();
  const down = new Set<string>();
  const link = (a: number, b: number) => `${Math.min(a, b)}-${Math.max(a, b)}`;
  try {
    for (const step of steps) {
      switch (step.kind) {
        case 'call':
          await replicas[step.replica]!.apply(step.call);
          break;
        case 'sync':
          if (step.a !== step.b && !down.has(link(step.a, step.b))) await exchange(replicas[step.a]!, replicas[step.b]!);
          break;
        case 'link':
          if (step.up) down.delete(link(step.a, step.b));
          else down.add(link(step.a, step.b));
          break;
        case 'clock': {
          const replica = replicas[step.replica]!;
          await replica.setClock(Math.min(BASE_MS + SKEW_MS_MAX, Math.max(BASE_MS - SKEW_MS_MAX, replica.clockMs + step.deltaMs)));
          break;
        }
        case 'crash':
          await replicas[2]!.crash();
          break;
        case 'join':
          if (replicas.length === 3) {
            replicas.push(localReplica(3));
            await exchange(replicas[3]!, replicas[step.from]!);
          }
          break;
      }
    }
    for (let round = 0; round < 2; round++) {
      for (const a of replicas) for (const b of replicas) if (a !== b && (a.store || b.store)) await exchange(a, b);
    }
    const first = await replicas[0]!.position();
    const tree = await replicas[0]!.tree();
    for (const replica of replicas) {
      const position = await replica.position();
      expect([position.fingerprint, canonical(position.versionVector)]).toEqual([first.fingerprint, canonical(first.versionVector)]);
      expect(await replica.tree()).toEqual(tree);
      await replica.check();
    }
  } finally {
    for (const replica of replicas) replica.close();
  }
}

describe('replication', () => {
  it('converges after partitions heal, with crashes, skew and a cold start', async () => {
    await fc.assert(fc.asyncProperty(fc.array(stepArb, { maxLength: 50, size: 'large' }), async (steps) => {
      const file = join(dir, `crashy-${runs++}.db`);
      try {
        await run(steps, async () => [localReplica(0), localReplica(1), localReplica(2, file)]);
      } finally {
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
      }
    }), fcParams());
  });

  describe('with a Durable Object on workerd as the third replica', () => {
    let worker: LocalWorker;
    beforeAll(async () => {
      const script = await buildWorker(join(dir, 'replicas', 'worker.js'), join(import.meta.dirname, 'harness/replica-worker.ts'));
      worker = await startLocalWorker({ script, objects: { REPLICAS: 'ReplicaObject' } });
    });
    afterAll(async () => worker?.dispose());

    it(`converges the same way (${DO_RUNS} runs)`, async () => {
      await fc.assert(fc.asyncProperty(fc.array(stepArb, { maxLength: 50, size: 'large' }), async (steps) => {
        const n = runs++;
        await run(steps, async () => [localReplica(0), localReplica(1), await durableReplica(worker, 2, n)]);
      }), fcParams({ numRuns: DO_RUNS }));
    });
  });
});
