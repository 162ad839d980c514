// The source replica of bench sync, run as its own process: the workload (sync-workload.ts),
// served over HTTP/WebSocket until stdin closes. Prints one JSON line: port and what it holds.
import { startHttpServer } from '../server/http-server.ts';
import { syncSession } from '../server/sync-service.ts';
import { sourceFigures, sourceStore } from './sync-workload.ts';

const source = sourceStore(Number(process.argv[2]));
const server = await startHttpServer({ session: () => syncSession(source) });
process.stdout.write(`${JSON.stringify({ port: server.port, ...sourceFigures(source) })}\n`);
process.stdin.resume();
process.stdin.once('end', () => {
  void server.close().then(() => {
    source.close();
    process.exit(0);
  });
});
