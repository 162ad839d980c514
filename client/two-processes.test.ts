// End to end: two `ledgerfs serve` processes, each mounting its own store with kernel FUSE, one
// syncing with the other over a loopback WebSocket. Concurrent edits of one file through the two
// mounts end as one winner plus a conflict copy on both sides, byte for byte; a replica
// restarted from its file store resends nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { forceUnmount } from '../mount/fuse-mount.ts';
import { Store } from '../projections/index.ts';

const CLI = join(import.meta.dirname, '../bin/ledgerfs.ts');
const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-e2e-'));
const running = new Set<ChildProcess>();
const mounts = [join(dir, 'mnt1'), join(dir, 'mnt2')];

afterAll(async () => {
  for (const child of running) child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const child of running) child.kill('SIGKILL');
  for (const mount of mounts) await forceUnmount(mount);
  rmSync(dir, { recursive: true, force: true });
});

interface Replica {
  child: ChildProcess;
  events: Array<Record<string, unknown>>;
  next(event: string): Promise<Record<string, unknown>>;
}

function serve(args: string[]): Replica {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const events: Array<Record<string, unknown>> = [];
  let buffered = '';
  const waiting: Array<{ event: string; resolve: (e: Record<string, unknown>) => void }> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const event = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
      buffered = buffered.slice(nl + 1);
      events.push(event);
      for (const w of waiting.splice(0)) {
        if (w.event === event.event) w.resolve(event);
        else waiting.push(w);
      }
    }
  });
  return {
    child,
    events,
    next: (event) => new Promise((resolve) => {
      const seen = events.find((e) => e.event === event && !(e as { taken?: boolean }).taken);
      if (seen) {
        (seen as { taken?: boolean }).taken = true;
        resolve(seen);
      } else {
        waiting.push({ event, resolve });
      }
    }),
  };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const listing = (mount: string) => readdirSync(mount).sort();
const contents = (mount: string) => Object.fromEntries(listing(mount).map((name) => [name, readFileSync(join(mount, name), 'utf8')]));

describe('two replicas in two processes', () => {
  it('converge on concurrent writes through their mounts', async () => {
    const [db1, db2] = [join(dir, 'one.db'), join(dir, 'two.db')];
    for (const db of [db1, db2]) Store.open({ file: db }).close();
    for (const mount of mounts) mkdirSync(mount);

    const one = serve([db1, '--mount', mounts[0]!, '--mode', 'fuse']);
    const { port } = await one.next('listening');
    await one.next('mounted');
    const upstream = `ws://127.0.0.1:${String(port)}/ws`;
    let two = serve([db2, '--upstream', upstream, '--mount', mounts[1]!, '--mode', 'fuse']);
    await two.next('synced');

    writeFileSync(join(mounts[0]!, 'notes.md'), 'base\n');
    await until('the base file on replica two', () => (contents(mounts[1]!)['notes.md'] === 'base\n' ? true : undefined));

    // Partition: replica two runs without its upstream while both sides edit the same file and
    // write files of their own; then the partition heals.
    two.child.kill('SIGTERM');
    await two.next('stopped');
    two = serve([db2, '--mount', mounts[1]!, '--mode', 'fuse']);
    await two.next('mounted');
    mounts.forEach((mount, i) => {
      writeFileSync(join(mount, 'notes.md'), `edit from replica ${i + 1}\n`);
      for (let n = 0; n < 10; n++) writeFileSync(join(mount, `r${i + 1}-${n}.txt`), `${i + 1}:${n}\n`);
    });
    two.child.kill('SIGTERM');
    await two.next('stopped');
    two = serve([db2, '--upstream', upstream, '--mount', mounts[1]!, '--mode', 'fuse']);
    await two.next('synced');
    const converged = await until('both mounts to show the same files', () => {
      const [a, b] = mounts.map(contents);
      return JSON.stringify(a) === JSON.stringify(b) && Object.keys(a!).length === 22 ? a : undefined;
    });
    const copies = Object.keys(converged!).filter((name) => name.startsWith('notes.conflict-'));
    expect(copies).toHaveLength(1);
    expect(new Set([converged!['notes.md'], converged![copies[0]!]])).toEqual(new Set(['edit from replica 1\n', 'edit from replica 2\n']));

    // Restart replica two from its file store: it has nothing to send or fetch.
    two.child.kill('SIGTERM');
    const stopped = await two.next('stopped');
    expect(stopped.pushed).toBeGreaterThan(0);
    two = serve([db2, '--upstream', upstream]);
    expect(await two.next('synced')).toMatchObject({ pulled: 0, pushed: 0 });
    const exited = new Promise((resolve) => two.child.once('exit', resolve));
    two.child.kill('SIGKILL');
    await exited;
    one.child.kill('SIGTERM');
    await one.next('stopped');

    const fingerprints = [db1, db2].map((file) => {
      const store = Store.open({ file });
      try {
        expect(store.verify().ok).toBe(true);
        return store.log.fingerprint();
      } finally {
        store.close();
      }
    });
    expect(fingerprints[0]).toBe(fingerprints[1]);
  });
});
