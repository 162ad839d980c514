// GET /__wsd/timeline on the real daemon with kernel FUSE and a token: the page of the live store
// (a file written over RPC and a command run through exec in the mount, each in its lane), 401
// without the token, 400 with one line for a bad query, and the cut said once the range holds
// more ops than a page shows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TIMELINE_OPS_MAX } from '../log/index.ts';
import type { Timeline } from '../projections/index.ts';
import { reap, spawnWsd, type WorkspaceStub, type WsdProcess } from '../spec/harness/wsd-process.ts';

const TOKEN = 'timeline-token-Jx4';
const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-wsd-timeline-'));
let wsd: WsdProcess;
let api: WorkspaceStub;

/** The timeline a page embeds. */
function embedded(html: string): Timeline {
  const json = /<script type="application\/json" id="timeline-data">(.*?)<\/script>/s.exec(html);
  expect(json).not.toBeNull();
  return JSON.parse(json![1]!) as Timeline;
}

beforeAll(async () => {
  wsd = await spawnWsd({ MOUNT_POINT: join(dir, 'mnt'), FUSE_MOUNT: 'fuse', WSD_DB: join(dir, 'state', 'workspace.db'), WSD_TOKEN: TOKEN });
  api = wsd.connect();
});

afterAll(async () => {
  api?.[Symbol.dispose]();
  if (wsd) expect((await wsd.stop()).code).toBe(0);
  await reap();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /__wsd/timeline', () => {
  it('answers the page of the live store: a lane per RPC caller and exec, with their changes', async () => {
    await api.writeFile('/hello.txt', 'hello\n');
    const run = await api.exec('sed -i s/hello/world/ hello.txt && mv hello.txt bye.txt');
    expect(run.status.exitCode).toBe(0);

    const res = await wsd.fetch('/__wsd/timeline');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    const timeline = embedded(await res.text());
    expect(timeline).toMatchObject({ conflicts: [], cut: { ops: false, diffs: false }, opsInRange: timeline.ops.length });
    const lane = (text: string) => timeline.lanes.find((l) => l.label.includes(text))!;
    expect(lane('rpc ws 127.0.0.1:').changes).toMatchObject([{ status: 'added', path: '/hello.txt', added: 1 }]);
    const exec = lane(`exec ${run.status.id}`);
    // sed is a process of its own; bash runs the last command in its own process, which carries the exec's command
    expect(exec.commands).toEqual(['sed -i s/hello/world/ hello.txt', 'sed -i s/hello/world/ hello.txt && mv hello.txt bye.txt']);
    expect(exec.changes).toMatchObject([{ status: 'changed', from: '/hello.txt', path: '/bye.txt', added: 1, removed: 1 }]);
    expect(timeline.patches[exec.changes[0]!.patch!]).toContain('-hello\n+world\n');

    const head = await wsd.fetch('/__wsd/timeline', { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
    expect((await wsd.fetch('/__wsd/timeline', { method: 'POST' })).status).toBe(405);
  });

  it('wants the token', async () => {
    const res = await wsd.fetch('/__wsd/timeline', { token: null });
    expect(res.status).toBe(401);
    expect((await wsd.fetch('/__wsd/timeline', { token: 'guess' })).status).toBe(401);
  });

  it.each([
    ['?since=yesterdayish', /^since: "yesterdayish" is not a position/],
    ['?until=99999', /^until: op \w+:99999 is not in this store/],
    ['?since=2&until=1', /^until 1 is before since 2/],
    ['?since=', /^since: a position must be/],
    ['?from=1', /^unknown parameter "from": the timeline takes since and until$/],
    ['?until=1&until=2', /^until is given more than once/],
  ])('refuses %s with 400 and one line', async (query, message) => {
    const res = await wsd.fetch(`/__wsd/timeline${query}`);
    const body = await res.text();
    expect([res.status, res.headers.get('content-type')]).toEqual([400, 'text/plain; charset=utf-8']);
    expect(body.endsWith('\n') && body.trimEnd().split('\n').length).toBe(1);
    expect(body.trimEnd()).toMatch(message);
  });

  it('shows the newest TIMELINE_OPS_MAX ops of a longer range and says so; since/until pick a window', async () => {
    const run = await api.exec(`mkdir many && cd many && for i in $(seq 1 ${TIMELINE_OPS_MAX / 2 + 10}); do echo $i > f$i; done`, { timeoutMs: 120_000 });
    expect(run.status.exitCode).toBe(0);
    const started = performance.now();
    const res = await wsd.fetch('/__wsd/timeline');
    const html = await res.text();
    const ms = performance.now() - started;
    const timeline = embedded(html);
    process.stdout.write(`/__wsd/timeline of ${timeline.opsInRange} ops: ${html.length} bytes in ${Math.round(ms)} ms\n`);
    expect(timeline.cut.ops).toBe(true);
    expect(timeline.ops).toHaveLength(TIMELINE_OPS_MAX);
    expect(timeline.opsInRange).toBeGreaterThan(TIMELINE_OPS_MAX);
    expect(timeline.ops.at(-1)!.paths).toEqual([`/many/f${TIMELINE_OPS_MAX / 2 + 10}`]);

    const window = embedded(await (await wsd.fetch('/__wsd/timeline?since=3&until=8')).text());
    expect(window).toMatchObject({ since: '3', until: '8', opsInRange: 5, cut: { ops: false } });
    expect(window.ops.map((op) => op.label)).toEqual(['4', '5', '6', '7', '8']);
  });
});
