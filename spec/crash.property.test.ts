// Crash and reopen of a file store keeps every committed op. A run makes random calls on a
// store file and now and then "crashes": it drops the SQLite connection without the store's
// orderly close, sometimes in the middle of an open transaction holding uncommitted ops. The
// reopened store must hold exactly the committed ops, the same tree, projections equal to a
// rebuild, and a clock that issues timestamps after everything in the log. A second test kills
// a real writer process with SIGKILL.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalTree, FileSystem, openStore } from '../index.ts';
import { fcParams, ORIGINS, TestClock } from './fc.ts';
import { applyReal, callArb, outcome, type Call } from './fs-calls.ts';

const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Step = { kind: 'call'; call: Call } | { kind: 'crash'; midTransaction: Call[] };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: callArb.map((call) => ({ kind: 'call' as const, call })) },
  { weight: 1, arbitrary: fc.array(callArb, { maxLength: 4 }).map((midTransaction) => ({ kind: 'crash' as const, midTransaction })) },
);

let runs = 0;

describe('crash and reopen', () => {
  it('keeps every committed op and nothing else', () => {
    fc.assert(fc.property(fc.array(stepArb, { maxLength: 30 }), (steps) => {
      const file = join(dir, `run-${runs++}.db`);
      const clock = new TestClock();
      const open = () => openStore({ file, clock, mintOrigin: () => ORIGINS[0]! });
      let store = open();
      try {
        for (const step of steps) {
          if (step.kind === 'call') {
            outcome(() => applyReal(FileSystem.live(store), step.call));
            continue;
          }
          const before = { cursor: store.log.cursor(), tree: canonicalTree(FileSystem.live(store)), maxTs: store.log.maxTs() };
          store.sql.exec('BEGIN IMMEDIATE');
          for (const call of step.midTransaction) outcome(() => applyReal(FileSystem.live(store), call));
          store.sql.close();
          clock.ms -= 5_000;
          store = open();
          expect(store.log.cursor()).toEqual(before.cursor);
          expect(canonicalTree(FileSystem.live(store))).toEqual(before.tree);
          expect(store.verify().ok).toBe(true);
          if (before.maxTs) {
            FileSystem.live(store).mkdir(`/after-crash-${runs}-${store.log.count()}`);
            expect(store.log.maxTs()! > before.maxTs).toBe(true);
          }
        }
      } finally {
        store.close();
        rmSync(file, { force: true });
        rmSync(`${file}-wal`, { force: true });
        rmSync(`${file}-shm`, { force: true });
      }
    }), fcParams());
  });

  it('survives SIGKILL of a writing process', async () => {
    const file = join(dir, 'killed.db');
    const writer = `
      import { openStore, FileSystem } from ${JSON.stringify(join(import.meta.dirname, '../index.ts'))};
      const store = openStore({ file: ${JSON.stringify(file)} });
      const fs = FileSystem.live(store);
      for (let i = 0; ; i++) {
        fs.writeFile('/f' + (i % 50), 'content ' + i);
        process.stdout.write(store.log.seqOf(store.origin) + '\\n');
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', writer], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acknowledged = 0;
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const lines = chunk.toString().trim().split('\n');
        acknowledged = Number(lines[lines.length - 1]);
        if (acknowledged >= 2000 && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
    });
    expect(acknowledged).toBeGreaterThanOrEqual(2000);
    const store = openStore({ file });
    try {
      expect(store.log.count()).toBeGreaterThanOrEqual(acknowledged);
      expect(store.verify().ok).toBe(true);
      expect(FileSystem.live(store).readdir('/').length).toBe(50);
    } finally {
      store.close();
    }
  });
});
