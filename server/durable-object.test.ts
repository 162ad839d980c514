// The Durable Object replica on workerd (miniflare, SQLite storage): the Worker's routes and
// token, the filesystem and log surface over a capnweb WebSocket and HTTP batch, malformed calls
// changing nothing, a restart on the same storage resuming with nothing resent, a laggard behind
// a compaction done on the object loading its checkpoint, and chunk bytes in an R2 bucket.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newHttpBatchRpcSession, newWebSocketRpcSession, type RpcStub } from 'capnweb';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../client/index.ts';
import { canonicalTree, FileSystem, openStore, type Store } from '../index.ts';
import { CHUNK_BYTES, DO_READ_BYTES_MAX, type Op } from '../log/index.ts';
import { malformedCalls } from '../spec/harness/malformed.ts';
import { failure } from '../spec/harness/wait.ts';
import type { DurableWorkspaceService } from './durable-object.ts';
import { startLocalWorker, type LocalWorker } from './local-worker.ts';

type Stub = RpcStub<DurableWorkspaceService>;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-do-'));
const persist = join(dir, 'state');
const TOKEN = 'do-secret';
let worker: LocalWorker;
const sockets: WebSocket[] = [];

function connect(name: string, token: string | null = TOKEN, at: LocalWorker = worker): Stub {
  const socket = new WebSocket(at.wsUrl(name), { headers: token ? { authorization: `Bearer ${token}` } : {} });
  sockets.push(socket);
  return newWebSocketRpcSession<DurableWorkspaceService>(socket as unknown as globalThis.WebSocket);
}

const batch = (name: string, token: string | null = TOKEN) => newHttpBatchRpcSession<DurableWorkspaceService>(
  new Request(new URL(`/workspaces/${name}/api`, worker.url), { headers: token ? { authorization: `Bearer ${token}` } : {} }),
);

const closeSockets = () => {
  for (const socket of sockets.splice(0)) socket.terminate();
};

beforeAll(async () => {
  worker = await startLocalWorker({ persist, token: TOKEN });
});

