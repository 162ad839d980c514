// serve: run a replica: its sync surface on HTTP (/api, /ws, /health), optionally syncing with an
// upstream replica and mounting the store, until SIGTERM/SIGINT/SIGHUP. Prints one JSON line per
// state change an operator or a test wants: listening, mounted, synced.
import { resolve } from 'node:path';
import { SyncClient } from '../../client/sync.ts';
import { mountWorkspace, parseMountMode, type MountedWorkspace } from '../../mount/mode.ts';
import { FileSystem } from '../../projections/index.ts';
import { startSyncServer } from '../../server/sync-server.ts';
import { openExisting, UsageError } from './common.ts';

const COMMIT_DELAY_MS = 10;
const SHUTDOWN_MS_MAX = 15_000;

const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

export async function runServe([db]: string[], values: { port?: string | boolean; upstream?: string | boolean; mount?: string | boolean; mode?: string | boolean }): Promise<number> {
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port wants a port number');
  const store = openExisting(db, { commitDelayMs: COMMIT_DELAY_MS });
  const server = await startSyncServer(store, { port });
  say({ event: 'listening', port: server.port, replica: store.origin });
  let mounted: MountedWorkspace | null = null;
  if (typeof values.mount === 'string') {
    const mode = parseMountMode(typeof values.mode === 'string' ? values.mode : process.env.FUSE_MOUNT);
    mounted = await mountWorkspace(FileSystem.live(store), resolve(values.mount), mode);
    say({ event: 'mounted', path: resolve(values.mount), backend: mounted.backend });
  }
  let client: SyncClient | null = null;
  if (typeof values.upstream === 'string') {
    client = new SyncClient(store, values.upstream);
    client.start();
    await client.synced();
    const { pulled, pushed } = client.state();
    say({ event: 'synced', pulled, pushed });
  }
  await new Promise<void>((done) => {
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, done);
  });
  // A shutdown step that never returns must not leave a replica hanging on: give up loudly.
  setTimeout(() => {
    process.stderr.write('ledgerfs serve: shutdown took longer than 15 s, exiting\n');
    process.exit(1);
  }, SHUTDOWN_MS_MAX).unref();
  await client?.stop();
  await mounted?.close();
  await server.close();
  store.close();
  await new Promise<void>((done) => process.stdout.write(`${JSON.stringify({ event: 'stopped', ...(client ? { pulled: client.state().pulled, pushed: client.state().pushed } : {}) })}\n`, () => done()));
  process.exit(0);
}
