import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FileSystem, openStore, Workspace, WORKSPACE_CHANNEL } from '../index.ts';
import { callTool, WORKSPACE_TOOLS } from './index.ts';
import { normalizePath } from './workspace-paths.ts';

const workspace = () => new Workspace({ sql: openStore() });

describe('Workspace', () => {
  it('normalizes paths as a lexical resolve from the root does, and returns a normal one as it is', () => {
    const part = fc.constantFrom('', '.', '..', 'a', 'b.c', '..d', '.e', 'é');
    fc.assert(fc.property(fc.array(part, { maxLength: 8 }), fc.boolean(), (parts, absolute) => {
      const path = (absolute ? '/' : '') + parts.join('/');
      const normal = normalizePath(path, 'stat');
      expect(normal).toBe(posix.resolve('/', path));
      expect(normalizePath(normal, 'stat')).toBe(normal);
    }), { seed: 20261206, numRuns: 2000 });
  });

  it('attributes every op to its actor, settable per call', async () => {
    const ws = workspace();
    await ws.writeFile('/a.txt', 'one');
    await ws.as({ kind: 'tool', id: 'call-1', name: 'write' }).writeFile('/a.txt', 'two');
    const actors = [...ws.store!.log.scan()].map(({ op }) => op.actor);
    expect(actors.at(-1)).toEqual({ kind: 'tool', id: 'call-1', name: 'write' });
    expect(actors[0]).toEqual({ kind: 'api' });
  });

  it('reports what was written after a reopen, when every lookup starts from SQL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-ws-'));
    try {
      const file = join(dir, 'store.db');
      const first = openStore({ file });
      const ws = new Workspace({ sql: first });
      await ws.writeFile('/d/a.json', '{}', 'application/json');
      await ws.writeFile('/d/b.txt', 'plain');
      await ws.writeFileBytes('/d/c.bin', new Uint8Array([1, 2, 3]));
      await ws.symlink('b.txt', '/d/link');
      first.close();
      const store = openStore({ file });
      try {
        const again = new Workspace({ sql: store });
        expect(await again.stat('/d/a.json')).toMatchObject({ mimeType: 'application/json', size: 2, type: 'file' });
        expect(await again.readFile('/d/b.txt')).toBe('plain');
        expect(await again.readlink('/d/link')).toBe('b.txt');
        expect(await again.lstat('/d/link')).toMatchObject({ type: 'symlink', target: 'b.txt' });
        expect((await again.readDir('/d')).map((e) => [e.name, e.mimeType, e.size])).toEqual([
          ['a.json', 'application/json', 2], ['b.txt', 'text/plain', 5], ['c.bin', 'application/octet-stream', 3], ['link', 'text/plain', 0],
        ]);
      } finally {
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists each entry as stat reports it: directories, files, symlinks, each by name bytes', async () => {
    const ws = workspace();
    const fs = FileSystem.live(ws.store!);
    await ws.mkdir('/d/sub', { recursive: true });
    await ws.writeFile('/d/b.json', '{}', 'application/json');
    await ws.writeFile('/d/a.txt', 'plain');
    await ws.writeFileBytes('/d/c.bin', new Uint8Array(3));
    await ws.symlink('/d/a.txt', '/d/link');
    fs.mknod('/d/fifo', constants.S_IFIFO | 0o644);
    fs.setxattr('/d/a.txt', 'user.mime_type', Buffer.from([0x74, 0xff, 0x2f, 0x78]));
    const bad = Buffer.from([0x2f, 0x64, 0x2f, 0x7a, 0xc3]);
    fs.writeFile(bad, 'invalid UTF-8 name');
    const listed = await ws.readDir('/d');
    expect(listed.map((e) => e.name)).toEqual(['sub', 'a.txt', 'b.json', 'c.bin', 'fifo', 'z\uFFFD', 'link']);
    for (const entry of listed.slice(0, -2)) expect(entry).toEqual(await ws.lstat(entry.path));
    expect(listed[1]!.mimeType).toBe(new TextDecoder().decode(Buffer.from([0x74, 0xff, 0x2f, 0x78])));
    const [sec, nsec] = fs.lstat(bad).birthtime;
    expect(listed.at(-2)).toMatchObject({ path: '/d/z\uFFFD', type: 'file', size: 18, mimeType: 'text/plain', createdAt: sec * 1000 + nsec / 1e6 });
    const { target: _, ...link } = (await ws.lstat('/d/link'))!;
    expect(listed.at(-1)).toEqual(link);
    expect(await ws.readDir('/d', { offset: 2, limit: 3 })).toEqual(listed.slice(2, 5));
  });

  it('keeps a call all or nothing', async () => {
    const ws = workspace();
    await ws.writeFile('/f', 'x');
    await expect(ws.writeFile('/f/below/g', 'y')).rejects.toMatchObject({ code: 'ENOTDIR' });
    await ws.mkdir('/d');
    await ws.symlink('/d', '/l');
    const before = ws.store!.log.count();
    await expect(ws.cp('/d', '/d/inside', { recursive: true })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(ws.readDir('/', { limit: -1 })).rejects.toMatchObject({ code: 'EINVAL' });
    expect(ws.store!.log.count()).toBe(before);
  });

  it('keeps namespaces apart in one database, each a replica of its own', async () => {
    const store = openStore();
    const a = new Workspace({ sql: store });
    const b = new Workspace({ sql: store, namespace: 'agent_2' });
    await a.writeFile('/x', 'a');
    await b.writeFile('/x', 'b');
    expect([await a.readFile('/x'), await b.readFile('/x')]).toEqual(['a', 'b']);
    expect(new Workspace({ sql: store, namespace: 'agent_2' }).store).toBe(b.store);
    expect(b.store!.origin).not.toBe(a.store!.origin);
    expect(b.store!.verify().ok).toBe(true);
    expect(() => new Workspace({ sql: store, namespace: '2bad' })).toThrow(/invalid workspace namespace/);
  });

  it('asks for ctx.storage beside ctx.storage.sql', () => {
    expect(() => new Workspace({ sql: { exec: () => [], databaseSize: 0 } as never })).toThrow(/transactionSync/);
  });

  it('publishes change events on the diagnostics channel only while subscribed', async () => {
    const ws = workspace();
    const seen: unknown[] = [];
    const listener = (message: unknown) => seen.push(message);
    await ws.writeFile('/before', '');
    subscribe(WORKSPACE_CHANNEL, listener);
    await ws.writeFile('/during', '');
    unsubscribe(WORKSPACE_CHANNEL, listener);
    await ws.writeFile('/after', '');
    expect(seen).toEqual([{ type: 'create', path: '/during', entryType: 'file', namespace: 'default', name: undefined, actor: { kind: 'api' } }]);
  });

  it('streams a file a piece at a time and takes a stream', async () => {
    const ws = workspace();
    const big = new Uint8Array(1024 * 1024 + 7).map((_, i) => i % 251);
    await ws.writeFileStream('/big', new Blob([big]).stream());
    const pieces: Uint8Array[] = [];
    for await (const piece of (await ws.readFileStream('/big'))!) pieces.push(piece);
    expect(pieces.length).toBe(3);
    expect(Buffer.concat(pieces).equals(Buffer.from(big))).toBe(true);
    expect(await ws.readFileStream('/none')).toBeNull();
  });

  it('has history, blame, changes and the past', async () => {
    const ws = workspace();
    await ws.as({ kind: 'tool', id: 't1', name: 'write' }).writeFile('/f', 'a\nb\n');
    const first = ws.store!.log.cursor().versionVector;
    await ws.as({ kind: 'tool', id: 't2', name: 'edit' }).writeFile('/f', 'a\nB\nc\n');
    const history = await ws.history('/f');
    expect(history.map((h) => [h.kind, h.actor.id])).toEqual([['create', 't1'], ['setContent', 't1'], ['setContent', 't2']]);
    expect((await ws.blame('/f')).map((l) => [l.line, l.text, l.actor?.id])).toEqual([[1, 'a', 't1'], [2, 'B', 't2'], [3, 'c', 't2']]);
    const [origin, seq] = Object.entries(first)[0]!;
    const past = await ws.at(`${origin}:${seq}`);
    expect(await past.readFile('/f')).toBe('a\nb\n');
    await expect(past.writeFile('/f', 'x')).rejects.toMatchObject({ code: 'EROFS' });
    past.close();
    expect((await ws.changes(`${origin}:${seq}`)).map((c) => c.actor.id)).toEqual(['t2']);
    // An editor's save (a new file renamed over this one) keeps the file's history and its lines' blame
    await ws.as({ kind: 'tool', id: 't3', name: 'write' }).writeFile('/f.tmp', 'a\nB\nc\nd\n');
    await ws.as({ kind: 'tool', id: 't3', name: 'write' }).mv('/f.tmp', '/f');
    expect((await ws.history('/f')).map((h) => h.actor.id)).toEqual(['t1', 't1', 't2', 't3', 't3', 't3']);
    expect((await ws.blame('/f')).map((l) => l.actor?.id)).toEqual(['t1', 't2', 't2', 't3']);
  });
});

