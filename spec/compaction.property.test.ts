// Compaction under replication. Three replicas (one on a file store that crashes and reopens)
// make concurrent changes, sync pairwise over the protocol and now and then compact at a stable
// point, lowered at random. Replica 0 plays the hub: it computes the point over the replicas it
// knows about, as an operator forcing a cut would; a replica left out lags: it is behind the
// checkpoint or holds ops that sort inside it, gets "snapshot required", loads the checkpoint and
// rebases its own unsent ops. The others compact only at points stable over every replica (two
// checkpoints forced past each other's replicas cannot be merged). After every link heals, all
// replicas hold the same op set and tree, and checkpoint + suffix equals a full replay: a reference
// replica that never compacted, fed every op of the final op set (kept as replicas made them),
// has the same state digest.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../client/sync.ts';
import { decodeOp, formatRef, hex, stableCut, unpackManifest, type VersionVector } from '../log/index.ts';
import { canonicalTree, FileSystem, stateDigest, Store } from '../projections/index.ts';
import { SyncService } from '../server/sync-service.ts';
import { fcParams, RUNS, TestClock } from './fc.ts';
import { applyReal, callArb, outcome, type Call } from './fs-calls.ts';
import { checkContent, checkNoLostWrites, checkTree } from './invariants.ts';

const BASE_MS = 1_700_000_000_000;
const SKEW_MS_MAX = 25_000;
const REPLICAS = 3;
/** The one replica that compacts past replicas it does not know about. */
const HUB = 0;
const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-compaction-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Step =
  | { kind: 'call'; replica: number; call: Call }
  | { kind: 'sync'; a: number; b: number }
  | { kind: 'clock'; replica: number; deltaMs: number }
  | { kind: 'compact'; replica: number; knows: boolean[]; lower: number }
  | { kind: 'crash' };

const replicaArb = fc.nat(REPLICAS - 1);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('call' as const), replica: replicaArb, call: callArb }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('sync' as const), a: replicaArb, b: replicaArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clock' as const), replica: replicaArb, deltaMs: fc.integer({ min: -20_000, max: 20_000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('compact' as const), replica: fc.constantFrom(HUB, HUB, 1, 2), knows: fc.array(fc.boolean(), { minLength: REPLICAS, maxLength: REPLICAS }), lower: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
);

/** What the runs did, so the suite can tell it exercised compaction, snapshots and rebasing. */
const seen = { compactions: 0, snapshots: 0, rebased: 0 };
let runs = 0;

/**
 * Every op any replica ever held, by ref, with the chunks it names: the full history. A rebased op
 * keeps its ref and gets a later timestamp, so the newest version of a ref is the one that stays.
 */
class Archive {
  readonly ops = new Map<string, { ts: string; bytes: Uint8Array }>();
  readonly chunks = new Map<string, Uint8Array>();

  record(store: Store): void {
    for (const { op, bytes } of store.log.scan()) {
      const ref = formatRef(op.origin, op.seq);
      if ((this.ops.get(ref)?.ts ?? '') >= op.ts) continue;
      this.ops.set(ref, { ts: op.ts, bytes });
      if (op.kind !== 'setContent') continue;
      for (const { hash } of unpackManifest(op.manifest)) this.chunks.set(hex(hash), store.chunks.get(hash));
    }
  }

  /** A replica that never compacted, holding exactly the ops `vv` covers. */
  replay(vv: VersionVector, clock: TestClock): Store {
    const store = Store.open({ clock, mintOrigin: () => '01JD3Q4Z5X6Y7Z8A9B0C1D2ZZZ' });
    const ops = [...this.ops.values()].map(({ bytes }) => decodeOp(bytes)).filter((op) => op.seq <= (vv[op.origin] ?? 0));
    for (const op of ops) {
      if (op.kind !== 'setContent') continue;
      for (const { hash } of unpackManifest(op.manifest)) store.chunks.putVerified(hash, this.chunks.get(hex(hash))!);
    }
    store.ingest(ops);
    return store;
  }
}

/** Syncs `a` with `b`; a compacted replica that pulled ops its checkpoint refuses waits for `b` to sync. */
async function sync(a: Store, b: Store): Promise<void> {
  try {
    const result = await syncOnce(a, new SyncService(b));
    if (result.snapshot) {
      seen.snapshots++;
      seen.rebased += result.snapshot.rebased;
    }
  } catch (error) {
    if ((error as { code?: string }).code !== 'EPEERSNAPSHOT') throw error;
  }
}

