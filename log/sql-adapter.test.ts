// The SQL adapter conformance suite (spec/sql-adapter.conformance.ts) on both backends:
// better-sqlite3 here, in memory and in a file, and a Durable Object's storage on workerd.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorker, startLocalWorker, type LocalWorker } from '../server/local-worker.ts';
import { ADAPTER_CHECKS } from '../spec/sql-adapter.conformance.ts';
import { NodeSqlite, openSqlite } from './sqlite-node.ts';
import { prefixedScratch } from './sql-scratch.ts';

const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-adapter-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** better-sqlite3 with the Durable Object's kind of scratch: prefixed tables in the same database. */
class OneDatabase extends NodeSqlite {
  override scratch() {
    return prefixedScratch(this);
  }
}

const backends = {
  'better-sqlite3 :memory:': () => openSqlite(':memory:'),
  'better-sqlite3 file': () => openSqlite(join(dir, `${files++}.db`)),
  'better-sqlite3 file, scratch tables in the same database': () => new OneDatabase(join(dir, `${files++}.db`)),
};

for (const [backend, open] of Object.entries(backends)) {
  describe(`SQL adapter: ${backend}`, () => {
    for (const [name, check] of Object.entries(ADAPTER_CHECKS)) it(name, () => check(open));
  });
}

describe('SQL adapter: Durable Object storage on workerd', () => {
  let worker: LocalWorker;
  beforeAll(async () => {
    const script = await buildWorker(join(dir, 'conformance', 'worker.js'), join(import.meta.dirname, '../spec/harness/conformance-worker.ts'));
    worker = await startLocalWorker({ script, objects: { CONFORMANCE: 'ConformanceObject' } });
  });
  afterAll(async () => worker?.dispose());

  for (const name of Object.keys(ADAPTER_CHECKS)) {
    it(name, async () => {
      const res = await worker.miniflare.dispatchFetch(`http://do/${encodeURIComponent(name)}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { failure: string | null }).failure).toBeNull();
    });
  }
});
