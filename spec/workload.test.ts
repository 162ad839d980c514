// A long random workload on a file store (100k ops by default, LEDGERFS_WORKLOAD_OPS to change),
// then `ledgerfs verify` on it, run as a user would. The calls are drawn from a printed seed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, expect, it } from 'vitest';
import { FileSystem, openStore } from '../index.ts';
import { applyReal, callArb, outcome } from './fs-calls.ts';

const OPS = Number(process.env.LEDGERFS_WORKLOAD_OPS ?? 100_000);
const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
const CALLS_PER_TRANSACTION = 100;
const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-workload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it(`ledgerfs verify passes after ${OPS} random ops (seed ${SEED})`, () => {
  const file = join(dir, 'workload.db');
  const store = openStore({ file });
  const fs = FileSystem.live(store);
  let calls = 0;
  for (let round = 0; store.log.count() < OPS; round++) {
    const batch = fc.sample(callArb, { seed: SEED + round, numRuns: CALLS_PER_TRANSACTION });
    store.transaction(() => {
      for (const call of batch) outcome(() => applyReal(fs, call));
    });
    calls += batch.length;
  }
  const ops = store.log.count();
  store.close();
  const result = spawnSync(process.execPath, [join(import.meta.dirname, '../bin/ledgerfs.ts'), 'verify', file, '--json'], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, ops });
  expect(calls).toBeGreaterThan(0);
});
