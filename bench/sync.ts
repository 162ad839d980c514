// bench sync: how long a fresh replica takes to catch up with one holding 100k ops and the
// chunks of 1,000 files of 64 KiB, over a loopback WebSocket (capnweb); the baseline moves the
// same bytes in the same number of messages over a plain `ws` echo, in the same run.
import { randomBytes } from 'node:crypto';
import { WebSocket, WebSocketServer } from 'ws';
import { SyncClient } from '../client/sync.ts';
import { FileSystem, Store } from '../projections/index.ts';
import { startHttpServer } from '../server/http-server.ts';
import { SyncService } from '../server/sync-service.ts';
import { workload } from './log.ts';
import type { BenchRow } from './report.ts';

const FILES = 1000;
const FILE_BYTES = 64 * 1024;

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

export async function benchSync(options: { ops: number }): Promise<{ rows: BenchRow[]; extra: Record<string, unknown> }> {
  const source = Store.open({ verifyChunks: false });
  const fs = FileSystem.live(source);
  const ops = workload(source, options.ops - 2 * FILES - 1);
  source.transaction(() => {
    for (const body of ops) source.commit(body, { kind: 'cli' });
  });
  source.transaction(() => {
    fs.mkdir('/files');
    for (let i = 0; i < FILES; i++) fs.writeFile(`/files/f${i}`, randomBytes(FILE_BYTES));
  });
  const opBytes = [...source.log.scan()].reduce((sum, s) => sum + s.bytes.length, 0);
  const chunkBytes = source.chunks.totals().bytes;
  const server = await startHttpServer({ session: () => new SyncService(source) });
  const target = Store.open({ verifyChunks: false });
  const client = new SyncClient(target, `ws://127.0.0.1:${server.port}/ws`);
  const start = process.hrtime.bigint();
  client.start();
  await client.synced();
  const elapsed = seconds(start);
  const converged = target.log.fingerprint() === source.log.fingerprint();
  await client.stop();
  await server.close();
  const count = source.log.count();
  const pages = Math.ceil(opBytes / (512 * 1024));
  const chunkCount = source.chunks.totals().count;
  const baseline = await echoBaseline([...Array(pages).fill(Math.ceil(opBytes / pages)), ...Array(chunkCount).fill(Math.ceil(chunkBytes / chunkCount))]);
  source.close();
  target.close();
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
