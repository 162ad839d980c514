// The ledgerfs CLI, run as a user runs it: a child process on a real store file.
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSystem, openSqlite, openStore } from '../index.ts';
import { cli } from '../spec/harness/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


/** A store with a small history: v1 of a file, then v2, a rename and a delete. */
function history(file: string) {
  const store = openStore({ file });
  const fs = FileSystem.live(store);
  fs.as({ kind: 'exec', id: 'exec-1', command: 'make' }).mkdir('/src');
  fs.as({ kind: 'exec', id: 'exec-1', command: 'make' }).writeFile('/src/a.txt', 'version 1');
  fs.symlink('a.txt', '/src/link');
  fs.link('/src/a.txt', '/src/hard');
  fs.chmod('/src/a.txt', 0o600);
  const v1 = `${store.origin}:${store.log.seqOf(store.origin)}`;
  fs.as({ kind: 'exec', id: 'exec-2', command: 'sed -i' }).writeFile('/src/a.txt', 'version 2!');
  fs.rename('/src/a.txt', '/src/b.txt');
  fs.unlink('/src/hard');
  store.close();
  return { v1 };
}

describe('ledgerfs CLI', () => {
  it('answers --version, help and help <command> (every option listed), and names a mistake with exit 2', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../package.json'), 'utf8')) as { version: string };
    expect(cli('--version')).toMatchObject({ code: 0, stdout: `ledgerfs ${pkg.version}\n` });
    expect(cli('help')).toMatchObject({ code: 0, stdout: expect.stringContaining('worker') });
    expect(cli('help', 'verify')).toMatchObject({ code: 0, stdout: expect.stringContaining('--json') });
    const log = cli('log', '--help').stdout;
    for (const option of ['--path', '--actor', '--limit', '--json', '--help']) expect(log).toContain(option);
    expect(cli('compact', '--help').stdout).toContain('--at <value>');
    expect(cli()).toMatchObject({ code: 2, stdout: expect.stringContaining('usage: ledgerfs') });
    expect(cli('nope')).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ledgerfs: unknown command 'nope'; the commands are init, .*\n$/) });
    expect(cli('help', 'nope')).toMatchObject({ code: 2, stderr: expect.stringContaining("no command 'nope'") });
    expect(cli('verify', 'x.db', '--bogus')).toMatchObject({ code: 2, stderr: expect.stringMatching(/^ledgerfs: Unknown option '--bogus' \(ledgerfs help verify\)\n$/) });
    expect(cli('verify', 'x.db', '--at', '1')).toMatchObject({ code: 2 });
  });

  it('init creates a store once', () => {
    const db = join(dir, 'init.db');
    const first = cli('init', db);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/origin [0-9A-Z]{26}/);
    expect(cli('init', db)).toMatchObject({ code: 1, stderr: expect.stringMatching(/already exists/) });
    expect(cli('log', join(dir, 'missing.db'))).toMatchObject({ code: 1, stderr: expect.stringMatching(/no store at/) });
    expect(cli('frobnicate').code).toBe(2);
    expect(cli('log').code).toBe(2);
  });

  it('log lists ops with paths and actors, filtered', () => {
    const db = join(dir, 'log.db');
    history(db);
    const all = cli('log', db, '--json').stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(all.map((l) => l.kind)).toEqual(['create', 'create', 'setContent', 'create', 'link', 'setAttr', 'setContent', 'move', 'unlink']);
    expect(all[7].paths).toEqual(['/src/a.txt', '/src/b.txt']);
    expect(all[8].paths).toEqual(['/src/hard']);
    const byExec = cli('log', db, '--actor', 'exec-2', '--json').stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(byExec).toHaveLength(1);
    expect(byExec[0]).toMatchObject({ kind: 'setContent', paths: ['/src/a.txt'], actor: { id: 'exec-2', command: 'sed -i' } });
    const underLink = cli('log', db, '--path', '/src/link', '--json').stdout.trim().split('\n');
    expect(underLink).toHaveLength(1);
    const text = cli('log', db, '--path', '/src/b.txt');
    expect(text.stdout).toMatch(/move\s+\/src\/a.txt -> \/src\/b.txt/);
    expect(cli('log', db, '--limit', '2', '--json').stdout.trim().split('\n')).toHaveLength(2);
  });

  it('verify passes on a good store and fails on a tampered projection', () => {
    const db = join(dir, 'verify.db');
    history(db);
    expect(cli('verify', db)).toMatchObject({ code: 0, stdout: expect.stringMatching(/verify: ok/) });
    const store = openStore({ file: db });
    store.sql.exec("UPDATE nodes SET mode = 511 WHERE type = 'file'");
    store.close();
    const bad = cli('verify', db, '--json');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, projections: { ok: false } });
  });

  it('replay writes the past tree at an op and at a time', () => {
    const db = join(dir, 'replay.db');
    const { v1 } = history(db);
    const past = join(dir, 'past');
    const result = cli('replay', db, '--at', v1, '--out', past);
    expect(result.code).toBe(0);
    expect(readFileSync(join(past, 'src/a.txt'), 'utf8')).toBe('version 1');
    expect(statSync(join(past, 'src/a.txt')).mode & 0o777).toBe(0o600);
    expect(readlinkSync(join(past, 'src/link'))).toBe('a.txt');
    expect(statSync(join(past, 'src/hard')).ino).toBe(statSync(join(past, 'src/a.txt')).ino);
    expect(existsSync(join(past, 'src/b.txt'))).toBe(false);

    const now = join(dir, 'now');
    expect(cli('replay', db, '--at', String(Date.now() + 1000), '--out', now).code).toBe(0);
    expect(readFileSync(join(now, 'src/b.txt'), 'utf8')).toBe('version 2!');
    expect(lstatSync(join(now, 'src/link')).isSymbolicLink()).toBe(true);
    expect(existsSync(join(now, 'src/hard'))).toBe(false);

    expect(cli('replay', db, '--at', v1, '--out', now)).toMatchObject({ code: 1, stderr: expect.stringMatching(/not empty/) });
    expect(cli('replay', db, '--at', 'yesterday-ish', '--out', join(dir, 'x'))).toMatchObject({ code: 2, stderr: expect.stringMatching(/is not a position/) });
    expect(cli('replay', db, '--out', join(dir, 'y')).code).toBe(2);
  });

  it('compact replaces the log up to an op; log, verify and replay start from the checkpoint', () => {
    const db = join(dir, 'compact.db');
    const { v1 } = history(db);
    expect(cli('compact', db)).toMatchObject({ code: 0, stdout: expect.stringContaining('nothing to compact: no op in the log is an hour old') });
    const serving = openStore({ file: db }); // as a running wsd would hold it
    expect(cli('compact', db, '--at', v1)).toMatchObject({ code: 1, stderr: expect.stringContaining(`is open in process ${process.pid}`) });
    serving.close();
    const result = cli('compact', db, '--at', v1, '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ replaced: 6, covered: 6, left: 3, pages: 1 });
    expect(cli('log', db, '--json').stdout.trim().split('\n').map((line) => JSON.parse(line).kind)).toEqual(['setContent', 'move', 'unlink']);
    expect(cli('log', db, '--json').stdout).toMatch(/"\/src\/b.txt"/);
    expect(JSON.parse(cli('verify', db, '--json').stdout)).toMatchObject({ ok: true, ops: 3, checkpoint: { ops: 6 } });
    expect(cli('replay', db, '--at', v1, '--out', join(dir, 'gone'))).toMatchObject({ code: 1, stderr: expect.stringMatching(/in the checkpoint/) });
    const now = join(dir, 'after-compact');
    expect(cli('replay', db, '--at', String(Date.now() + 1000), '--out', now).code).toBe(0);
    expect(readFileSync(join(now, 'src/b.txt'), 'utf8')).toBe('version 2!');
    expect(cli('compact', db, '--at', v1)).toMatchObject({ code: 1, stderr: expect.stringMatching(/is in the checkpoint/) });
    expect(cli('compact', db, '--at', '2000-01-01')).toMatchObject({ code: 1, stderr: expect.stringMatching(/is before the checkpoint/) });
  });

  it('compact without --at cuts an hour ago and gives the space back to the disk', () => {
    const db = join(dir, 'reclaim.db');
    const store = openStore({ file: db, clock: { now: () => Date.now() - 2 * 3600_000 } });
    const fs = FileSystem.live(store);
    // An agent rewriting one file 300 times: every version but the last is history only.
    for (let i = 0; i < 300; i++) fs.writeFile('/notes.md', `version ${i}\n`.repeat(400));
    store.close();
    const result = cli('compact', db, '--json');
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { replaced: number; left: number; chunksFreed: number; bytesBefore: number; bytesAfter: number };
    expect(report).toMatchObject({ replaced: 301, left: 0, chunksFreed: 299 });
    expect(report.bytesAfter).toBeLessThan(report.bytesBefore / 2);
    expect(JSON.parse(cli('verify', db, '--json').stdout)).toMatchObject({ ok: true, checkpoint: { ops: 301 } });
    expect(cli('compact', db).stdout).toContain('nothing to compact');
  });

  it('log, verify and replay only read: a file that is not a store is refused, named, and left as it was', () => {
    const foreign = join(dir, 'other.sqlite');
    const other = openSqlite(foreign);
    other.exec('CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES (\'mine\')');
    other.close();
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not a database at all, just some text that is long enough to have a header\n'.repeat(4));
    const before = [foreign, empty, text].map((file) => readFileSync(file));
    for (const file of [foreign, empty, text]) {
      for (const args of [['log', file], ['verify', file], ['replay', file, '--at', '1', '--out', join(dir, 'nope')], ['mount', file, join(dir, 'nope'), '--mode', 'none']]) {
        const result = cli(...args);
        expect([args, result.code, result.stderr]).toEqual([args, 1, expect.stringContaining(`${file} is not a ledgerfs store`)]);
      }
    }
    expect([foreign, empty, text].map((file) => readFileSync(file))).toEqual(before);
    expect(existsSync(`${empty}-wal`)).toBe(false);
  });

  it('one process owns a store: mount and compact refuse one that another process writes, readers do not count', () => {
    const db = join(dir, 'owned.db');
    const { v1 } = history(db);
    const serving = openStore({ file: db }); // as a running wsd or mount holds it
    try {
      for (const args of [['mount', db, join(dir, 'second'), '--mode', 'none'], ['compact', db, '--at', '1']]) {
        expect(cli(...args)).toMatchObject({ code: 1, stderr: expect.stringContaining(`is open in process ${process.pid}`) });
      }
      expect(cli('log', db).code).toBe(0);
      expect(cli('verify', db).stdout).toMatch(/verify: ok/);
      const reader = openStore({ file: db, readonly: true });
      expect(() => FileSystem.live(reader).writeFile('/x', 'x')).toThrow(/readonly/);
      reader.close();
    } finally {
      serving.close();
    }
    expect(cli('compact', db, '--at', v1)).toMatchObject({ code: 0, stderr: '' });
  });

  it('bench sync prints one JSON line', () => {
    const result = cli('bench', 'sync', '--json', '--ops', '5000');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout.trim());
    expect(report).toMatchObject({ bench: 'sync', converged: true });
    expect(report.results.catch_up.value).toBeGreaterThan(0);
  });

  it('bench log prints one JSON line', () => {
    const result = cli('bench', 'log', '--json', '--ops', '5000');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!);
    expect(report.bench).toBe('log');
    expect(report.verify_ok).toBe(true);
    for (const key of ['append_single_txn', 'append_batched', 'rebuild']) expect(report.results[key].value).toBeGreaterThan(0);
  });
});