describe('agent tools', () => {
  it('read, write, edit, ls, glob, grep, find, rm, mv, each call its own actor', async () => {
    const ws = workspace();
    const call = (name: string, args: unknown, id = `${name}-1`) => callTool(ws, name, args, id);
    expect(WORKSPACE_TOOLS.map((t) => t.name)).toEqual(['read', 'write', 'edit', 'ls', 'glob', 'grep', 'find', 'rm', 'mv']);
    await call('write', { path: '/src/a.ts', content: 'const a = 1;\nconst b = 2;\nconst a2 = 3;\n' });
    expect(await call('read', { path: '/src/a.ts', offset: 2, limit: 1 })).toBe('     2\tconst b = 2;');
    await expect(call('edit', { path: '/src/a.ts', old_string: 'const a', new_string: 'let a' })).rejects.toThrow(/2 times/);
    await expect(call('edit', { path: '/src/a.ts', old_string: 'nothing', new_string: 'x' })).rejects.toThrow(/not in the file/);
    expect(await call('edit', { path: '/src/a.ts', old_string: 'const b', new_string: 'let b' }, 'edit-7')).toBe('replaced 1 occurrence in /src/a.ts');
    expect(await call('ls', { path: '/src' })).toBe('a.ts\t38');
    expect(await call('glob', { pattern: '/**/*.ts' })).toBe('/src/a.ts');
    expect(await call('grep', { pattern: 'let \\w', path: '/' })).toBe('/src/a.ts:2:let b = 2;');
    await expect(call('grep', { pattern: '(' })).rejects.toMatchObject({ code: 'EINVAL' });
    expect(await call('find', { path: '/', name: '*.ts', type: 'file' })).toBe('/src/a.ts');
    await call('mv', { from: '/src', to: '/lib' });
    await call('rm', { path: '/lib', recursive: true });
    await expect(call('write', { path: '/x', content: 1 })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(call('rm', { path: '/x', extra: true })).rejects.toThrow(/unknown argument/);
    const edits = [...ws.store!.log.scan()].filter(({ op }) => op.actor.id === 'edit-7').map(({ op }) => [op.kind, op.actor.name]);
    expect(edits).toEqual([['setContent', 'edit']]);
    expect(await ws.exists('/lib')).toBe(false);
  });
});
