// End to end with the Durable Object as the hub: real wsd processes on kernel FUSE whose
// UPSTREAM_URL is the Worker's /workspaces/<name>/ws, and the Durable Object on workerd
// (miniflare). A wsd and the object converge after writes on both sides; two wsd daemons whose
// only link is the object converge after a partition with concurrent edits of one file.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newWebSocketRpcSession, type RpcStub } from 'capnweb';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DurableWorkspaceService } from '../server/durable-object.ts';
import { buildWorker, startLocalWorker, type LocalWorker } from '../server/local-worker.ts';
import { reap, spawnWsd, type WsdProcess } from '../spec/harness/wsd-process.ts';
import { until } from '../spec/harness/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-do-e2e-'));
let worker: LocalWorker;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  worker = await startLocalWorker({ persist: join(dir, 'do') });
});

afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await reap();
  await worker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function object(name: string): RpcStub<DurableWorkspaceService> {
  const socket = new WebSocket(worker.wsUrl(name), { headers: { authorization: `Bearer ${worker.token}` } });
  sockets.push(socket);
  return newWebSocketRpcSession<DurableWorkspaceService>(socket as unknown as globalThis.WebSocket);
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const contents = (mount: string) => Object.fromEntries(readdirSync(mount).sort().map((name) => [name, readFileSync(join(mount, name), 'utf8')]));
const objectContents = async (api: RpcStub<DurableWorkspaceService>) => {
  const names = (await api.readdir('/')).map((e) => e.name).sort();
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, text(await api.readFile(`/${name}`))])));
};

const wsdEnv = (name: string, workspace: string | null) => ({
  MOUNT_POINT: join(dir, `mnt-${name}`), FUSE_MOUNT: 'fuse', WSD_DB: join(dir, `${name}.db`), WSD_TOKEN: `${name}-secret`,
  ...(workspace ? { UPSTREAM_URL: worker.wsUrl(workspace), UPSTREAM_TOKEN: worker.token } : {}),
});

/** Waits until the wsd and the object hold the same ops: version vectors and fingerprints equal. */
async function equalPositions(wsd: WsdProcess, api: RpcStub<DurableWorkspaceService>): Promise<void> {
  const local = wsd.connect();
  const position = ({ versionVector, fingerprint }: { versionVector: Record<string, number>; fingerprint: string }) => JSON.stringify([Object.entries(versionVector).sort(), fingerprint]);
  await until('equal version vectors and fingerprints', async () => (position(await local.hello()) === position(await api.hello()) ? true : undefined));
}

describe('wsd with the Durable Object as its upstream', () => {
  it('converges with the object after writes on both sides', async () => {
    const api = object('one-wsd');
    await api.writeFile('/from-object.txt', 'object\n');
    const env = wsdEnv('solo', 'one-wsd');
    const wsd = await spawnWsd(env);
    writeFileSync(join(env.MOUNT_POINT, 'from-mount.txt'), 'mount\n');
    await api.mkdir('/dir');
    await api.writeFile('/dir/nested.txt', 'nested\n');
    const want = { 'dir': undefined, 'from-mount.txt': 'mount\n', 'from-object.txt': 'object\n' };
    await until('the mount to show the object\'s files', () => {
      const names = readdirSync(env.MOUNT_POINT).sort();
      // The mkdir and the write are two calls: a sync between them shows the directory empty.
      const nested = join(env.MOUNT_POINT, 'dir/nested.txt');
      return names.join() === Object.keys(want).join() && existsSync(nested) && readFileSync(nested, 'utf8') === 'nested\n' ? true : undefined;
    });
    await until('the object to hold the mount\'s file', async () => ((await api.exists('/from-mount.txt')) ? true : undefined));
    await equalPositions(wsd, api);
    expect(text(await api.readFile('/from-mount.txt'))).toBe('mount\n');
    expect((await wsd.stop()).code).toBe(0);
  });

  it('links two wsd daemons: after a partition with concurrent edits of one file, one winner and one conflict copy on all three', async () => {
    const api = object('hub');
    const a = wsdEnv('a', 'hub');
    const b = wsdEnv('b', 'hub');
    const one = await spawnWsd(a);
    let two = await spawnWsd(b);
    writeFileSync(join(a.MOUNT_POINT, 'notes.md'), 'base\n');
    await until('the base file on b', () => (contents(b.MOUNT_POINT)['notes.md'] === 'base\n' ? true : undefined));

    // Partition: b runs without its upstream while both edit the same file; then it heals.
    expect((await two.stop()).code).toBe(0);
    const { UPSTREAM_URL: _url, UPSTREAM_TOKEN: _token, ...offline } = b;
    two = await spawnWsd(offline);
    writeFileSync(join(a.MOUNT_POINT, 'notes.md'), 'edit from a\n');
    writeFileSync(join(b.MOUNT_POINT, 'notes.md'), 'edit from b\n');
    writeFileSync(join(b.MOUNT_POINT, 'b-only.txt'), 'b\n');
    expect((await two.stop()).code).toBe(0);
    two = await spawnWsd(b);

    const converged = await until('both mounts and the object to show the same files', async () => {
      const [x, y, z] = [contents(a.MOUNT_POINT), contents(b.MOUNT_POINT), await objectContents(api)];
      const same = JSON.stringify(x) === JSON.stringify(y) && JSON.stringify(y) === JSON.stringify(z);
      return same && Object.keys(x).length === 3 ? x : undefined;
    });
    const copies = Object.keys(converged).filter((name) => name.startsWith('notes.conflict-'));
    expect(copies).toHaveLength(1);
    expect(new Set([converged['notes.md'], converged[copies[0]!]])).toEqual(new Set(['edit from a\n', 'edit from b\n']));
    for (const wsd of [one, two]) await equalPositions(wsd, api);
    expect((await two.stop()).code).toBe(0);
    expect((await one.stop()).code).toBe(0);
  });
});

describe("the Durable Object's own code writing through its Workspace", () => {
  it('is seen by a wsd mount synced with the object, attributed to the agent', async () => {
    const script = await buildWorker(join(dir, 'agent', 'worker.js'), join(import.meta.dirname, '../spec/harness/agent-worker.ts'));
    const agentWorker = await startLocalWorker({ script, objects: { WORKSPACES: 'AgentObject' } });
    try {
      const env = { ...wsdEnv('agent', null), UPSTREAM_URL: agentWorker.wsUrl('agents'), UPSTREAM_TOKEN: agentWorker.token };
      const wsd = await spawnWsd(env);
      const written = await fetch(new URL('/workspaces/agents/agent', agentWorker.url), { method: 'POST', body: JSON.stringify({ path: '/plan.md', text: 'step 1\n' }) });
      expect(written.status).toBe(200);
      await until('the agent\'s file in the mount', () => {
        try {
          return readFileSync(join(env.MOUNT_POINT, 'plan.md'), 'utf8') === 'step 1\n' ? true : undefined;
        } catch {
          return undefined;
        }
      });
      const ops = (await wsd.connect().log({})).ops;
      expect(ops.filter((op) => op.actor.kind === 'tool').map((op) => op.actor)).toContainEqual({ kind: 'tool', id: 'agent-1', name: 'write' });
      expect((await wsd.stop()).code).toBe(0);
    } finally {
      await agentWorker.dispose();
    }
  });
});
