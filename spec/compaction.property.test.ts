// Compaction under replication. Three replicas (one on a file store that crashes and reopens)
// make concurrent changes and sync over the protocol, hub and spokes: replica 0 is the hub, the
// others sync with it (the topology in which a cut may be forced, see spec/semantics.md). Now and
// then the hub compacts at a point stable over the spokes it knows about, lowered at random, as an
// operator forcing a cut would; a spoke left out lags: it is behind the checkpoint or holds ops
// that sort inside it, gets "snapshot required", loads the checkpoint and rebases its own unsent
// ops. After every link heals, all
// replicas hold the same op set and tree, and checkpoint + suffix equals a full replay: a reference
// replica that never compacted, fed every op of the final op set (kept as replicas made them),
// has the same state digest.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../client/index.ts';
import { decodeOp, formatRef, hex, stableCut, unpackManifest, type VersionVector } from '../log/index.ts';
import { canonicalTree, FileSystem, openStore, stateDigest, Store } from '../index.ts';
import { SyncService } from '../server/sync-service.ts';
import { fcParams, RUNS, TestClock } from './fc.ts';
import { applyReal, callArb, outcome, type Call } from './fs-calls.ts';
import { checkContent, checkNoLostWrites, checkTree } from './invariants.ts';

const BASE_MS = 1_700_000_000_000;
const SKEW_MS_MAX = 25_000;
const REPLICAS = 3;
/** The replica the others sync with, and the one that compacts. */
const HUB = 0;
const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-compaction-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Step =
  | { kind: 'call'; replica: number; call: Call }
  | { kind: 'sync'; spoke: number; pull: boolean }
  | { kind: 'clock'; replica: number; deltaMs: number }
  | { kind: 'compact'; knows: boolean[]; lower: number }
  | { kind: 'crash' };

const replicaArb = fc.nat(REPLICAS - 1);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('call' as const), replica: replicaArb, call: callArb }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('sync' as const), spoke: fc.integer({ min: 1, max: REPLICAS - 1 }), pull: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clock' as const), replica: replicaArb, deltaMs: fc.integer({ min: -20_000, max: 20_000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('compact' as const), knows: fc.array(fc.boolean(), { minLength: REPLICAS, maxLength: REPLICAS }), lower: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
);

/** What the runs did, so the suite can tell it exercised compaction, snapshots and rebasing. */
const seen = { compactions: 0, snapshots: 0, rebased: 0 };
let runs = 0;

/** Every op any replica ever held, by ref, with the chunks it names: the full history. */
class Archive {
  readonly ops = new Map<string, Uint8Array>();
  readonly chunks = new Map<string, Uint8Array>();

  record(store: Store): void {
    for (const { op, bytes } of store.log.scan()) {
      const ref = formatRef(op.origin, op.seq);
      if (this.ops.has(ref)) continue;
      this.ops.set(ref, bytes);
      if (op.kind !== 'setContent') continue;
      for (const { hash } of unpackManifest(op.manifest)) this.chunks.set(hex(hash), store.chunks.get(hash));
    }
  }

  /** A replica that never compacted, holding exactly the ops `vv` covers. */
  replay(vv: VersionVector, clock: TestClock): Store {
    const store = openStore({ clock, mintOrigin: () => '01JD3Q4Z5X6Y7Z8A9B0C1D2ZZZ' });
    const ops = [...this.ops.values()].map((bytes) => decodeOp(bytes)).filter((op) => op.seq <= (vv[op.origin] ?? 0));
    for (const op of ops) {
      if (op.kind !== 'setContent') continue;
      for (const { hash } of unpackManifest(op.manifest)) store.chunks.putVerified(hash, this.chunks.get(hex(hash))!);
    }
    store.ingest(ops);
    return store;
  }
}

/** Syncs `a` with `b`; the hub, pulling ops its checkpoint refuses, waits for the spoke to sync. */
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
      const open = (i: number) => openStore({ clock: clocks[i], mintOrigin: mint, ...(i === REPLICAS - 1 ? { file } : {}) });
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
              if (step.pull) await sync(replicas[step.spoke]!, replicas[HUB]!);
              else await sync(replicas[HUB]!, replicas[step.spoke]!);
              break;
            case 'clock': {
              const clock = clocks[step.replica]!;
              clock.ms = Math.min(BASE_MS + SKEW_MS_MAX, Math.max(BASE_MS - SKEW_MS_MAX, clock.ms + step.deltaMs));
              break;
            }
            case 'compact': {
              const hub = replicas[HUB]!;
              const known = replicas.filter((r, i) => r !== hub && step.knows[i]);
              for (const spoke of known) await sync(spoke, hub);
              for (const spoke of known) await sync(hub, spoke);
              const cut = stableCut(hub.log, known.map((spoke) => spoke.log.versionVector()));
              if (cut === undefined) break;
              const candidates = [...hub.log.scan()].map((s) => s.op.ts).filter((ts) => ts <= cut);
              const lowered = candidates[Math.floor(step.lower * candidates.length)] ?? cut;
              const before = stateDigest(hub.sql, hub.log);
              archive.record(hub);
              hub.compact(lowered);
              seen.compactions++;
              expect(stateDigest(hub.sql, hub.log)).toBe(before);
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
        for (let round = 0; round < 2; round++) {
          for (const spoke of replicas.filter((_, i) => i !== HUB)) {
            await sync(spoke, replicas[HUB]!);
            await sync(replicas[HUB]!, spoke);
            archive.record(spoke);
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
