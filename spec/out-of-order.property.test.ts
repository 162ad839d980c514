// Out-of-order ingest equals ordered replay. Three writers make concurrent changes through the
// filesystem API (each on its own skewed clock that may jump backwards) and now and then pull
// each other's ops, so their histories interleave and reference each other's nodes. A fresh
// replica then receives every op in a random interleaving of the per-origin streams, in random
// batches, with duplicates. Its incremental projection must equal a rebuild (replay in ts
// order), its tree must equal a replica that got everything at once, and once the writers
// exchange everything they must all hold that same tree.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unpackManifest, type Op } from '../log/index.ts';
import { canonicalTree, FileSystem, openStore, Store } from '../index.ts';
import { fcParams, ORIGINS, TestClock } from './fc.ts';
import { applyReal, callArb, outcome, type Call } from './fs-calls.ts';
import { checkContent, checkNoLostWrites, checkTree } from './invariants.ts';

const WRITERS = 3;
const BASE_MS = 1_700_000_000_000;
/** Writers' clocks stay within this of each other's start, inside the receive rule's max drift. */
const SKEW_MS_MAX = 25_000;

type Step =
  | { kind: 'call'; writer: number; call: Call }
  | { kind: 'pull'; into: number; from: number }
  | { kind: 'clock'; writer: number; deltaMs: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('call' as const), writer: fc.nat(WRITERS - 1), call: callArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pull' as const), into: fc.nat(WRITERS - 1), from: fc.nat(WRITERS - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clock' as const), writer: fc.nat(WRITERS - 1), deltaMs: fc.integer({ min: -20_000, max: 20_000 }) }) },
);

/** How a replica is fed: repeatedly take 1..4 ops from one origin's stream, maybe re-sending. */
const deliveryArb = fc.array(fc.record({ origin: fc.nat(WRITERS - 1), count: fc.integer({ min: 1, max: 4 }), resend: fc.boolean() }), { maxLength: 200 });

/** Ops carry content by reference; the chunks they name move first (hash-checked on arrival). */
function deliver(into: Store, from: Store, ops: Op[]): void {
  for (const op of ops) {
    if (op.kind !== 'setContent') continue;
    for (const { hash } of unpackManifest(op.manifest)) if (!into.chunks.has(hash)) into.chunks.putVerified(hash, from.chunks.get(hash));
  }
  into.ingest(ops);
}

function pull(into: Store, from: Store): void {
  deliver(into, from, from.log.after(into.log.versionVector(), Number.MAX_SAFE_INTEGER).map((s) => s.op));
}

/** Directories every writer starts with, so that concurrent moves of them can form cycles. */
const SHARED_DIRS = ['/a', '/b', '/c', '/a/b', '/b/c'];
const dirPathArb = fc.constantFrom('/a', '/b', '/c', '/a/b', '/b/c', '/a/a', '/b/a', '/c/a', '/c/b');
const moveStepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('call' as const), writer: fc.nat(WRITERS - 1), call: fc.record({ op: fc.constant('rename' as const), from: dirPathArb, to: dirPathArb, flags: fc.constantFrom(0, 2) }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pull' as const), into: fc.nat(WRITERS - 1), from: fc.nat(WRITERS - 1) }) },
);

function runScenario(steps: Step[], delivery: Array<{ origin: number; count: number; resend: boolean }>, shared: string[]): void {
  const clocks = Array.from({ length: WRITERS }, (_, i) => new TestClock(BASE_MS + i * 7_000 - 7_000));
  const writers = clocks.map((clock, i) => openStore({ clock, mintOrigin: () => ORIGINS[i]! }));
  const fss = writers.map((store) => FileSystem.live(store));
  const late = new TestClock(BASE_MS + 10_000_000);
  const subject = openStore({ clock: late, mintOrigin: () => ORIGINS[3]! });
  const reference = openStore({ clock: late, mintOrigin: () => ORIGINS[4]! });
  try {
    for (const dir of shared) fss[0]!.mkdir(dir);
    for (const w of writers) pull(w, writers[0]!);
    for (const step of steps) {
      if (step.kind === 'call') outcome(() => applyReal(fss[step.writer]!, step.call));
      else if (step.kind === 'pull') pull(writers[step.into]!, writers[step.from]!);
      else clocks[step.writer]!.ms = Math.min(BASE_MS + SKEW_MS_MAX, Math.max(BASE_MS - SKEW_MS_MAX, clocks[step.writer]!.ms + step.deltaMs));
    }
    const streams: Op[][] = writers.map((w) => [...w.log.scan()].map((s) => s.op).filter((op) => op.origin === w.origin));
    const sent = streams.map(() => 0);
    for (const { origin, count, resend } of delivery) {
      const from = resend ? Math.max(0, sent[origin]! - count) : sent[origin]!;
      const batch = streams[origin]!.slice(from, from + count);
      deliver(subject, writers[origin]!, batch);
      sent[origin] = Math.max(sent[origin]!, from + batch.length);
    }
    streams.forEach((stream, i) => deliver(subject, writers[i]!, stream.slice(sent[i])));
    streams.forEach((stream, i) => deliver(reference, writers[i]!, stream));

    const verdict = subject.verify();
    expect(verdict.rebuilt).toBe(verdict.live);
    checkTree(subject, FileSystem.live(subject));
    checkContent(subject);
    checkNoLostWrites(subject);
    expect(reference.verify().ok).toBe(true);
    const tree = canonicalTree(FileSystem.live(subject));
    expect(canonicalTree(FileSystem.live(reference))).toEqual(tree);
    expect(subject.log.fingerprint()).toBe(reference.log.fingerprint());

    for (const a of writers) for (const b of writers) pull(a, b);
    for (const w of writers) {
      expect(w.log.fingerprint()).toBe(subject.log.fingerprint());
      expect(canonicalTree(FileSystem.live(w))).toEqual(tree);
    }
  } finally {
    for (const store of [...writers, subject, reference]) store.close();
  }
}

describe('out-of-order ingest', () => {
  it('equals replay in timestamp order', () => {
    fc.assert(fc.property(fc.array(stepArb, { maxLength: 60, size: 'large' }), deliveryArb, (steps, delivery) => runScenario(steps, delivery, [])), fcParams());
  });

  it('converges when an exchange swaps two entries of one name (seed -1336893137)', () => {
    const call = (writer: number, c: Call): Step => ({ kind: 'call', writer, call: c });
    runScenario([
      call(1, { op: 'mkdir', path: '/b', mode: 0o755 }),
      call(0, { op: 'writeFile', path: '/a', data: new Uint8Array(0), exclusive: false }),
      { kind: 'pull', into: 1, from: 0 },
      call(1, { op: 'rename', from: '/b', to: '/a', flags: 2 }),
      call(0, { op: 'rename', from: '/a', to: '/b', flags: 0 }),
    ], [], []);
  });

  it('never forms a cycle from concurrent directory moves', () => {
    fc.assert(fc.property(fc.array(moveStepArb, { maxLength: 30, size: 'large' }), deliveryArb, (steps, delivery) => runScenario(steps, delivery, SHARED_DIRS)), fcParams());
  });
});
