// mount: serve a store at a mount point with kernel FUSE until SIGTERM or SIGINT, then
// unmount, commit open files and close the store.
import { resolve } from 'node:path';
import { FileSystem } from '../../projections/index.ts';
import { FuseMount } from '../../mount/index.ts';
import { needArg, openExisting } from './common.ts';

export async function runMount([db, mountPoint]: string[], values: { debug?: string | boolean }): Promise<number> {
  const target = resolve(needArg(mountPoint, '<mountpoint>'));
  const store = openExisting(db);
  const fs = FileSystem.live(store);
  const mount = await FuseMount.mount(fs, target, { debug: Boolean(values.debug) });
  process.stdout.write(`mounted ${target}\n`);
  // Handlers stay installed: a second signal (a wrapper forwarding the first) must not kill the
  // process halfway through unmounting and leave a dead mount behind.
  await new Promise<void>((done) => {
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, done);
  });
  await mount.close();
  store.close();
  process.stdout.write(`unmounted ${target}\n`);
  return 0;
}
