// bench sync: how long a fresh replica takes to catch up with one holding 100k ops and the
// chunks of 1,000 files of 64 KiB, over a loopback WebSocket (capnweb) to another process (as
// replicas are): a wsd-style replica in a child process, and the Durable Object on workerd
// (miniflare), measured in the same run. The baseline moves the same bytes in the same number of
// messages over a plain `ws` echo, in the same run.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { newWebSocketRpcSession } from 'capnweb';
import { WebSocket, WebSocketServer } from 'ws';
import { SyncClient, syncOnce } from '../client/index.ts';
import { openStore, type SyncPeer } from '../index.ts';
import { startLocalWorker } from '../server/local-worker.ts';
import type { BenchRow } from './report.ts';
import { FILES, sourceFigures, sourceStore } from './sync-workload.ts';

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Sends `messages` of the given sizes through a plain ws echo, one round trip each. */
async function echoBaseline(sizes: number[]): Promise<number> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  server.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as { port: number }).port;
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise((resolve) => ws.once('open', resolve));
  const start = process.hrtime.bigint();
  for (const size of sizes) {
    const payload = Buffer.alloc(size, 1).toString('base64');
    await new Promise<void>((resolve) => {
      ws.once('message', () => resolve());
      ws.send(payload);
    });
  }
  const elapsed = seconds(start);
  ws.close();
  await new Promise((resolve) => server.close(resolve));
  return elapsed;
}

/** The replica to catch up with, filled and served in a child process (as a peer would be). */
async function startSource(ops: number): Promise<{ port: number; opBytes: number; chunkBytes: number; count: number; chunkCount: number; fingerprint: string; stop(): void }> {
  const child = spawn(process.execPath, [join(import.meta.dirname, `sync-source${extname(import.meta.filename)}`), String(ops)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (data: Buffer) => {
      out += data.toString();
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`the source replica exited with ${String(code)}`)));
  });
  return { ...(JSON.parse(line) as { port: number; opBytes: number; chunkBytes: number; count: number; chunkCount: number; fingerprint: string }), stop: () => child.stdin.end() };
}

/** A fresh in-memory replica catching up with `url`: seconds, and whether it converged. */
async function catchUp(url: string, fingerprint: string, token?: string): Promise<{ elapsed: number; converged: boolean }> {
  const target = openStore({ verifyChunks: false });
  const client = new SyncClient(target, url, { token });
  const start = process.hrtime.bigint();
  client.start();
  await client.synced();
  const elapsed = seconds(start);
  const converged = target.log.fingerprint() === fingerprint;
  await client.stop();
  target.close();
  return { elapsed, converged };
}

/** Resident bytes of this process's workerd children (miniflare's runtime), summed. */
function workerdRss(): number {
  let bytes = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.includes('(workerd)') || Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== process.pid) continue;
      bytes += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
    } catch {
      // gone
    }
  }
  return bytes;
}

/** The same workload pushed into a Durable Object; a fresh replica then catches up from it. */
async function durableObjectCatchUp(ops: number): Promise<{ elapsed: number; converged: boolean; rssMiB: number; fillSeconds: number }> {
  const worker = await startLocalWorker();
  try {
    const url = worker.wsUrl('bench');
    const source = sourceStore(ops);
    const { fingerprint } = sourceFigures(source);
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${worker.token}` } });
    const fillStart = process.hrtime.bigint();
    await syncOnce(source, newWebSocketRpcSession<SyncPeer>(socket as unknown as globalThis.WebSocket) as unknown as SyncPeer);
    const fillSeconds = seconds(fillStart);
    socket.terminate();
    source.close();
    let peak = workerdRss();
    const sampler = setInterval(() => (peak = Math.max(peak, workerdRss())), 50);
    try {
      return { ...await catchUp(url, fingerprint, worker.token), rssMiB: peak / 2 ** 20, fillSeconds };
    } finally {
      clearInterval(sampler);
    }
  } finally {
    await worker.dispose();
  }
}

export async function benchSync(options: { ops: number }): Promise<{ rows: BenchRow[]; extra: Record<string, unknown> }> {
  const source = await startSource(options.ops);
  const { opBytes, chunkBytes, count, chunkCount } = source;
  const { elapsed, converged } = await catchUp(`ws://127.0.0.1:${source.port}/ws`, source.fingerprint);
  source.stop();
  const durable = await durableObjectCatchUp(options.ops);
  const pages = Math.ceil(opBytes / (512 * 1024));
  const baseline = await echoBaseline([...Array(pages).fill(Math.ceil(opBytes / pages)), ...Array(chunkCount).fill(Math.ceil(chunkBytes / chunkCount))]);
  const mib = (opBytes + chunkBytes) / 2 ** 20;
  return {
    rows: [
      { name: 'catch_up', value: elapsed, unit: 's', baseline, note: `${count} ops + ${FILES} files of 64 KiB; target <= 3 s for 100k ops` },
      { name: 'ops_per_s', value: count / elapsed, unit: 'ops/s' },
      { name: 'mib_per_s', value: mib / elapsed, unit: 'MiB/s', baseline: mib / baseline },
      { name: 'catch_up_from_do', value: durable.elapsed, unit: 's', baseline: elapsed, note: 'the same, from the Durable Object on workerd; baseline: catch_up; target <= 1.5x' },
      { name: 'do_rss_peak', value: durable.rssMiB, unit: 'MiB', note: 'workerd process, during catch_up_from_do' },
      { name: 'fill_do', value: durable.fillSeconds, unit: 's', note: 'pushing the workload into the Durable Object' },
    ],
    extra: { ops: count, op_bytes: opBytes, chunk_bytes: chunkBytes, converged, converged_do: durable.converged, node: process.version },
  };
}
