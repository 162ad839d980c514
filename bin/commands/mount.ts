// mount: serve a store at a mount point until SIGTERM, SIGINT or SIGHUP, then unmount, commit
// open files and close the store. The mode comes from --mode or FUSE_MOUNT (auto|fuse|shim|none).
import { resolve } from 'node:path';
import { FileSystem } from '../../projections/index.ts';
import { mountWorkspace, parseMountMode } from '../../mount/mode.ts';
import { stopRequest } from '../stop-request.ts';
import { needArg, openExisting } from './common.ts';

/** Group commit for the mount: like a disk's journal, fsync makes changes durable at once. */
const MOUNT_COMMIT_DELAY_MS = 10;

export async function runMount([db, mountPoint]: string[], values: { debug?: string | boolean; mode?: string | boolean }): Promise<number> {
  const { stopped } = stopRequest();
  const target = resolve(needArg(mountPoint, '<mountpoint>'));
  const mode = parseMountMode(typeof values.mode === 'string' ? values.mode : process.env.FUSE_MOUNT);
  const store = openExisting(db, { commitDelayMs: MOUNT_COMMIT_DELAY_MS });
  const fs = FileSystem.live(store);
  const mounted = await mountWorkspace(fs, target, mode, { debug: Boolean(values.debug) });
  process.stdout.write(`mounted ${target} (${mounted.backend})\n`);
  // Handlers stay installed: a second signal (a wrapper forwarding the first) must not kill the
  // process halfway through unmounting and leave a dead mount behind.
  await stopped;
  await mounted.close();
  store.close();
  // fuse-native leaves a libuv handle referenced after unmounting; exit once the line is out.
  await new Promise<void>((done) => process.stdout.write(`unmounted ${target}\n`, () => done()));
  process.exit(0);
}
