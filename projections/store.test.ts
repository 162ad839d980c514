import { constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSystem, openStore } from '../index.ts';

const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('group commit', () => {
  it('commits on sync or after the delay, and a failing op rolls back alone', async () => {
    const file = join(dir, 'group.db');
    const store = openStore({ file, commitDelayMs: 20 });
    const fs = FileSystem.live(store);
    fs.mkdir('/a');
    fs.writeFile('/a/f', 'one');
    const other = () => {
      const reader = openStore({ file });
      try {
        return reader.log.count();
      } finally {
        reader.close();
      }
    };
    expect(store.log.count()).toBe(3);
    expect(other()).toBe(0);
    expect(() => store.transaction(() => {
      fs.mkdir('/b');
      throw new Error('boom');
    })).toThrow('boom');
    expect(fs.exists('/b')).toBe(false);
    store.sync();
    expect(other()).toBe(3);
    fs.mkdir('/c');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(other()).toBe(4);
    fs.mkdir('/lost');
    store.sql.close();
    const reopened = openStore({ file });
    expect(FileSystem.live(reopened).readdir('/').map((e) => Buffer.from(e.name).toString())).toEqual(['a', 'c']);
    expect(reopened.verify().ok).toBe(true);
    reopened.close();
  });

  it('fsync makes changes durable at once', () => {
    const file = join(dir, 'fsync.db');
    const store = openStore({ file, commitDelayMs: 10_000 });
    const fs = FileSystem.live(store);
    const fh = fs.open('/f', constants.O_RDWR | constants.O_CREAT, 0o644);
    fs.write(fh, Buffer.from('durable'), 0);
    fs.fsync(fh);
    store.sql.close();
    const reopened = openStore({ file });
    expect(Buffer.from(FileSystem.live(reopened).readFile('/f')).toString()).toBe('durable');
    reopened.close();
  });
});

describe('verify', () => {
  it('notices any change to a projection row: a value, its type, a row more or less, on any page', () => {
    const store = openStore();
    const fs = FileSystem.live(store);
    store.transaction(() => {
      for (let i = 0; i < 4200; i++) fs.mkdir(`/d${i}`); // more rows than hashProjections reads at once
    });
    fs.writeFile('/d1/f', 'x');
    expect(store.verify().ok).toBe(true);
    for (const change of [
      'UPDATE nodes SET mode = 511 WHERE id = (SELECT max(id) FROM nodes)',
      'UPDATE entries SET name = CAST(name AS TEXT) WHERE id = (SELECT max(id) FROM entries)',
      'DELETE FROM tree_ops WHERE ts = (SELECT min(ts) FROM tree_ops)',
      'INSERT INTO conflicted (node) VALUES (1)',
    ]) {
      store.sql.exec(`SAVEPOINT tamper; ${change}`);
      expect([change, store.verify().ok]).toEqual([change, false]);
      store.sql.exec('ROLLBACK TO tamper; RELEASE tamper');
    }
    expect(store.verify().ok).toBe(true);
    store.close();
  });
});
