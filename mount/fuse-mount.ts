// Mounting a FileSystem with kernel FUSE, and unmounting it so that nothing is left behind.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { FileSystem } from '../projections/index.ts';
import type { Attribute } from './attribute.ts';
import { Fuse, fuseOperations, type FuseHandle } from './fuse-driver.ts';

const run = promisify(execFile);

/**
 * Mount options; the choice of each is measured in spec/mount.md.
 * - default_permissions + allow_other: the kernel checks mode bits like a local disk, for any user.
 * - attr_timeout=0: libfuse 2's path API gives each name of a hard link its own kernel inode,
 *   and cannot tell the kernel to drop the others' attributes; uncached, every name shows a
 *   change made through another at once (cost measured in spec/mount.md).
 * - entry/negative timeouts of 1 s: lookups are cached for a second; a name made or removed
 *   elsewhere (the API, another replica) shows within that second.
 * - no kernel_cache, no auto_cache: each open says itself whether the kernel keeps the file's
 *   cached pages (mount/page-cache.ts), so pages this mount wrote are kept and pages another
 *   writer made stale are dropped.
 * - big_writes, max_write: 128 KiB writes (libfuse 2's largest) instead of 4 KiB.
 * - use_ino: the kernel sees ledgerfs inode numbers, so both names of a hard link report one
 *   st_ino (git checks that a hard link it made has its source's st_ino).
 */
export const MOUNT_OPTIONS = {
  allowOther: true,
  defaultPermissions: true,
  fsname: 'ledgerfs',
  subtype: 'ledgerfs',
  extraOptions: ['use_ino', 'readdir_ino', 'entry_timeout=1', 'attr_timeout=0', 'negative_timeout=1', 'big_writes', 'max_write=131072', 'max_read=131072'],
};

export function isMounted(mountPoint: string): boolean {
  return readFileSync('/proc/mounts', 'utf8').split('\n').some((line) => line.split(' ')[1] === mountPoint);
}

/** fusermount -u, then a lazy unmount if the mount is busy. */
export async function forceUnmount(mountPoint: string): Promise<void> {
  if (!isMounted(mountPoint)) return;
  try {
    await run('fusermount', ['-u', mountPoint]);
  } catch {
    await run('fusermount', ['-uz', mountPoint]).catch(() => undefined);
  }
}

export class FuseMount {
  readonly mountPoint: string;
  private readonly fs: FileSystem;
  private readonly fuse: FuseHandle;

  private constructor(mountPoint: string, fs: FileSystem, fuse: FuseHandle) {
    this.mountPoint = mountPoint;
    this.fs = fs;
    this.fuse = fuse;
  }

  static async mount(fs: FileSystem, mountPoint: string, options: { debug?: boolean; attribute?: Attribute } = {}): Promise<FuseMount> {
    // libfuse would refuse with advice (the nonempty option) that hides files under the mount.
    if (existsSync(mountPoint) && readdirSync(mountPoint).length > 0) {
      throw Object.assign(new Error(`${mountPoint} is not empty: a mount would hide its files; empty it or choose another directory`), { code: 'ENOTEMPTY' });
    }
    let fuse: FuseHandle | undefined;
    const ops = fuseOperations({ fs, fuse: () => fuse!, attribute: options.attribute });
    fuse = new Fuse(mountPoint, ops, { ...MOUNT_OPTIONS, timeout: false, force: true, mkdir: true, debug: options.debug ?? false });
    await new Promise<void>((resolve, reject) => fuse!.mount((err) => (err ? reject(err) : resolve())));
    return new FuseMount(mountPoint, fs, fuse);
  }

  /** Unmounts (lazily if busy), then commits what open handles still hold. */
  async close(): Promise<void> {
    await forceUnmount(this.mountPoint);
    await new Promise<void>((resolve) => this.fuse.unmount(() => resolve()));
    this.fs.releaseAll();
  }
}
