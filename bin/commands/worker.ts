// worker: the Worker + Durable Object replicas on this machine (workerd through miniflare), with
// their storage in a directory, until SIGTERM or SIGINT. Prints where workspaces are and the
// command that starts a wsd syncing with one. `wrangler deploy` puts the same bundle on an account.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startLocalWorker } from '../../server/local-worker.ts';
import { stopRequest } from '../stop-request.ts';
import { UsageError } from './common.ts';

const DEFAULT_PORT = 8787;

/** LEDGERFS_TOKEN, or the token kept in the storage directory (made on first start), so restarts keep it. */
function tokenFor(dir: string): string {
  if (process.env.LEDGERFS_TOKEN) return process.env.LEDGERFS_TOKEN;
  const file = join(dir, 'token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = crypto.randomUUID().replaceAll('-', '');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

export async function runWorker(_: string[], values: { dir?: string | boolean; port?: string | boolean; host?: string | boolean; name?: string | boolean; json?: string | boolean }): Promise<number> {
  const dir = resolve(typeof values.dir === 'string' ? values.dir : '.ledgerfs-worker');
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port wants a port number, got ${String(values.port)}`);
  const host = typeof values.host === 'string' ? values.host : '127.0.0.1';
  const name = typeof values.name === 'string' ? values.name : 'default';
  mkdirSync(dir, { recursive: true });
  const token = tokenFor(dir);
  // Listening before the ready line: a supervisor may signal as soon as it reads it.
  const { stopped, ownSignals } = stopRequest();
  const worker = await startLocalWorker({ persist: dir, token, port, host }).catch((error: Error & { code?: string }) => {
    throw error.code === 'EADDRINUSE' || /EADDRINUSE|address already in use/i.test(String(error.message)) ? new Error(`port ${port} is in use: pass another with --port`) : error;
  });
  // miniflare's own handlers exit at once with 128 + the signal; this command stops in order.
  ownSignals();
  const url = worker.wsUrl(name);
  if (values.json) process.stdout.write(`${JSON.stringify({ event: 'ready', url, token, storage: dir })}\n`);
  else {
    process.stdout.write(`ledgerfs worker: workspace "${name}" at ${url} (storage in ${dir}; token in LEDGERFS_TOKEN or ${join(dir, 'token')})\n`);
    process.stdout.write(`start a wsd that syncs with it:\n  UPSTREAM_URL=${url} UPSTREAM_TOKEN=${token} npm start\n`);
  }
  await stopped;
  await worker.dispose();
  return 0;
}
