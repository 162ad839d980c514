// export and import as a user runs them: a round trip gives the same tree and ops under their own
// origins, --at a prefix, a checkpoint travels with the file; a corrupt, truncated or foreign file
// is refused with one line and leaves nothing behind; an existing output is never overwritten;
// a mount serves the imported store and writes under its new origin.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalTree, FileSystem, openHistory, openStore, resolvePosition } from '../index.ts';
import { sha256 } from '../log/index.ts';
import { cli, CLI } from '../spec/harness/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const json = (result: { stdout: string }) => JSON.parse(result.stdout);
const log = (db: string) => cli('log', db, '--json').stdout;

/** The tree of a store now, or at a position. */
function tree(db: string, at?: string) {
  const store = openStore({ file: db, readonly: true, existing: true });
  const view = at === undefined ? null : openHistory(store, resolvePosition(store, at).ts);
  try {
    return canonicalTree(view?.fs ?? FileSystem.live(store));
  } finally {
    view?.close();
    store.close();
  }
}

const LATER = 'version two, written after the position\n';
const big = Buffer.alloc(1_300_000);
for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;

/** A store with a history: a file in two versions, a link, a hard link, an xattr, a three-chunk file. */
function history(db: string) {
  const store = openStore({ file: db });
  const fs = FileSystem.live(store);
  const make = fs.as({ kind: 'exec', id: 'exec-1', command: 'make' });
  make.mkdir('/src');
  make.writeFile('/src/a.txt', 'version one: chunk-marker\n');
  fs.symlink('a.txt', '/src/link');
  fs.link('/src/a.txt', '/src/hard');
  fs.setxattr('/src/a.txt', 'user.note', Buffer.from('kept'));
  fs.writeFile('/src/big.bin', big);
  const position = `${store.origin}:${store.log.seqOf(store.origin)}`;
  fs.writeFile('/src/a.txt', LATER);
  fs.rename('/src/a.txt', '/src/b.txt');
  fs.unlink('/src/hard');
  fs.mkdir('/op-marker');
  const origin = store.origin;
  store.close();
  return { position, origin };
}

const db = join(dir, 'source.db');
const { position, origin } = history(db);

/** Nothing named after `name` is left in the directory (no store, no partial file, no -wal). */
const leftovers = (name: string) => readdirSync(dir).filter((file) => file.startsWith(name));

