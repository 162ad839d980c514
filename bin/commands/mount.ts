// mount: serve a store at a mount point until SIGTERM, SIGINT or SIGHUP, then unmount, commit
// open files and close the store. The mode comes from --mode or FUSE_MOUNT (auto|fuse|shim|none).
// With --at it mounts the past read-only (EROFS on writes) from a history view: the log prefix
// replayed into a scratch projection, file bytes read from the store's chunks, nothing copied.
import { resolve } from 'node:path';
import { FileSystem, openHistory, resolvePosition, type HistoryView } from '../../projections/index.ts';
import { fuseUnavailable, mountWorkspace, parseMountMode } from '../../mount/mode.ts';
import { stopRequest } from '../stop-request.ts';
import { needArg, openExisting, UsageError } from './common.ts';
import { progress } from './output.ts';

/**
 * Ops join one open transaction that the FUSE driver commits at the end of each turn of the
 * event loop, before answering (fuse-driver.ts); the window bounds what is made outside a request.
 */
const MOUNT_COMMIT_DELAY_MS = 10;
/** A commit per request: fewer, larger checkpoints (64 MiB of WAL) halve what each commit costs (spec/mount.md). */
const MOUNT_CHECKPOINT_PAGES = 16_384;

export async function runMount([db, mountPoint]: string[], values: { debug?: string | boolean; mode?: string | boolean; at?: string | boolean }): Promise<number> {
  const { stopped } = stopRequest();
  const target = resolve(needArg(mountPoint, '<mountpoint>'));
  const mode = parseMountMode(typeof values.mode === 'string' ? values.mode : process.env.FUSE_MOUNT);
  const at = typeof values.at === 'string' ? values.at : undefined;
  if (at !== undefined && mode !== 'fuse' && mode !== 'auto') throw new UsageError(`mount --at serves the past through kernel FUSE only (not --mode ${mode}); replay --at P --out DIR copies it instead`);
  const store = openExisting(db, at === undefined ? { commitDelayMs: MOUNT_COMMIT_DELAY_MS, checkpointPages: MOUNT_CHECKPOINT_PAGES } : { readonly: true });
  let view: HistoryView | null = null;
  if (at !== undefined) {
    const unavailable = fuseUnavailable();
    if (unavailable) throw new Error(`mount --at needs kernel FUSE: ${unavailable}; replay --at P --out DIR copies the past instead`);
    const position = resolvePosition(store, at);
    const bar = progress('replay', store.log.count());
    view = openHistory(store, position.ts, (done) => bar.update(done));
    bar.stop();
  }
  const fs = view?.fs ?? FileSystem.live(store);
  const mounted = await mountWorkspace(fs, target, at === undefined ? mode : 'fuse', { debug: Boolean(values.debug) });
  process.stdout.write(`mounted ${target} (${mounted.backend}${view ? `, read-only at ${at}: ${view.ops} ops` : ''})\n`);
  // Handlers stay installed: a second signal (a wrapper forwarding the first) must not kill the
  // process halfway through unmounting and leave a dead mount behind.
  await stopped;
  await mounted.close();
  view?.close();
  store.close();
  // fuse-native leaves a libuv handle referenced after unmounting; exit once the line is out.
  await new Promise<void>((done) => process.stdout.write(`unmounted ${target}\n`, () => done()));
  process.exit(0);
}
