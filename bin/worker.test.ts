// `ledgerfs worker`, as a user runs it: a child process serving the Worker + Durable Object on
// workerd, reached over capnweb with the token it prints, stopped with SIGTERM, and restarted on
// the same storage directory with the same token and the same files. And the bundle `wrangler
// deploy` would upload (wrangler.jsonc, --dry-run), run on workerd.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newWebSocketRpcSession } from 'capnweb';
import { WebSocket } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import type { DurableWorkspaceService } from '../server/durable-object.ts';
import { COMPATIBILITY_DATE, COMPATIBILITY_FLAGS, startLocalWorker } from '../server/local-worker.ts';
import { CLI } from '../spec/harness/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-worker-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(...args: string[]) {
  const child = spawn(process.execPath, [CLI, 'worker', '--dir', join(dir, 'state'), '--port', '0', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LEDGERFS_TOKEN: '' } });
  let out = '';
  let err = '';
  child.stderr.on('data', (data: Buffer) => (err += data.toString()));
  const ready = await new Promise<{ url: string; token: string }>((resolve, reject) => {
    child.stdout.on('data', (data: Buffer) => {
      out += data.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))) as { url: string; token: string });
    });
    child.once('exit', (code) => reject(new Error(`ledgerfs worker exited with ${String(code)}: ${err}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { ...ready, stop: () => (child.kill('SIGTERM'), exited) };
}

function connect(url: string, token: string) {
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  return { api: newWebSocketRpcSession<DurableWorkspaceService>(socket as unknown as globalThis.WebSocket), close: () => socket.terminate() };
}

describe('ledgerfs worker', () => {
  it('serves workspaces with the token it prints, stops on SIGTERM, and restarts with its files and token', async () => {
    const first = await start('--name', 'demo');
    expect(first.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/workspaces\/demo\/ws$/);
    expect(statSync(join(dir, 'state', 'token')).mode & 0o777).toBe(0o600);
    const one = connect(first.url, first.token);
    await one.api.writeFile('/kept.txt', 'kept');
    one.close();
    expect(await first.stop()).toBe(0);

    const second = await start('--name', 'demo');
    expect(second.token).toBe(first.token);
    const two = connect(second.url, second.token);
    expect(new TextDecoder().decode(await two.api.readFile('/kept.txt'))).toBe('kept');
    two.close();
    expect(await second.stop()).toBe(0);
  });
});

describe('wrangler deploy', () => {
  it('builds from wrangler.jsonc a bundle that serves a workspace on workerd', async () => {
    const out = join(dir, 'wrangler-out');
    const wrangler = join(import.meta.dirname, '../node_modules/wrangler/bin/wrangler.js');
    const built = spawnSync(process.execPath, [wrangler, 'deploy', '--dry-run', '--outdir', out], {
      cwd: join(import.meta.dirname, '..'), encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' }, timeout: 120_000,
    });
    expect(built.status, built.stderr).toBe(0);
    expect(built.stdout).toContain('env.WORKSPACES (WorkspaceObject)');
    const config = JSON.parse(readFileSync(join(import.meta.dirname, '../wrangler.jsonc'), 'utf8').replace(/^\s*\/\/.*$/gm, '')) as Record<string, unknown>;
    expect([config.compatibility_date, config.compatibility_flags]).toEqual([COMPATIBILITY_DATE, COMPATIBILITY_FLAGS]);
    const worker = await startLocalWorker({ script: join(out, 'worker.js') });
    try {
      const { api, close } = connect(worker.wsUrl('deployed'), worker.token);
      await api.writeFile('/a', 'from the wrangler bundle');
      expect(new TextDecoder().decode(await api.readFile('/a'))).toBe('from the wrangler bundle');
      close();
    } finally {
      await worker.dispose();
    }
  });
});
