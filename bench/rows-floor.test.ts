import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSystem, openStore, PROJECTION_TABLES } from '../index.ts';
import { RowsFloor } from './rows-floor.ts';

/** Every row of each table, in a stable order. */
function dump(file: string, tables: readonly string[]): Record<string, string[]> {
  const db = new Database(file, { readonly: true });
  try {
    return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM ${t}`).raw(true).all().map((row) => JSON.stringify(row)).sort()]));
  } finally {
    db.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-rows-floor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the rows floor of bench log', () => {
  const source = join(dir, 'source.db');
  const store = openStore({ file: source });
  const fs = FileSystem.live(store);
  fs.mkdir('/d');
  for (let i = 0; i < 20; i++) fs.writeFile(`/d/f${i}`, new Uint8Array(100).fill(i));
  fs.rename('/d/f1', '/d/g1');
  fs.unlink('/d/f2');
  fs.writeFile('/d/f3', 'again');
  store.close();
  const floor = new RowsFloor(source);
  const all = tablesOf(source);

  it('writes every row of every table the run left, over the transactions asked for', () => {
    expect(floor.append(join(dir, 'append.db'), 7)).toBeGreaterThan(0);
    expect(floor.append(join(dir, 'append-encoded.db'), 7, { encode: true })).toBeGreaterThan(0);
    expect(dump(join(dir, 'append-encoded.db'), all)).toEqual(dump(source, all));
    const written = dump(join(dir, 'append.db'), all);
    expect(written).toEqual(dump(source, all));
    expect(written.ops!.length).toBeGreaterThan(40);
  });

  it('reads the log and writes every projection row', () => {
    expect(floor.rebuild(join(dir, 'rebuild.db'))).toBeGreaterThan(0);
    const projections = Object.keys(PROJECTION_TABLES);
    expect(dump(join(dir, 'rebuild.db'), [...projections, 'ops'])).toEqual(dump(source, [...projections, 'ops']));
  });
});

function tablesOf(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[];
  } finally {
    db.close();
  }
}
