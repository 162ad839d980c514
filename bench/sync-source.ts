// The source replica of bench sync, run as its own process: a store with `ops` ops (the log
// bench's workload plus 1,000 files of 64 KiB), served over HTTP/WebSocket until stdin closes.
// Prints one JSON line: port, op and chunk bytes, counts, fingerprint.
import { randomBytes } from 'node:crypto';
import { FileSystem, Store } from '../projections/index.ts';
import { startHttpServer } from '../server/http-server.ts';
import { syncSession } from '../server/sync-service.ts';
import { workload } from './log.ts';

const FILES = 1000;
const FILE_BYTES = 64 * 1024;

const ops = Number(process.argv[2]);
const source = Store.open({ verifyChunks: false });
const fs = FileSystem.live(source);
const bodies = workload(source, ops - 2 * FILES - 1);
source.transaction(() => {
  for (const body of bodies) source.commit(body, { kind: 'cli' });
});
source.transaction(() => {
  fs.mkdir('/files');
  for (let i = 0; i < FILES; i++) fs.writeFile(`/files/f${i}`, randomBytes(FILE_BYTES));
});
const server = await startHttpServer({ session: () => syncSession(source) });
const { count, bytes } = source.chunks.totals();
process.stdout.write(`${JSON.stringify({
  port: server.port,
  opBytes: [...source.log.scan()].reduce((sum, s) => sum + s.bytes.length, 0),
  chunkBytes: bytes,
  count: source.log.count(),
  chunkCount: count,
  fingerprint: source.log.fingerprint(),
})}\n`);
process.stdin.resume();
process.stdin.once('end', () => {
  void server.close().then(() => {
    source.close();
    process.exit(0);
  });
});
