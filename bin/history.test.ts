// The history commands as a user runs them: log's bounds, show, diff, blame, changes, fork, and
// the time-travel mount; bad positions are exit 2 with one line; a closed pipe is no error.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSystem, openStore } from '../index.ts';
import { fuseUnavailable } from '../mount/mode.ts';
import { cli, CLI } from '../spec/harness/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (text: string) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line));

const db = join(dir, 'session.db');
const store = openStore({ file: db });
const fs = FileSystem.live(store);
fs.as({ kind: 'exec', id: 'exec-1', command: 'make' }).mkdir('/src');
fs.as({ kind: 'exec', id: 'exec-1', command: 'make' }).writeFile('/src/a.txt', 'one\ntwo\n');
const sed = fs.as({ kind: 'fuse', id: 'exec-2', pid: 4242, uid: 0, command: 'sed -i s/two/TWO/ a.txt' });
sed.writeFile('/src/.sedQ', 'one\nTWO\n');
sed.rename('/src/.sedQ', '/src/a.txt');
for (let i = 0; i < 300; i++) fs.writeFile(`/many/${i}`.replace('/many/', '/m'), `${i}\n`);
const origin = store.origin;
store.close();

describe('history commands', () => {
  it('log: --since/--until by op, --tail, --limit, --reverse, --actor by command', () => {
    expect(lines(cli('log', db, '--since', '3', '--until', '6', '--json').stdout).map((l) => l.op)).toEqual([4, 5, 6].map((n) => `${origin}:${n}`));
    expect(lines(cli('log', db, '--tail', '2', '--json').stdout).map((l) => l.op)).toEqual([`${origin}:605`, `${origin}:606`]);
    expect(lines(cli('log', db, '--tail', '2', '--reverse', '--json').stdout).map((l) => l.op)).toEqual([`${origin}:606`, `${origin}:605`]);
    expect(lines(cli('log', db, '--limit', '2', '--json').stdout)).toHaveLength(2);
    expect(lines(cli('log', db, '--actor', 'sed -i', '--json').stdout).map((l) => l.kind)).toEqual(['create', 'setContent', 'move']);
    expect(lines(cli('log', db, '--actor', '4242', '--json').stdout)).toHaveLength(3);
    expect(lines(cli('log', db, '--path', '/src/a.txt', '--json').stdout).map((l) => l.kind)).toEqual(['create', 'setContent', 'create', 'setContent', 'move']);
    const human = cli('log', db, '--limit', '3');
    expect(human.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +1 +create +\/src +\[exec exec-1 "make"\]/);
    expect(human.stdout).not.toContain(origin);
    expect(cli('log', db, '--tail', '2', '--limit', '2').code).toBe(2);
  });

  it('every command refuses a position that names nothing: exit 2, one line', () => {
    for (const args of [['log', db, '--since', '9999'], ['log', db, '--until', 'soon'], ['show', db, '9999'], ['diff', db, '1', 'ZZZZ:1'], ['blame', db, '/src/a.txt', '--at', '1h-ish'], ['fork', db, '--at', `${Date.now() + 3_600_000}`, join(dir, 'no.db')]]) {
      const result = cli(...args);
      expect([args, result.code, result.stderr.trim().split('\n').length]).toEqual([args, 2, 1]);
    }
    expect(existsSync(join(dir, 'no.db'))).toBe(false);
  });

  it('show, diff (--stat, --name-only), blame and changes', () => {
    const show = cli('show', db, '5');
    expect(show.stdout).toMatch(/setContent +\/src\/\.sedQ/);
    expect(show.stdout).toMatch(/by fuse exec-2 pid 4242 "sed -i s\/two\/TWO\/ a.txt" uid 0/);
    expect(show.stdout).toContain('+TWO');
    expect(JSON.parse(cli('show', db, '5', '--json').stdout)).toMatchObject({ kind: 'setContent', changes: [{ status: 'changed', added: 2 }] });
    expect(cli('diff', db, '3', '6').stdout).toContain('M /src/a.txt  +1 -1\n--- a/src/a.txt\n+++ b/src/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO');
    expect(cli('diff', db, '3', '6', '--stat').stdout).toBe('M /src/a.txt  +1 -1\n');
    expect(cli('diff', db, '6', '--name-only').stdout.trim().split('\n')).toHaveLength(300);
    expect(lines(cli('diff', db, '6', '--json').stdout)[0]).toMatchObject({ status: 'added', path: '/m0' });
    expect(cli('blame', db, '/src/a.txt').stdout).toMatch(/^ +3 [\d-]+ [\d:]+ make +1\| one\n +5 [\d-]+ [\d:]+ sed -i s\/two\/TWO\/ a.txt +2\| TWO\n$/);
    expect(lines(cli('blame', db, '/src/a.txt', '--at', '2', '--json').stdout)).toEqual([]);
    expect(lines(cli('blame', db, '/src/a.txt', '--at', '3', '--json').stdout).map((l) => l.text)).toEqual(['one', 'two']);
    expect(cli('changes', db, '--actor', 'exec-2').stdout).toContain('M /src/a.txt  +1 -1');
    expect(cli('changes', db, '--actor', 'nobody')).toMatchObject({ code: 2 });
  });

  it('a reader that goes away ends log quietly', () => {
    const result = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" log "${db}" | head -1`], { encoding: 'utf8' });
    expect(result.stdout.split('\n')).toHaveLength(2);
    expect(result.stderr).toBe('');
  });

  it('fork makes a new replica with the prefix, usable at once', () => {
    const fork = join(dir, 'fork.db');
    const result = cli('fork', db, '--at', '6', fork, '--json');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ ops: 6, from: origin });
    expect(report.origin).not.toBe(origin);
    expect(cli('verify', fork)).toMatchObject({ code: 0 });
    const forked = openStore({ file: fork });
    const ffs = FileSystem.live(forked);
    expect(new TextDecoder().decode(ffs.readFile('/src/a.txt'))).toBe('one\nTWO\n');
    ffs.writeFile('/src/new.txt', 'mine');
    expect(forked.log.seqOf(forked.origin)).toBe(2);
    forked.close();
    expect(cli('fork', db, '--at', '6', fork)).toMatchObject({ code: 1, stderr: expect.stringMatching(/exists/) });
  });

  it.skipIf(fuseUnavailable() !== null)('mount --at serves the past read-only, and unmounts', async () => {
    const mnt = mkdtempSync(join(tmpdir(), 'ledgerfs-at-'));
    const child = spawn(process.execPath, [CLI, 'mount', db, mnt, '--at', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (data: Buffer) => data.toString().includes('mounted') && resolve());
        child.on('exit', (code) => reject(new Error(`mount exited ${code}`)));
      });
      expect(readFileSync(join(mnt, 'src/a.txt'), 'utf8')).toBe('one\ntwo\n');
      expect(existsSync(join(mnt, 'm0'))).toBe(false);
      expect(() => appendFileSync(join(mnt, 'src/a.txt'), 'x')).toThrow(expect.objectContaining({ code: 'EROFS' }));
      expect(() => appendFileSync(join(mnt, 'new.txt'), 'x')).toThrow(expect.objectContaining({ code: 'EROFS' }));
    } finally {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      if (spawnSync('mountpoint', ['-q', mnt]).status === 0 && spawnSync('fusermount', ['-u', mnt]).status !== 0) spawnSync('fusermount', ['-uz', mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });
});
