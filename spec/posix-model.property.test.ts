// Model-based test: random sequences of filesystem calls run against the POSIX reference model
// and the real store; after every call the outcome (ok or error code) and the canonical trees
// must match. At the end, rebuilding the projections from the log must give the same tables.
import { constants } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalTree, FileSystem, openStore, Store } from '../index.ts';
import { fcParams, ORIGINS, TestClock } from './fc.ts';
import { applyModel, applyReal, callArb, outcome, pathArb, type Call } from './fs-calls.ts';
import { Model } from './model.ts';
import { checkContent, checkTree } from './invariants.ts';

interface ModelState {
  model: Model;
  open: boolean;
}

interface Real {
  store: Store;
  fs: FileSystem;
  fh: number | null;
}

const HANDLE = 1;

class CallCommand implements fc.Command<ModelState, Real> {
  readonly call: Call;
  constructor(call: Call) {
    this.call = call;
  }
  check(): boolean {
    return true;
  }
  run(m: ModelState, r: Real): void {
    const expected = outcome(() => applyModel(m.model, this.call));
    expect(outcome(() => applyReal(r.fs, this.call)), this.toString()).toBe(expected);
    expect(canonicalTree(r.fs)).toEqual(m.model.canonical());
  }
  toString(): string {
    return JSON.stringify(this.call, (_, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
  }
}

/** Holds a file open across other calls: it survives unlink and commits on close. */
class OpenCommand implements fc.Command<ModelState, Real> {
  readonly path: string;
  constructor(path: string) {
    this.path = path;
  }
  check(m: Readonly<ModelState>): boolean {
    return !m.open;
  }
  run(m: ModelState, r: Real): void {
    const expected = outcome(() => m.model.open(this.path, HANDLE));
    let fh = 0;
    expect(outcome(() => { fh = r.fs.open(this.path, constants.O_RDWR); })).toBe(expected);
    if (expected === 'ok') {
      m.open = true;
      r.fh = fh;
    }
  }
  toString(): string {
    return `open(${this.path})`;
  }
}

class HandleWriteCommand implements fc.Command<ModelState, Real> {
  readonly offset: number;
  readonly data: Uint8Array;
  constructor(offset: number, data: Uint8Array) {
    this.offset = offset;
    this.data = data;
  }
  check(m: Readonly<ModelState>): boolean {
    return m.open;
  }
  run(m: ModelState, r: Real): void {
    m.model.writeHandle(HANDLE, this.offset, Buffer.from(this.data));
    r.fs.write(r.fh!, this.data, this.offset);
    const expected = m.model.readHandle(HANDLE);
    expect(Buffer.from(r.fs.read(r.fh!, 0, expected.length + 10)).equals(expected)).toBe(true);
    expect(canonicalTree(r.fs)).toEqual(m.model.canonical());
  }
  toString(): string {
    return `writeHandle(${this.offset}, ${Buffer.from(this.data).toString('hex')})`;
  }
}

class CloseCommand implements fc.Command<ModelState, Real> {
  check(m: Readonly<ModelState>): boolean {
    return m.open;
  }
  run(m: ModelState, r: Real): void {
    m.model.close(HANDLE);
    r.fs.release(r.fh!);
    m.open = false;
    r.fh = null;
    expect(canonicalTree(r.fs)).toEqual(m.model.canonical());
  }
  toString(): string {
    return 'close()';
  }
}

const commands = fc.commands([
  callArb.map((call) => new CallCommand(call)),
  pathArb.map((path) => new OpenCommand(path)),
  fc.tuple(fc.nat(40), fc.uint8Array({ maxLength: 16 })).map(([offset, data]) => new HandleWriteCommand(offset, data)),
  fc.constant(new CloseCommand()),
], { maxCommands: 60, size: 'large' });

function setup(): { model: ModelState; real: Real } {
  const store = openStore({ clock: new TestClock(), mintOrigin: () => ORIGINS[0]! });
  return { model: { model: new Model(), open: false }, real: { store, fs: FileSystem.live(store), fh: null } };
}

describe('POSIX reference model', () => {
  it('the store behaves like the model, call by call', () => {
    fc.assert(fc.property(commands, (cmds) => {
      const { model, real } = setup();
      try {
        fc.modelRun(() => ({ model, real }), cmds);
      } finally {
        real.store.close();
      }
    }), fcParams());
  });

  it('rebuild from the log equals the incremental projection', () => {
    fc.assert(fc.property(commands, (cmds) => {
      const { model, real } = setup();
      try {
        fc.modelRun(() => ({ model, real }), cmds);
        if (real.fh !== null) real.fs.release(real.fh);
        const before = canonicalTree(real.fs);
        const verdict = real.store.verify();
        expect(verdict.rebuilt).toBe(verdict.live);
        real.store.rebuild();
        expect(canonicalTree(real.fs)).toEqual(before);
        checkTree(real.store, real.fs);
        checkContent(real.store);
      } finally {
        real.store.close();
      }
    }), fcParams());
  });
});