afterAll(async () => {
  closeSockets();
  await worker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const opsOf = async (api: Stub, from = {}): Promise<Op[]> => {
  const ops: Op[] = [];
  for (let page = await api.log(from); ; page = await api.log(page.cursor)) {
    ops.push(...page.ops);
    if (!page.more) return ops;
  }
};

describe('the Worker in front of the Durable Objects', () => {
  it('answers /health, refuses unknown routes, bad names, no token and a wrong one, and changes nothing', async () => {
    const get = (path: string, token?: string) => fetch(new URL(path, worker.url), { headers: token ? { authorization: `Bearer ${token}` } : {} });
    expect(await (await get('/health')).text()).toBe('ok\n');
    expect((await get('/nope', TOKEN)).status).toBe(404);
    expect((await get('/workspaces/a/b/ws', TOKEN)).status).toBe(404);
    expect((await get('/workspaces/-bad/ws', TOKEN)).status).toBe(400);
    expect((await get('/workspaces/%E0%A4%A/ws', TOKEN)).status).toBe(400);
    expect((await get('/workspaces/guarded/ws', TOKEN)).status).toBe(426);
    expect((await get('/workspaces/guarded/api', TOKEN)).status).toBe(405);
    const api = connect('guarded');
    await api.writeFile('/kept.txt', 'kept');
    const before = (await opsOf(api)).length;
    for (const token of [null, 'wrong', `${TOKEN}x`]) {
      expect((await get('/workspaces/guarded/ws', token ?? undefined)).status).toBe(401);
      expect((await failure(batch('guarded', token).writeFile('/sneaky.txt', 'no'))).message).toContain('401');
      expect((await failure(connect('guarded', token).writeFile('/sneaky.txt', 'no'))).message).toMatch(/401|closed|WebSocket/i);
    }
    expect((await opsOf(api)).length).toBe(before);
    expect(await api.exists('/sneaky.txt')).toBe(false);
  });
});

describe('the Durable Object replica', () => {
  it('serves the filesystem and the log over a WebSocket and HTTP batch, its ops attributed to the caller', async () => {
    const api = connect('files');
    await api.mkdir('/src/deep', { recursive: true });
    await api.writeFile('/src/a.txt', 'hello\n');
    await api.write('/src/a.txt', new TextEncoder().encode('J'), 0);
    expect(text(await api.readFile('/src/a.txt'))).toBe('Jello\n');
    expect(text(await api.read('/src/a.txt', 1, 3))).toBe('ell');
    await api.rename('/src/a.txt', '/src/b.txt');
    await api.symlink('b.txt', '/src/link');
    expect(await api.readlink('/src/link')).toBe('b.txt');
    await api.link('/src/b.txt', '/src/hard');
    await api.chmod('/src/b.txt', 0o600);
    await api.utimes('/src/b.txt', 1_000, 2_000);
    await api.setxattr('/src/b.txt', 'user.k', new Uint8Array([7]));
    expect([...await api.getxattr('/src/hard', 'user.k')]).toEqual([7]);
    expect(await api.listxattr('/src/b.txt')).toEqual(['user.k']);
    const stat = await api.stat('/src/hard');
    expect(stat).toMatchObject({ type: 'file', size: 6, nlink: 2 });
    expect(stat.mode & 0o7777).toBe(0o600);
    expect((await api.readdir('/src')).map((e) => e.name)).toEqual(['b.txt', 'deep', 'hard', 'link']);
    await api.truncate('/src/b.txt', 2);
    await api.rm('/src/deep', { recursive: true });
    expect(await api.exists('/src/deep')).toBe(false);
    const viaBatch = batch('files');
    expect(text(await viaBatch.readFile('/src/b.txt'))).toBe('Je');
    await batch('files').writeFile('/batch.txt', 'from /api');
    const ops = await opsOf(api);
    expect(new Set(ops.map((op) => op.actor.kind))).toEqual(new Set(['rpc']));
    expect(ops.at(-1)!.actor).toEqual({ kind: 'rpc', id: 'http 127.0.0.1' });
    expect(ops[0]!.actor).toEqual({ kind: 'rpc', id: 'ws 127.0.0.1' });
    expect(await failure(api.stat('/missing'))).toMatchObject({ code: 'ENOENT' });
    expect(await failure(api.readFile('/src'))).toMatchObject({ code: 'EISDIR' });
  });

  it('calls back with new ops as they commit', async () => {
    const api = connect('subscribed');
    const pages: Op[][] = [];
    await api.subscribeLog({}, (page: { ops: Op[] }) => void pages.push(page.ops));
    await api.writeFile('/one', '1');
    for (let i = 0; i < 100 && pages.flat().length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pages.flat().map((op) => op.kind)).toEqual(['create', 'setContent']);
  });

  it('rejects malformed calls with EINVAL and changes nothing', async () => {
    const api = connect('malformed');
    await api.writeFile('/keep.txt', 'kept');
    const before = (await opsOf(api)).length;
    const calls: Array<[string, () => Promise<unknown>]> = [
      ...malformedCalls(api as never),
      ['compact', () => api.compact(7 as never)],
    ];
    // Internals of the objects behind the surface do not answer at all.
    for (const name of ['withChunks', 'change', 'close', 'announce', 'home', 'store']) {
      expect([name, (await failure((api as unknown as Record<string, () => Promise<unknown>>)[name]!())).message]).toEqual([name, expect.stringMatching(/not|undefined|exist|function/i)]);
    }
    for (const [what, call] of calls) {
      const error = await failure(call());
      expect([what, error.code ?? error.name]).toEqual([what, expect.stringMatching(/EINVAL|OpFormatError|EBADHASH/)]);
    }
    expect((await opsOf(api)).length).toBe(before);
    expect(text(await api.readFile('/keep.txt'))).toBe('kept');
  });

  it('resumes after a restart on the same storage: same replica, same files, nothing resent', async () => {
    const local = openStore();
    try {
      FileSystem.live(local).writeFile('/from-node.txt', 'node');
      const api = connect('durable');
      await api.writeFile('/from-do.txt', 'do');
      const first = await syncOnce(local, api);
      expect(first).toMatchObject({ pulled: 2, pushed: 2 });
      const hello = await api.hello();
      closeSockets();
      await worker.dispose();
      worker = await startLocalWorker({ persist, token: TOKEN });
      const again = connect('durable');
      expect(await again.hello()).toEqual(hello);
      expect(await syncOnce(local, again)).toMatchObject({ pulled: 0, pushed: 0 });
      expect(text(await again.readFile('/from-node.txt'))).toBe('node');
    } finally {
      local.close();
    }
  });

  it('compacts; a laggard behind the checkpoint loads it, rebases its own ops and converges', async () => {
    const laggard = openStore();
    const other = openStore();
    const stores: Store[] = [laggard, other];
    try {
      const api = connect('compacted');
      await api.writeFile('/base.txt', 'base');
      await syncOnce(laggard, api);
      FileSystem.live(laggard).writeFile('/offline.txt', 'written while behind');
      for (let i = 0; i < 20; i++) FileSystem.live(other).writeFile(`/other-${i}`, `${i}`);
      await syncOnce(other, api);
      const newest = (await opsOf(api)).at(-1)!;
      const checkpoint = await api.compact(`${newest.origin}:${newest.seq}`);
      expect(checkpoint.ops).toBeGreaterThan(20);
      expect(await failure(api.log({}))).toMatchObject({ code: 'ESNAPSHOT' });
      expect((await api.log(checkpoint.versionVector)).ops).toEqual([]);
      const result = await syncOnce(laggard, api);
      expect(result.snapshot).toEqual({ rebased: 2 });
      await syncOnce(other, api);
      const tree = canonicalTree(FileSystem.live(laggard));
      expect(canonicalTree(FileSystem.live(other))).toEqual(tree);
      expect((await api.readdir('/')).map((e) => e.name).sort()).toEqual(tree.map((e) => e.path.slice(1)).filter((p) => !p.includes('/') && p).sort());
      expect(text(await api.readFile('/offline.txt'))).toBe('written while behind');
      expect((await api.hello()).fingerprint).toBe(laggard.log.fingerprint());
    } finally {
      for (const store of stores) store.close();
    }
  });
});

describe('the Durable Object replica with an R2 bucket', () => {
  it('moves chunk bytes to the bucket, keeps only their hashes, and reads, syncs and restarts from it', async () => {
    const state = join(dir, 'r2-state');
    let bucketed = await startLocalWorker({ persist: state, token: TOKEN, r2: true });
    const local = openStore();
    try {
      const api = connect('bucketed', TOKEN, bucketed);
      const data = randomBytes(64 * 2 ** 20);
      // One message carries at most MESSAGE_BYTES_MAX (base64): a chunk per call.
      for (let at = 0; at < data.length; at += CHUNK_BYTES) await api.write('/big.bin', data.subarray(at, at + CHUNK_BYTES), at, { create: true });
      const settled = async () => {
        for (let i = 0; i < 200; i++) {
          const { chunks } = await api.stats();
          if (chunks.localCount === 0) return chunks;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        throw new Error(`chunks never left SQLite: ${JSON.stringify(await api.stats())}`);
      };
      expect(await settled()).toMatchObject({ count: 128, bytes: data.length, localBytes: 0, r2: true, lastError: null });
      const bucket = await bucketed.miniflare.getR2Bucket('CHUNKS');
      expect((await bucket.list({ prefix: 'chunks/' })).objects).toHaveLength(128);
      expect((await api.stats()).databaseBytes).toBeLessThan(8 * 2 ** 20);
      expect(await failure(api.readFile('/big.bin'))).toMatchObject({ code: 'EFBIG' });
      const readAll = async (stub: Stub) => {
        const parts: Uint8Array[] = [];
        for (let at = 0; at < data.length; at += DO_READ_BYTES_MAX) parts.push(await stub.read('/big.bin', at, DO_READ_BYTES_MAX));
        return Buffer.concat(parts);
      };
      const want = createHash('sha256').update(data).digest('hex');
      expect(createHash('sha256').update(await readAll(api)).digest('hex')).toBe(want);
      await api.write('/big.bin', new TextEncoder().encode('patched'), 1000);
      expect(text(await api.read('/big.bin', 1000, 7))).toBe('patched');
      await syncOnce(local, api);
      expect(createHash('sha256').update(FileSystem.live(local).readFile('/big.bin')).digest('hex')).toBe(createHash('sha256').update(await readAll(api)).digest('hex'));

      closeSockets();
      await bucketed.dispose();
      bucketed = await startLocalWorker({ persist: state, token: TOKEN, r2: true });
      const again = connect('bucketed', TOKEN, bucketed);
      expect(text(await again.read('/big.bin', 1000, 7))).toBe('patched');
      expect((await again.stats()).chunks.localCount).toBe(0);
    } finally {
      local.close();
      closeSockets();
      await bucketed.dispose();
    }

  });
});
