// Replicas converge through the sync protocol. Three replicas (one on a file store) make
// concurrent changes through the filesystem API and sync pairwise over the protocol (syncOnce
// against a SyncService: the same calls capnweb carries) on a simulated network whose links go
// down and come back; clocks skew and jump backwards; the file-backed replica crashes and
// reopens; a fourth replica may cold-start from one peer midway. After every link heals and a
// full exchange, all replicas hold the same op set (fingerprint, version vector) and the same
// canonical tree, each equals a rebuild of its log, and the invariants hold (every name listed,
// duplicate names and conflict copies included, can be looked up, read and removed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../client/sync.ts';
import { canonicalTree, FileSystem, Store } from '../projections/index.ts';
import { SyncService } from '../server/sync-service.ts';
import { fcParams, ORIGINS, TestClock } from './fc.ts';
import { applyReal, callArb, outcome, type Call } from './fs-calls.ts';
import { checkContent, checkNamesReachable, checkNoLostWrites, checkTree } from './invariants.ts';

const BASE_MS = 1_700_000_000_000;
const SKEW_MS_MAX = 25_000;
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

describe('replication', () => {
  it('converges after partitions heal, with crashes, skew and a cold start', async () => {
    await fc.assert(fc.asyncProperty(fc.array(stepArb, { maxLength: 50, size: 'large' }), async (steps) => {
      const file = join(dir, `crashy-${runs++}.db`);
      const clocks = [0, 1, 2, 3].map((i) => new TestClock(BASE_MS + i * 5_000));
      const open = (i: number) => Store.open({ clock: clocks[i], mintOrigin: () => ORIGINS[i]!, ...(i === 2 ? { file } : {}) });
      const replicas: Store[] = [open(0), open(1), open(2)];
      const down = new Set<string>();
      const link = (a: number, b: number) => `${Math.min(a, b)}-${Math.max(a, b)}`;
      try {
        for (const step of steps) {
          switch (step.kind) {
            case 'call':
              outcome(() => applyReal(FileSystem.live(replicas[step.replica]!), step.call));
              break;
            case 'sync':
              if (step.a !== step.b && !down.has(link(step.a, step.b))) await syncOnce(replicas[step.a]!, new SyncService(replicas[step.b]!));
              break;
            case 'link':
              if (step.up) down.delete(link(step.a, step.b));
              else down.add(link(step.a, step.b));
              break;
            case 'clock': {
              const clock = clocks[step.replica]!;
              clock.ms = Math.min(BASE_MS + SKEW_MS_MAX, Math.max(BASE_MS - SKEW_MS_MAX, clock.ms + step.deltaMs));
              break;
            }
            case 'crash': {
              const before = replicas[2]!.log.cursor();
              replicas[2]!.sql.close();
              replicas[2] = open(2);
              expect(replicas[2].log.cursor()).toEqual(before);
              break;
            }
            case 'join':
              if (replicas.length === 3) {
                replicas.push(open(3));
                await syncOnce(replicas[3]!, new SyncService(replicas[step.from]!));
              }
              break;
          }
        }
        for (let round = 0; round < 2; round++) {
          for (const a of replicas) for (const b of replicas) if (a !== b) await syncOnce(a, new SyncService(b));
        }
        const tree = canonicalTree(FileSystem.live(replicas[0]!));
        for (const store of replicas) {
          expect(store.log.fingerprint()).toBe(replicas[0]!.log.fingerprint());
          expect(store.log.versionVector()).toEqual(replicas[0]!.log.versionVector());
          expect(canonicalTree(FileSystem.live(store))).toEqual(tree);
          const verdict = store.verify();
          expect(verdict.rebuilt).toBe(verdict.live);
          checkTree(store, FileSystem.live(store));
          checkContent(store);
          checkNoLostWrites(store);
          checkNamesReachable(store, FileSystem.live(store));
        }
      } finally {
        for (const store of replicas) store.close();
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
      }
    }), fcParams());
  });
});
