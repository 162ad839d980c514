// End to end: the real `wsd` CLI on a free port with kernel FUSE, driven over HTTP and capnweb
// (/ws and /api) as a user would. Every endpoint and its errors, auth, the filesystem surface,
// malformed input changing nothing, exec in the mount (attribution, streaming, re-attach, the
// log cap, timeouts, environments, PTY), and shutdown and restart with an on-disk store.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Op } from '../log/index.ts';
import { FileSystem, openStore } from '../index.ts';
import type { ExecEvent } from './exec-runner.ts';
import { reap, spawnWsd, type WorkspaceStub, type WsdProcess } from '../spec/harness/wsd-process.ts';
import { malformedCalls } from '../spec/harness/malformed.ts';
import { failure } from '../spec/harness/wait.ts';

const WSD = join(import.meta.dirname, '../bin/wsd.ts');
const CLI = join(import.meta.dirname, '../bin/ledgerfs.ts');
const TOKEN = 'test-token-Zq8';
const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-wsd-'));
const mnt = join(dir, 'mnt');
const db = join(dir, 'state', 'workspace.db');
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

afterAll(async () => {
  await reap();
  rmSync(dir, { recursive: true, force: true });
});


describe('wsd configuration', () => {
  const run = (env: Record<string, string>) => spawnSync(process.execPath, [WSD], { env: { ...process.env, PORT: '0', MOUNT_POINT: mnt, FUSE_MOUNT: 'none', ...env }, encoding: 'utf8', timeout: 20_000 });

  it('names PORT when the port is taken and MOUNT_POINT when it is not empty (exit 2, one line)', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((taken.address() as { port: number }).port);
      const busy = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [WSD], { env: { ...process.env, PORT: port, HOST: '127.0.0.1', MOUNT_POINT: mnt, FUSE_MOUNT: 'none' } });
        let stderr = '';
        child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
        child.once('exit', (status) => resolve({ status, stderr }));
      });
      expect(busy).toEqual({ status: 2, stderr: `wsd: PORT: 127.0.0.1:${port} is in use: stop what holds it, or set PORT to another (0 picks a free one)\n` });
    } finally {
      taken.close();
    }
    const full = join(dir, 'not-empty');
    mkdirSync(full, { recursive: true });
    writeFileSync(join(full, 'keep'), 'x');
    const refused = run({ MOUNT_POINT: full, FUSE_MOUNT: 'fuse' });
    expect([refused.status, refused.stderr]).toEqual([2, `wsd: MOUNT_POINT: ${full} is not empty: a mount would hide its files; empty it or choose another directory\n`]);
  });

  it.each(['DISABLE_FUSE', 'FUSE_SHIM', 'WSD_FUSE_BACKEND'])('refuses the legacy variable %s, naming FUSE_MOUNT', (name) => {
    const result = run({ [name]: '1' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(name);
    expect(result.stderr).toContain('FUSE_MOUNT');
  });

  it.each([
    [{ PORT: 'http' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ MOUNT_POINT: 'relative/dir' }, 'MOUNT_POINT'],
    [{ FUSE_MOUNT: 'kernel' }, 'FUSE_MOUNT'],
    [{ WSD_DB: 'relative.db' }, 'WSD_DB'],
    [{ WSD_DB: join(mnt, 'inside.db') }, 'outside MOUNT_POINT'],
    [{ UPSTREAM_URL: 'http://host/ws' }, 'UPSTREAM_URL'],
    [{ WSD_TOKEN: '' }, 'WSD_TOKEN'],
    [{ EXEC_LOG_MAX_BYTES: '-1' }, 'EXEC_LOG_MAX_BYTES'],
    [{ HOST: '0.0.0.0' }, 'WSD_TOKEN'],
    [{ HOST: '::' }, 'WSD_TOKEN'],
    [{ HOST: '192.0.2.7' }, 'WSD_TOKEN'],
  ])('stops with a clear error for %o', (env, named) => {
    const result = run(env);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(named);
  });

  it('refuses a store another wsd serves, naming its pid', async () => {
    const owned = join(dir, 'owned', 'workspace.db');
    const first = await spawnWsd({ FUSE_MOUNT: 'none', WSD_DB: owned });
    const second = run({ WSD_DB: owned });
    expect([second.status, second.stderr]).toEqual([2, expect.stringContaining(`WSD_DB: ${owned} is open in process ${first.child.pid}`)]);
    expect((await first.stop()).code).toBe(0);
  });

  it('listens on loopback only without a token, on every address with one', async () => {
    const open = await spawnWsd({ HOST: '', FUSE_MOUNT: 'none' });
    expect(open.info.host).toBe('127.0.0.1');
    expect((await open.stop()).code).toBe(0);
    const guarded = await spawnWsd({ HOST: '', FUSE_MOUNT: 'none', WSD_TOKEN: TOKEN });
    expect(guarded.info.host).toBe('0.0.0.0');
    expect((await guarded.fetch('/__wsd/info', { token: null })).status).toBe(401);
    expect((await guarded.stop()).code).toBe(0);
  });
});

