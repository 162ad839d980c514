// bench sync: how long a fresh replica takes to catch up with one holding 100k ops and the
// chunks of 1,000 files of 64 KiB, over a loopback WebSocket (capnweb) to another process (as
// replicas are); the baseline moves the same bytes in the same number of messages over a plain
// `ws` echo, in the same run.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { SyncClient } from '../client/index.ts';
import { openStore } from '../index.ts';
import type { BenchRow } from './report.ts';

const FILES = 1000;

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
  const child = spawn(process.execPath, [join(import.meta.dirname, 'sync-source.ts'), String(ops)], { stdio: ['pipe', 'pipe', 'inherit'] });
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

export async function benchSync(options: { ops: number }): Promise<{ rows: BenchRow[]; extra: Record<string, unknown> }> {
  const source = await startSource(options.ops);
  const { opBytes, chunkBytes, count, chunkCount } = source;
  const target = openStore({ verifyChunks: false });
  const client = new SyncClient(target, `ws://127.0.0.1:${source.port}/ws`);
  const start = process.hrtime.bigint();
  client.start();
  await client.synced();
  const elapsed = seconds(start);
  const converged = target.log.fingerprint() === source.fingerprint;
  await client.stop();
  source.stop();
  target.close();
  const pages = Math.ceil(opBytes / (512 * 1024));
  const baseline = await echoBaseline([...Array(pages).fill(Math.ceil(opBytes / pages)), ...Array(chunkCount).fill(Math.ceil(chunkBytes / chunkCount))]);
  const mib = (opBytes + chunkBytes) / 2 ** 20;
  return {
    rows: [
      { name: 'catch_up', value: elapsed, unit: 's', baseline, note: `${count} ops + ${FILES} files of 64 KiB; target <= 3 s for 100k ops` },
      { name: 'ops_per_s', value: count / elapsed, unit: 'ops/s' },
      { name: 'mib_per_s', value: mib / elapsed, unit: 'MiB/s', baseline: mib / baseline },
    ],
    extra: { ops: count, op_bytes: opBytes, chunk_bytes: chunkBytes, converged, node: process.version },
  };
}
