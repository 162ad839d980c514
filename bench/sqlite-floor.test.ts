import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSystem, openStore } from '../index.ts';
import { ROOT_ID } from '../log/index.ts';
import { SqliteFloor } from './sqlite-floor.ts';

const TABLES = ['ops', 'nodes', 'entries', 'tree_ops', 'content', 'heads', 'chunks', 'removals', 'node_ops', 'entry_ops', 'parent_ops'];

function counts(file: string): Record<string, number> {
  const db = new Database(file, { readonly: true });
  try {
    return Object.fromEntries(TABLES.map((t) => [t, (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n]));
  } finally {
    db.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-floor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the SQLite floor of bench api and bench log', () => {
  it('writes the rows ledgerfs writes for the same calls, table by table', () => {
    const store = openStore({ file: join(dir, 'ledgerfs.db') });
    const fs = FileSystem.live(store);
    fs.mkdir('/d');
    fs.writeFile('/d/a', new Uint8Array(100).fill(1));
    fs.writeFile('/d/b', new Uint8Array(100).fill(2));
    fs.rename('/d/a', '/d/c');
    fs.unlink('/d/b');
    store.close();

    const floor = new SqliteFloor(join(dir, 'floor.db'));
    const d = floor.mkdir(ROOT_ID, 'd');
    const a = floor.writeFile(d, 'a', 100);
    const b = floor.writeFile(d, 'b', 100);
    floor.rename(a, d, 'c');
    floor.unlink(b, d, 'b');
    floor.close();

    expect(counts(join(dir, 'floor.db'))).toEqual(counts(join(dir, 'ledgerfs.db')));
  });

  it('runs in memory on the same schema', () => {
    const floor = new SqliteFloor(':memory:');
    expect(floor.writeFile(floor.mkdir(ROOT_ID, 'd'), 'f', 10)).toBeGreaterThan(0);
    floor.close();
  });
});
