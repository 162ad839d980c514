// The sync protocol: in process against the service, then over a real loopback WebSocket and
// HTTP batch with capnweb.
import { newHttpBatchRpcSession } from 'capnweb';
import { constants } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CHUNK_BYTES, OpFormatError } from '../log/index.ts';
import { canonicalTree, FileSystem, openStore, type Hello, type SyncPeer } from '../index.ts';
import { startHttpServer, type HttpServer } from '../server/http-server.ts';
import { SyncService, syncSession } from '../server/sync-service.ts';
import { syncOnce, SyncClient } from './index.ts';

const A = '01JD3Q4Z5X6Y7Z8A9B0C1D2E3A';
const B = '01JD3Q4Z5X6Y7Z8A9B0C1D2E3B';

function replica(origin: string) {
  const store = openStore({ mintOrigin: () => origin });
  return { store, fs: FileSystem.live(store) };
}

const servers: HttpServer[] = [];
const clients: SyncClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.stop();
  for (const server of servers.splice(0)) await server.close();
});

describe('syncOnce', () => {
  it('converges two replicas in process, chunks and all, and resends nothing after', async () => {
    const a = replica(A);
    const b = replica(B);
    a.fs.mkdir('/src');
    a.fs.writeFile('/src/big.bin', Buffer.alloc(3 * 512 * 1024 + 7, 9));
    b.fs.writeFile('/readme', 'from b');
    const first = await syncOnce(b.store, new SyncService(a.store));
    expect(first).toMatchObject({ pulled: 3, pushed: 2 });
    expect(canonicalTree(a.fs)).toEqual(canonicalTree(b.fs));
    expect(a.store.log.fingerprint()).toBe(b.store.log.fingerprint());
    expect(await syncOnce(b.store, new SyncService(a.store))).toMatchObject({ pulled: 0, pushed: 0 });
  });

  it('moves no bytes for the holes of a sparse file', async () => {
    const a = replica(A);
    const b = replica(B);
    const TIB = 2 ** 40;
    a.fs.writeFile('/sparse', 'head');
    const fh = a.fs.open('/sparse', constants.O_WRONLY);
    a.fs.write(fh, Buffer.from('tail'), TIB);
    a.fs.release(fh);
    const counting: SyncPeer & { bytes: number } = Object.assign(new SyncService(a.store), { bytes: 0 });
    const chunks = counting.chunks.bind(counting);
    counting.chunks = async (hashes) => {
      const got = await chunks(hashes);
      for (const data of got) counting.bytes += data.length;
      return got;
    };
    await syncOnce(b.store, counting);
    expect(counting.bytes).toBe(4 + CHUNK_BYTES + 4);
    expect(b.fs.stat('/sparse').size).toBe(TIB + 4);
    const read = b.fs.open('/sparse', constants.O_RDONLY);
    expect(Buffer.from(b.fs.read(read, TIB - 4, 8)).toString()).toBe('\0\0\0\0tail');
    b.fs.release(read);
    expect(a.store.log.fingerprint()).toBe(b.store.log.fingerprint());
  });

  it('pages large histories', async () => {
    const a = replica(A);
    const b = replica(B);
    a.store.transaction(() => {
      for (let i = 0; i < 10_000; i++) a.fs.mkdir(`/d${i}`);
    });
    const counting: SyncPeer & { pulls: number } = Object.assign(new SyncService(a.store), { pulls: 0 });
    const pull = counting.pull.bind(counting);
    counting.pull = (after) => { counting.pulls++; return pull(after); };
    expect((await syncOnce(b.store, counting)).pulled).toBe(10_000);
    expect(counting.pulls).toBeGreaterThan(2);
  });

  it('refuses bad input and changes nothing', () => {
    const a = replica(A);
    const b = replica(B);
    b.fs.writeFile('/f', 'content');
    const service = new SyncService(a.store);
    const ops = b.store.log.after({}, 100).map((s) => s.bytes);
    expect(() => service.push(ops)).toThrow(/not in the chunk store/);
    expect(a.store.log.count()).toBe(0);
    expect(() => service.putChunk(new Uint8Array(32), Buffer.from('x'))).toThrow(/hash mismatch/);
    expect(() => service.pull({ nope: 1 })).toThrow(/bad version vector/);
    expect(() => service.pull([1, 2])).toThrow(/version vector must be an object/);
    expect(() => service.want('abc')).toThrow(/array/);
    expect(() => service.push([Buffer.from([0xc1])])).toThrow(OpFormatError);
    const gap = b.store.log.after({}, 100).slice(1).map((s) => s.bytes);
    expect(() => service.push(gap)).toThrow();
    expect(a.store.log.count()).toBe(0);
  });
});

describe('over the network', () => {
  it('keeps two replicas in step over a WebSocket with concurrent writes', async () => {
    const a = replica(A);
    const b = replica(B);
    const server = await startHttpServer({ session: () => syncSession(a.store) });
    servers.push(server);
    const client = new SyncClient(b.store, `ws://127.0.0.1:${server.port}/ws`);
    clients.push(client);
    client.start();
    await client.synced();
    a.fs.writeFile('/from-a', 'a');
    b.fs.writeFile('/from-b', 'b');
    for (let i = 0; i < 50 && (b.store.log.count() < 4 || a.store.log.count() < 4); i++) await client.synced();
    expect(canonicalTree(a.fs)).toEqual(canonicalTree(b.fs));
    expect(client.state()).toMatchObject({ connected: true, lagOps: 0, lastError: null });
  });

  it('reconnects after the upstream restarts', async () => {
    const a = replica(A);
    const b = replica(B);
    let server = await startHttpServer({ session: () => syncSession(a.store) });
    const port = server.port;
    const client = new SyncClient(b.store, `ws://127.0.0.1:${port}/ws`);
    clients.push(client);
    client.start();
    await client.synced();
    await server.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.state().connected).toBe(false);
    a.fs.writeFile('/while-away', 'x');
    server = await startHttpServer({ session: () => syncSession(a.store), port });
    servers.push(server);
    await client.synced();
    expect(b.fs.exists('/while-away')).toBe(true);
  });

  it('answers the same surface over HTTP batch', async () => {
    const a = replica(A);
    a.fs.mkdir('/x');
    const server = await startHttpServer({ session: () => syncSession(a.store) });
    servers.push(server);
    const api = newHttpBatchRpcSession<{ hello(): Hello }>(`http://127.0.0.1:${server.port}/api`);
    expect(await api.hello()).toMatchObject({ replica: A, versionVector: { [A]: 1 }, ops: 1 });
    const health = await fetch(`http://127.0.0.1:${server.port}/health`);
    expect(await health.text()).toBe('ok\n');
    expect((await fetch(`http://127.0.0.1:${server.port}/api`)).status).toBe(405);
    expect((await fetch(`http://127.0.0.1:${server.port}/nope`)).status).toBe(404);
  });
});