describe('export and import', () => {
  it('round trip: the same tree and ops, under their own origins; the new store makes its own under a new origin', () => {
    const file = join(dir, 'all.lfsx');
    const exported = cli('export', db, file, '--json');
    expect(exported.code).toBe(0);
    expect(json(exported)).toMatchObject({ file, from: origin, ops: 12, chunks: 5, checkpoint: null });
    const copy = join(dir, 'copy.db');
    const imported = cli('import', file, copy, '--json');
    expect(imported.code).toBe(0);
    const report = json(imported);
    expect(report).toMatchObject({ store: copy, from: origin, ops: 12, chunks: 5, versionVector: { [origin]: 12 }, fingerprint: json(exported).fingerprint });
    expect(report.origin).not.toBe(origin);
    expect(leftovers('copy.db')).toEqual(['copy.db']);
    expect(cli('verify', copy)).toMatchObject({ code: 0, stdout: expect.stringContaining('verify: ok') });
    expect(tree(copy)).toEqual(tree(db));
    expect(log(copy)).toBe(log(db));

    const store = openStore({ file: copy });
    FileSystem.live(store).writeFile('/mine', 'new');
    expect(store.log.versionVector()).toEqual({ [origin]: 12, [report.origin]: 2 });
    store.close();
  });

  it('--at exports the prefix: the tree and ops up to the position, and only the chunks they name', () => {
    const file = join(dir, 'prefix.lfsx');
    expect(json(cli('export', db, '--at', position, file, '--json'))).toMatchObject({ ops: 8, chunks: 4 });
    const copy = join(dir, 'prefix.db');
    expect(cli('import', file, copy).code).toBe(0);
    expect(cli('verify', copy).code).toBe(0);
    expect(tree(copy)).toEqual(tree(db, position));
    expect(log(copy)).toBe(cli('log', db, '--until', position, '--json').stdout);
    const store = openStore({ file: copy, readonly: true, existing: true });
    expect(store.chunks.has(sha256(Buffer.from(LATER)))).toBe(false);
    expect(store.chunks.totals().count).toBe(4);
    store.close();
  });

  it('a store with a checkpoint: the file carries it and the import starts from it', () => {
    const compacted = join(dir, 'compacted.db');
    history(compacted);
    expect(cli('compact', compacted, '--at', '6').code).toBe(0);
    const file = join(dir, 'compacted.lfsx');
    expect(json(cli('export', compacted, file, '--json'))).toMatchObject({ ops: 6, checkpoint: { ops: 6 } });
    const copy = join(dir, 'compacted-copy.db');
    expect(json(cli('import', file, copy, '--json'))).toMatchObject({ ops: 6, checkpoint: { ops: 6 } });
    expect(cli('verify', copy)).toMatchObject({ code: 0, stdout: expect.stringContaining('after a checkpoint of 6 at') });
    expect(tree(copy)).toEqual(tree(compacted));
    expect(log(copy)).toBe(log(compacted));
    const [source, imported] = [compacted, copy].map((file) => {
      const store = openStore({ file, readonly: true, existing: true });
      const { checkpoint, cursor } = { checkpoint: store.log.checkpoint, cursor: store.log.cursor() };
      store.close();
      return { checkpoint, cursor };
    });
    expect(imported).toEqual(source);

    const between = join(dir, 'between.lfsx');
    expect(json(cli('export', compacted, '--at', '9', between, '--json'))).toMatchObject({ ops: 3, checkpoint: { ops: 6 } });
    const past = join(dir, 'between.db');
    expect(cli('import', between, past).code).toBe(0);
    expect(tree(past)).toEqual(tree(compacted, '9'));

    // fork is the same export piped into an import: a compacted store forks, checkpoint and all
    const fork = join(dir, 'compacted-fork.db');
    expect(json(cli('fork', compacted, '--at', '9', fork, '--json'))).toMatchObject({ ops: 3, checkpoint: { ops: 6 } });
    expect(cli('verify', fork)).toMatchObject({ code: 0 });
    expect(tree(fork)).toEqual(tree(compacted, '9'));
  });

  it('refuses a corrupt byte in a chunk or an op, a truncated file and a file that is not an export: one line, exit 1, nothing left', () => {
    const file = join(dir, 'good.lfsx');
    expect(cli('export', db, file).code).toBe(0);
    const bytes = readFileSync(file);
    const flipped = (marker: string) => {
      const copy = Buffer.from(bytes);
      copy[copy.indexOf(marker) + 2]! ^= 0x01;
      return copy;
    };
    const cases: Array<[string, Buffer, RegExp]> = [
      ['chunk', flipped('chunk-marker'), /is corrupt: a chunk: chunk hash mismatch/],
      ['op', flipped('op-marker'), /is corrupt: its ops' fingerprint is/],
      ['truncated-end', bytes.subarray(0, bytes.length - 1), /is truncated: the record at byte \d+ runs past its end/],
      ['truncated-half', bytes.subarray(0, bytes.length >> 1), /is truncated/],
      ['truncated-record', bytes.subarray(0, bytes.length - 9), /is truncated: it ends at byte \d+, before its end record/],
      ['text', Buffer.from('hello\n'), /is not a ledgerfs export/],
      ['store', readFileSync(db), /is not a ledgerfs export/],
    ];
    for (const [name, content, message] of cases) {
      const input = join(dir, `bad-${name}.lfsx`);
      writeFileSync(input, content);
      const result = cli('import', input, join(dir, `bad-${name}.db`));
      expect([name, result.code, result.stderr.trim().split('\n').length]).toEqual([name, 1, 1]);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain(input);
      expect(leftovers(`bad-${name}.db`)).toEqual([]);
    }
  });

  it('refuses an existing output, naming it, and leaves it as it was', () => {
    const taken = join(dir, 'taken');
    writeFileSync(taken, 'keep me');
    expect(cli('export', db, taken)).toMatchObject({ code: 1, stderr: expect.stringContaining(`${taken} exists`) });
    copyFileSync(join(dir, 'all.lfsx'), join(dir, 'again.lfsx'));
    expect(cli('import', join(dir, 'again.lfsx'), taken)).toMatchObject({ code: 1, stderr: expect.stringContaining(`${taken} exists`) });
    expect(readFileSync(taken, 'utf8')).toBe('keep me');
    expect(leftovers('taken')).toEqual(['taken']);
    expect(cli('import', join(dir, 'missing.lfsx'), join(dir, 'never.db'))).toMatchObject({ code: 1, stderr: expect.stringContaining('no export at') });
    expect(cli('export', db).code).toBe(2);
  });

  it('a mount serves the imported store, and what is written there is the new origin\'s', async () => {
    const copy = join(dir, 'mounted.db');
    expect(cli('import', join(dir, 'all.lfsx'), copy).code).toBe(0);
    const mnt = mkdtempSync(join(tmpdir(), 'ledgerfs-export-mnt-'));
    const child = spawn(process.execPath, [CLI, 'mount', copy, mnt, '--mode', 'shim'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (data: Buffer) => data.toString().includes('mounted') && resolve());
        child.on('exit', (code) => reject(new Error(`mount exited ${code}`)));
      });
      expect(readFileSync(join(mnt, 'src/b.txt'), 'utf8')).toBe(LATER);
      expect(readFileSync(join(mnt, 'src/big.bin')).equals(big)).toBe(true);
      writeFileSync(join(mnt, 'src/from-mount.txt'), 'hello');
    } finally {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      rmSync(mnt, { recursive: true, force: true });
    }
    const store = openStore({ file: copy, readonly: true, existing: true });
    const made = [...store.log.scan()].map(({ op }) => op).filter((op) => op.origin === store.origin);
    expect(made.length).toBeGreaterThan(0);
    expect(Buffer.from(FileSystem.live(store).readFile('/src/from-mount.txt')).toString()).toBe('hello');
    store.close();
    expect(existsSync(copy)).toBe(true);
  });
});
