// No single request stops the daemon: wsd answers on one JavaScript thread, so a request whose
// cost grows with a number the caller picks (a file size, a path depth) would hold every other
// FUSE request, RPC call and HTTP route. A real wsd on kernel FUSE takes the requests that did
// (sparse files of 64 GiB to 888 TiB, a write at 1 TiB, mkdir of 2,047 levels) while another
// client polls /health every 20 ms; every poll must answer within 250 ms.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reap, spawnWsd, type WorkspaceStub, type WsdProcess } from '../spec/harness/wsd-process.ts';

const POLL_MS = 20;
const ANSWER_MS_MAX = 250;
const TIB = 2 ** 40;
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-responsive-'));
const mnt = join(dir, 'mnt');

afterAll(async () => {
  await reap();
  rmSync(dir, { recursive: true, force: true });
});

/** Polls /health until stopped; resolves with the slowest answer in milliseconds. */
function pollHealth(wsd: WsdProcess): { stop(): Promise<number> } {
  let polling = true;
  const done = (async () => {
    let slowest = 0;
    while (polling) {
      const start = performance.now();
      const res = await wsd.fetch('/health', { token: null });
      await res.text();
      slowest = Math.max(slowest, performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return slowest;
  })();
  return { stop: () => ((polling = false), done) };
}

describe('wsd stays responsive', () => {
  let wsd: WsdProcess;
  let api: WorkspaceStub;

  beforeAll(async () => {
    wsd = await spawnWsd({ MOUNT_POINT: mnt, FUSE_MOUNT: 'fuse', WSD_DB: join(dir, 'workspace.db') });
    api = wsd.connect();
  });

  it('answers /health within 250 ms while files grow to 888 TiB and a 2,047-level path is made', async () => {
    const poll = pollHealth(wsd);
    const sh = (script: string) => run('sh', ['-c', script], { cwd: mnt, encoding: 'utf8' });
    await sh('echo head > f && truncate -s 64G f && truncate -s 1T f');
    await sh(`printf tail | dd of=f bs=1M seek=${TIB / 2 ** 20} conv=notrunc status=none`);
    expect((await sh('stat -c %s f')).stdout.trim()).toBe(String(TIB + 4));
    expect((await sh(`dd if=f bs=4 skip=${TIB / 4 - 1} count=2 status=none`)).stdout).toBe('\0\0\0\0tail');
    expect(Number((await sh('du -k f')).stdout.split('\t')[0])).toBeLessThan(2048);
    await sh('truncate -s 999999999999999 f');
    await api.writeFile('/g', '');
    await api.truncate('/g', 999_999_999_999_999);
    expect((await api.stat('/g')).size).toBe(999_999_999_999_999);
    await expect(api.readFile('/f')).rejects.toMatchObject({ code: 'EFBIG' });
    const deep = '/a'.repeat(2047);
    await api.mkdir(deep, { recursive: true });
    expect((await api.stat(deep)).type).toBe('dir');
    const slowest = await poll.stop();
    expect(slowest, `the slowest /health answer took ${slowest.toFixed(0)} ms`).toBeLessThanOrEqual(ANSWER_MS_MAX);
    expect((await wsd.stop()).code).toBe(0);
  });
});