describe('compaction', () => {
  it('checkpoint + suffix equals full replay; laggards load the checkpoint, rebase and converge', async () => {
    await fc.assert(fc.asyncProperty(fc.array(stepArb, { maxLength: 50, size: 'large' }), async (steps) => {
      const run = runs++;
      const file = join(dir, `crashy-${run}.db`);
      let minted = 0;
      const mint = () => `01JD3Q4Z5X6Y7Z8A9B${String(run % 1e4).padStart(4, '0')}${String(minted++).padStart(4, '0')}`;
      // The hub runs ahead, so the cuts it forces overtake what the others have not sent yet.
      const clocks = Array.from({ length: REPLICAS }, (_, i) => new TestClock(BASE_MS + (i === HUB ? REPLICAS : i) * 5_000));
      const open = (i: number) => Store.open({ clock: clocks[i], mintOrigin: mint, ...(i === REPLICAS - 1 ? { file } : {}) });
      const replicas = clocks.map((_, i) => open(i));
      const archive = new Archive();
      let reference: Store | undefined;
      try {
        for (const step of steps) {
          switch (step.kind) {
            case 'call':
              outcome(() => applyReal(FileSystem.live(replicas[step.replica]!), step.call));
              break;
            case 'sync':
              if (step.a !== step.b) await sync(replicas[step.a]!, replicas[step.b]!);
              break;
            case 'clock': {
              const clock = clocks[step.replica]!;
              clock.ms = Math.min(BASE_MS + SKEW_MS_MAX, Math.max(BASE_MS - SKEW_MS_MAX, clock.ms + step.deltaMs));
              break;
            }
            case 'compact': {
              const self = replicas[step.replica]!;
              const known = replicas.filter((r, i) => r !== self && (step.replica !== HUB || step.knows[i]));
              for (const peer of known) await sync(self, peer);
              archive.record(self);
              let cut;
              try {
                cut = stableCut(self.log, known.map((peer) => peer.log.versionVector()));
              } catch (error) {
                // A known peer holds ops this replica could not take (they sort inside its checkpoint).
                if ((error as { code?: string }).code !== 'EINVAL') throw error;
              }
              if (cut === undefined) break;
              const candidates = [...self.log.scan()].map((s) => s.op.ts).filter((ts) => ts <= cut!);
              const lowered = candidates[Math.floor(step.lower * candidates.length)] ?? cut;
              const before = stateDigest(self.sql, self.log);
              self.compact(lowered);
              seen.compactions++;
              expect(stateDigest(self.sql, self.log)).toBe(before);
              break;
            }
            case 'crash': {
              const i = REPLICAS - 1;
              const before = replicas[i]!.log.cursor();
              replicas[i]!.sql.close();
              replicas[i] = open(i);
              expect(replicas[i].log.cursor()).toEqual(before);
              break;
            }
          }
          for (const store of replicas) archive.record(store);
        }
        for (let round = 0; round < 3; round++) {
          for (const a of replicas) {
            for (const b of replicas) {
              if (a === b) continue;
              await sync(a, b);
              archive.record(a);
            }
          }
        }
        const first = replicas[0]!;
        const tree = canonicalTree(FileSystem.live(first));
        const digest = stateDigest(first.sql, first.log);
        for (const store of replicas) {
          expect(store.log.fingerprint()).toBe(first.log.fingerprint());
          expect(store.log.versionVector()).toEqual(first.log.versionVector());
          expect(canonicalTree(FileSystem.live(store))).toEqual(tree);
          expect(stateDigest(store.sql, store.log)).toBe(digest);
          const verdict = store.verify();
          expect(verdict.rebuilt).toBe(verdict.live);
          checkTree(store, FileSystem.live(store));
          checkContent(store);
          checkNoLostWrites(store);
        }
        reference = archive.replay(first.log.versionVector(), new TestClock(BASE_MS + 10_000_000));
        expect(reference.log.fingerprint()).toBe(first.log.fingerprint());
        expect(canonicalTree(FileSystem.live(reference))).toEqual(tree);
        expect(stateDigest(reference.sql, reference.log)).toBe(digest);
      } finally {
        for (const store of [...replicas, ...(reference ? [reference] : [])]) store.close();
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
      }
    }), fcParams());
    if (RUNS >= 100) {
      expect(seen.compactions).toBeGreaterThan(0);
      expect(seen.snapshots).toBeGreaterThan(0);
      expect(seen.rebased).toBeGreaterThan(0);
    }
  });
});