describe('wsd with kernel FUSE and a token', () => {
  let wsd: WsdProcess;
  let api: WorkspaceStub;
  const opCount = async () => ((await (await wsd.fetch('/__wsd/stats')).json()) as { log: { ops: number } }).log.ops;

  beforeAll(async () => {
    wsd = await spawnWsd({ MOUNT_POINT: mnt, FUSE_MOUNT: 'fuse', WSD_DB: db, WSD_TOKEN: TOKEN, EXEC_LOG_MAX_BYTES: '65536', WSD_TEST_MARK: 'inherited' });
    api = wsd.connect();
  });

  it('answers every route, and refuses what it does not serve', async () => {
    const health = await wsd.fetch('/health', { token: null });
    expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
    expect((await wsd.fetch('/health', { method: 'POST', token: null })).status).toBe(405);

    const info = await wsd.fetch('/__wsd/info');
    expect(info.headers.get('content-type')).toBe('application/json');
    expect(await info.json()).toMatchObject({ backend: 'fuse', mountPoint: mnt, port: wsd.info.port, store: db, mountReady: true, replica: expect.stringMatching(/^[0-9A-Z]{26}$/) });

    const stats = (await (await wsd.fetch('/__wsd/stats')).json()) as Record<string, Record<string, unknown>>;
    expect(Object.keys(stats.rows!)).toEqual(expect.arrayContaining(['ops', 'nodes', 'entries', 'content', 'chunks']));
    expect(stats.chunks).toMatchObject({ bytes: expect.any(Number), orphanBytes: expect.any(Number) });
    expect(stats.writeBuffers).toMatchObject({ count: expect.any(Number), dirtyBytes: expect.any(Number) });
    expect(stats.process).toMatchObject({ rss: expect.any(Number), heapUsed: expect.any(Number) });
    expect(stats.sync).toBeNull();

    expect(await (await wsd.fetch('/')).json()).toEqual({});
    const cases: Array<[string, string, number]> = [
      ['GET', '/api', 405], ['PUT', '/api', 405], ['GET', '/ws', 426], ['POST', '/__wsd/info', 405], ['DELETE', '/', 405], ['GET', '/nope', 404], ['GET', '/__wsd', 404],
    ];
    for (const [method, path, status] of cases) {
      const res = await wsd.fetch(path, { method });
      expect([method, path, res.status]).toEqual([method, path, status]);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    }
  });

  it('answers a target that does not parse, and an oversized batch, without falling over', async () => {
    const raw = (request: string) => new Promise<string>((resolve, reject) => {
      const socket = connect(wsd.info.port, '127.0.0.1', () => socket.end(request));
      let answer = '';
      socket.on('data', (data) => (answer += data.toString()));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
    });
    expect(await raw('GET //[ HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await raw(`POST /api HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\ncontent-length: 999999999\r\nconnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 413/);
    expect((await wsd.fetch('/health')).status).toBe(200);
  });

  it('wants the token on every route but /health, and a refused call changes nothing', async () => {
    const before = await opCount();
    for (const token of [null, 'wrong-token', `${TOKEN}x`]) {
      for (const path of ['/', '/__wsd/info', '/__wsd/stats', '/nope']) expect((await wsd.fetch(path, { token })).status).toBe(401);
      expect((await wsd.fetch('/api', { method: 'POST', token, body: '["push",["import",0,["writeFile"],["/x","y"]]]' })).status).toBe(401);
      expect((await failure(wsd.batch(token).writeFile('/sneaky.txt', 'no'))).message).toContain('401');
      const intruder = wsd.connect(token);
      expect((await failure(intruder.writeFile('/sneaky.txt', 'no'))).message).toMatch(/401|closed|WebSocket/i);
    }
    expect(await opCount()).toBe(before);
    expect(await api.exists('/sneaky.txt')).toBe(false);
  });

  it('serves the filesystem over /ws and /api', async () => {
    await api.mkdir('/src/lib', { recursive: true });
    await api.writeFile('/src/lib/a.txt', 'alpha\n');
    await api.writeFile('/src/run.sh', new TextEncoder().encode('#!/bin/sh\necho run\n'), { mode: 0o755 });
    expect(await api.readdir('/src')).toEqual([
      { name: 'lib', type: 'dir', ino: expect.any(Number) },
      { name: 'run.sh', type: 'file', ino: expect.any(Number) },
    ]);
    expect((await api.stat('/src/run.sh')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(mnt, 'src/lib/a.txt'), 'utf8')).toBe('alpha\n');

    expect(await api.write('/src/lib/a.txt', 'ALPHA', 0)).toBe(5);
    expect(text(await api.read('/src/lib/a.txt', 2, 3))).toBe('PHA');
    await api.truncate('/src/lib/a.txt', 3);
    await api.rename('/src/lib/a.txt', '/src/lib/b.txt');
    await api.symlink('lib/b.txt', '/src/link');
    expect(await api.readlink('/src/link')).toBe('lib/b.txt');
    expect(text(await api.readFile('/src/link'))).toBe('ALP');
    await api.link('/src/lib/b.txt', '/src/hard');
    expect((await api.stat('/src/hard')).nlink).toBe(2);
    await api.chmod('/src/hard', 0o600);
    await api.utimes('/src/hard', 1_700_000_000_000, 1_700_000_000_500);
    expect((await api.stat('/src/hard')).mtime).toEqual([1_700_000_000, 500_000_000]);
    await api.setxattr('/src/hard', 'user.tag', 'blue');
    expect(await api.listxattr('/src/hard')).toEqual(['user.tag']);
    expect(text(await api.getxattr('/src/hard', 'user.tag'))).toBe('blue');

    expect(await failure(api.stat('/missing'))).toMatchObject({ code: 'ENOENT' });
    expect(await failure(api.mkdir('/src'))).toMatchObject({ code: 'EEXIST' });
    expect(await failure(api.rmdir('/src'))).toMatchObject({ code: 'ENOTEMPTY' });
    expect(await failure(api.unlink('/src/lib'))).toMatchObject({ code: 'EISDIR' });
    expect(await failure(api.rm('/src'))).toMatchObject({ code: 'EISDIR' });

    // One HTTP batch: both calls travel in one request, so both results are awaited together.
    const batch = wsd.batch();
    const [, read] = await Promise.all([batch.writeFile('/batch.txt', 'over http'), batch.readFile('/batch.txt')]);
    expect(text(read)).toBe('over http');

    const odd = new Uint8Array([0x2f, 0x73, 0x72, 0x63, 0x2f, 0xff, 0xfe]); // "/src/" + bytes that are not UTF-8
    await api.mkdir(odd, { recursive: true });
    expect([...(await api.readdir('/src')).find((item: { raw?: Uint8Array }) => item.raw)!.raw!]).toEqual([0xff, 0xfe]);
    await api.rm('/src', { recursive: true });
    await api.rm('/src', { force: true });
    expect(await api.exists('/src')).toBe(false);
  });

  it('shows an RPC write through the mount at once, though the mount had the file cached', async () => {
    writeFileSync(join(mnt, 'cached.txt'), 'from the mount');
    expect(readFileSync(join(mnt, 'cached.txt'), 'utf8')).toBe('from the mount');
    await api.write('/cached.txt', 'FROM', 0); // same size: only the next open can drop the stale page
    expect(readFileSync(join(mnt, 'cached.txt'), 'utf8')).toBe('FROM the mount');
  });

  it('pages the log after a cursor, streams new ops to a subscriber, and reports stats', async () => {
    const first = await api.log({}, 2);
    expect(first.ops).toHaveLength(2);
    expect(first.more).toBe(true);
    const rest = await api.log(first.cursor);
    const all = await api.log({});
    expect([...first.ops, ...rest.ops].map((op: Op) => op.ts)).toEqual(all.ops.map((op: Op) => op.ts));

    const pages: Array<{ ops: Op[] }> = [];
    await api.subscribeLog(all.cursor, (page: { ops: Op[] }) => void pages.push(page));
    await api.writeFile('/watched.txt', 'w');
    for (let i = 0; i < 100 && pages.flatMap((p) => p.ops).length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pages.flatMap((p) => p.ops).map((op) => op.kind)).toEqual(['create', 'setContent']);
    expect(await api.stats()).toMatchObject({ log: { ops: all.ops.length + 2 } });
  });

  it('rejects malformed calls with EINVAL and changes nothing', async () => {
    await api.writeFile('/keep.txt', 'kept');
    const before = await opCount();
    const calls: Array<[string, () => Promise<unknown>]> = [
      ...malformedCalls(api as never),
      ['exec command', () => api.exec('' as never)],
      ['exec cwd outside', () => api.exec('true', { cwd: '/etc' })],
      ['exec env', () => api.exec('true', { env: { A: 1 } } as never)],
      ['exec option', () => api.exec('true', { shell: 'zsh' } as never)],
      ['exec kill signal', () => api.execKill('exec_x', 'SIGBOGUS')],
    ];
    for (const [what, call] of calls) {
      const error = await failure(call());
      expect([what, error.code ?? error.name]).toEqual([what, expect.stringMatching(/EINVAL|OpFormatError|EBADHASH/)]);
    }
    expect(await failure(api.exec('true', { cwd: 'no/such/dir' }))).toMatchObject({ code: 'ENOENT' });
    expect(await failure(api.execRead('exec_unknown'))).toMatchObject({ code: 'ENOENT' });
    expect(await opCount()).toBe(before);
    expect(text(await api.readFile('/keep.txt'))).toBe('kept');
  });

  it('runs a command in the mount: it returns, its writes show over RPC and its ops carry its id', async () => {
    await api.mkdir('/proj');
    const before = (await api.log({})).cursor;
    const run = api.exec('mkdir out && echo a > out/a.txt && echo b > out/b.txt && rm out/a.txt && pwd', { cwd: 'proj' });
    const result = await Promise.race([run, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('exec in the mount did not return within 20 s')), 20_000))]);
    expect(result.status).toMatchObject({ exitCode: 0, running: false, cwd: join(mnt, 'proj') });
    expect(text(result.stdout)).toBe(`${join(mnt, 'proj')}\n`);
    expect(await api.readdir('/proj/out')).toEqual([{ name: 'b.txt', type: 'file', ino: expect.any(Number) }]);
    expect(text(await api.readFile('/proj/out/b.txt'))).toBe('b\n');

    const { ops } = await api.log(before);
    expect(ops.length).toBeGreaterThan(0);
    // Each op names the exec and the process that made it: the shell by the exec's command, a child by its own command line.
    for (const op of ops) expect(op.actor).toMatchObject({ kind: 'exec', id: result.status.id, pid: expect.any(Number), uid: process.getuid!() });
    expect(ops.filter((op: Op) => op.kind === 'create' && op.type === 'dir').map((op: Op) => op.actor.command)).toEqual(['mkdir out']);
    expect(ops.filter((op: Op) => op.kind === 'setContent').map((op: Op) => op.actor.command)).toEqual([result.status.command, result.status.command]);
    expect(ops.map((op: Op) => op.kind).sort()).toEqual(['create', 'create', 'create', 'setContent', 'setContent', 'unlink']);
  });

  it('commits an RPC write to a file a command holds open, and attributes long command lines', async () => {
    const holder = await api.execStart('exec 3>>shared.txt; sleep 30');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = (await api.log({})).cursor;
    await api.write('/shared.txt', 'from rpc', 0);
    expect((await api.log(before)).ops.map((op: Op) => op.kind)).toEqual(['setContent']);
    await api.execKill(holder.id, 'SIGKILL');
    await api.execWait(holder.id);

    const long = await api.exec(`echo ${'x'.repeat(6000)} > long.txt`);
    expect(long.status.exitCode).toBe(0);
    expect((await api.stat('/long.txt')).size).toBe(6001);
  });

  it('streams output with sequence numbers, re-attaches from a seq, and caps the kept log', async () => {
    const streamed: ExecEvent[] = [];
    const started = await api.execStart('for i in 1 2 3; do echo line$i; sleep 0.05; done; echo oops >&2', {}, (event: ExecEvent) => void streamed.push(event));
    const final = await api.execWait(started.id);
    expect(final).toMatchObject({ exitCode: 0, running: false });
    const again: ExecEvent[] = [];
    await api.execAttach(started.id, 0, (event: ExecEvent) => void again.push(event));
    expect(again.map((e) => e.seq)).toEqual(again.map((_, i) => i));
    expect(again.at(-1)).toMatchObject({ type: 'exit', exitCode: 0 });
    expect(text(Buffer.concat(again.filter((e) => e.type === 'stdout').map((e) => e.data!)))).toBe('line1\nline2\nline3\n');
    expect(text(Buffer.concat(again.filter((e) => e.type === 'stderr').map((e) => e.data!)))).toBe('oops\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(streamed.map((e) => e.seq)).toEqual(again.map((e) => e.seq));
    const tail = await api.execRead(started.id, final.nextSeq - 1);
    expect(tail.events).toEqual([again.at(-1)]);
    expect((await api.execList()).map((s: { id: string }) => s.id)).toContain(started.id);

    // 200 KB of output against EXEC_LOG_MAX_BYTES=65536: the oldest events go, the exit stays.
    const big = await api.exec("head -c 200000 /dev/zero | tr '\\0' x");
    expect(big.stdout.length).toBeLessThanOrEqual(65536);
    expect(big.stdout.length + big.droppedBytes).toBe(200000);
    expect(big.status.firstSeq).toBeGreaterThan(0);
    const kept = await api.execRead(big.status.id, 0);
    expect(kept.events[0]!.seq).toBe(big.status.firstSeq);
  });

  it('feeds input, stops a command at its timeout, and keeps environments apart', async () => {
    const echoed = await api.exec('tr a-z A-Z', { stdin: 'piped input\n' });
    expect(text(echoed.stdout)).toBe('PIPED INPUT\n');

    const cat = await api.execStart('cat', { openStdin: true });
    await api.execWrite(cat.id, 'one ');
    await api.execWrite(cat.id, 'two');
    await api.execWrite(cat.id, null);
    await api.execWait(cat.id);
    expect(text((await api.exec(`true`)).stdout)).toBe('');
    const catOut = await api.execRead(cat.id, 0);
    expect(text(Buffer.concat(catOut.events.filter((e: ExecEvent) => e.type === 'stdout').map((e: ExecEvent) => e.data!)))).toBe('one two');

    const slow = await api.exec('sleep 30', { timeoutMs: 200 });
    expect(slow.status).toMatchObject({ timedOut: true, signal: 'SIGTERM', exitCode: null });
    const stubborn = await api.exec("trap '' TERM; sleep 30", { timeoutMs: 200 });
    expect(stubborn.status).toMatchObject({ timedOut: true, signal: 'SIGKILL' });

    const inherited = text((await api.exec('env', { env: { EXTRA: 'x y' } })).stdout);
    expect(inherited).toContain('WSD_TEST_MARK=inherited');
    expect(inherited).toContain('EXTRA=x y');
    expect(inherited).toMatch(/^WSD_EXEC_ID=exec_/m);
    expect(inherited).not.toContain('WSD_TOKEN');
    expect(inherited).not.toContain(TOKEN);
    const curated = text((await api.exec('env', { curatedEnv: true, env: { EXTRA: '1' } })).stdout);
    const names = curated.trim().split('\n').map((line) => line.split('=')[0]);
    const shellOwn = ['PWD', 'OLDPWD', 'SHLVL', '_'];
    for (const name of names) expect(['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'TERM', 'TZ', 'TMPDIR', 'EXTRA', 'WSD_EXEC_ID', ...shellOwn]).toContain(name);
    expect(curated).not.toContain('WSD_TEST_MARK');
  });

  it('runs a command in a terminal, with all of its output', async () => {
    const bulk = await api.exec("head -c 300000 /dev/zero | tr '\\0' y; echo", { pty: true });
    expect(text(bulk.stdout).replaceAll('\r\n', '\n').length + bulk.droppedBytes).toBeGreaterThanOrEqual(300001);
    const result = await api.exec('tty; stty size; echo $TERM', { pty: { cols: 120, rows: 33 } });
    const lines = text(result.stdout).split('\r\n');
    expect(lines[0]).toMatch(/^\/dev\/pts\/\d+$/);
    expect(lines[1]).toBe('33 120');
    expect(lines[2]).toMatch(/^xterm/);
    const interactive = await api.execStart('read -r name; echo "hi $name"', { pty: true });
    await api.execResize(interactive.id, 100, 30);
    await api.execWrite(interactive.id, 'ada\n');
    expect(await api.execWait(interactive.id)).toMatchObject({ exitCode: 0 });
    const out = await api.execRead(interactive.id, 0);
    expect(text(Buffer.concat(out.events.filter((e: ExecEvent) => e.type === 'stdout').map((e: ExecEvent) => e.data!)))).toContain('hi ada');
  });

  it('shuts down on SIGTERM: commits what a command still holds open, unmounts, and restarts from its store', async () => {
    const held = await api.execStart('exec 3>held.txt; printf "written before shutdown" >&3; sleep 60', { cwd: mnt });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const opsBefore = await opCount();
    api[Symbol.dispose]();
    const { code, events } = await wsd.stop('SIGTERM');
    expect(code).toBe(0);
    expect(events.at(-1)).toMatchObject({ event: 'stopped', signal: 'SIGTERM' });
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(` ${mnt} `);

    const log = spawnSync(process.execPath, [CLI, 'log', db, '--actor', held.id, '--json'], { encoding: 'utf8' });
    expect(log.status).toBe(0);
    const lines = log.stdout.trim().split('\n').map((line) => JSON.parse(line) as { kind: string; paths: string[] });
    expect(lines.map((l) => [l.kind, l.paths])).toEqual([['create', ['/held.txt']], ['setContent', ['/held.txt']]]);

    wsd = await spawnWsd({ MOUNT_POINT: mnt, FUSE_MOUNT: 'fuse', WSD_DB: db, WSD_TOKEN: TOKEN });
    api = wsd.connect();
    expect(await opCount()).toBeGreaterThan(opsBefore);
    expect(text(await api.readFile('/held.txt'))).toBe('written before shutdown');
    expect(readFileSync(join(mnt, 'proj/out/b.txt'), 'utf8')).toBe('b\n');
    expect((await wsd.stop()).code).toBe(0);
  });
});

describe('wsd killed at once', () => {
  it('keeps every RPC change it answered (SIGKILL right after the last answer)', async () => {
    const killedDb = join(dir, 'killed', 'workspace.db');
    const wsd = await spawnWsd({ MOUNT_POINT: join(dir, 'killed-mnt'), FUSE_MOUNT: 'none', WSD_DB: killedDb });
    const api = wsd.connect();
    await api.mkdir('/k');
    await api.writeFile('/k/f', new TextEncoder().encode('answered'));
    await api.rename('/k/f', '/k/g');
    await api.chmod('/k/g', 0o600);
    // the Workspace API too: wsd serves it to MCP clients
    const mcp = new Client({ name: 'test', version: '1' });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${wsd.url}/mcp`)));
    expect((await mcp.callTool({ name: 'write', arguments: { path: '/k/mcp.md', content: 'answered too' } })).isError).toBeFalsy();
    expect((await wsd.stop('SIGKILL')).code).toBe(null);
    const store = openStore({ file: killedDb });
    try {
      const fs = FileSystem.live(store);
      expect(text(fs.readFile('/k/g'))).toBe('answered');
      expect(fs.stat('/k/g').mode & 0o777).toBe(0o600);
      expect(text(fs.readFile('/k/mcp.md'))).toBe('answered too');
    } finally {
      store.close();
    }
  });
});

describe('wsd with the shim', () => {
  it('has what a command wrote in the store when the command returns, attributed to it', async () => {
    const shimMount = join(dir, 'shim');
    const wsd = await spawnWsd({ MOUNT_POINT: shimMount, FUSE_MOUNT: 'shim' });
    const api = wsd.connect();
    expect(await (await wsd.fetch('/__wsd/info')).json()).toMatchObject({ backend: 'shim', store: 'memory' });
    await api.writeFile('/in.txt', 'from rpc\n');
    const before = (await api.log({})).cursor;
    const result = await api.exec('cat in.txt > out.txt && mkdir d && echo x > d/y');
    expect(result.status.exitCode).toBe(0);
    expect(text(await api.readFile('/out.txt'))).toBe('from rpc\n');
    const { ops } = await api.log(before);
    expect(ops.length).toBeGreaterThanOrEqual(4);
    for (const op of ops) expect(op.actor).toMatchObject({ kind: 'exec', id: result.status.id });
    api[Symbol.dispose]();
    expect((await wsd.stop()).code).toBe(0);
  });
});
