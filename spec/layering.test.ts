// The layering rules, checked on the source: log/ imports nothing above it; log/ and projections/
// import no Node-only module (the one exception is the better-sqlite3 adapter, which only Node
// code imports), and neither do the modules the Durable Object bundle is made of; node:crypto
// (hash, createHash) is allowed there because workerd provides it under nodejs_compat.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const sources = (folder: string) => readdirSync(join(root, folder)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => `${folder}/${f}`);
const imports = (file: string) => [...readFileSync(join(root, file), 'utf8').matchAll(/^(?:import|export)\s(?:[^'"]*?from\s+)?'([^']+)'/gm)].map((m) => m[1]!);

/** What code that runs on workerd may import, besides its own relative modules. */
const WORKERD_SAFE = new Set(['node:crypto', 'msgpackr', 'ulid', 'capnweb', 'diff']);
const NODE_ONLY = new Set(['log/sqlite-node.ts', 'log/store-file.ts']);
const DURABLE_OBJECT = ['server/durable-object.ts', 'server/worker.ts', 'server/filesystem-service.ts', 'server/sync-service.ts', 'server/r2-chunks.ts'];

describe('layering', () => {
  it('log/ does not import projections/ or anything above it', () => {
    for (const file of sources('log')) expect([file, imports(file).filter((s) => s.startsWith('..'))]).toEqual([file, []]);
  });

  it('log/, projections/ and the Durable Object modules import only what workerd provides', () => {
    for (const file of [...sources('log'), ...sources('projections'), ...DURABLE_OBJECT].filter((f) => !NODE_ONLY.has(f))) {
      const outside = imports(file).filter((s) => !s.startsWith('.') && !WORKERD_SAFE.has(s));
      const reachesNodeOnly = imports(file).filter((s) => [...NODE_ONLY].some((n) => s.endsWith(n.split('/')[1]!)));
      expect([file, outside, reachesNodeOnly]).toEqual([file, [], []]);
    }
  });
});
