// The FUSE driver: kernel requests, through fuse-native (patched, see mount/fuse-native.patch),
// onto the filesystem API. Each request runs synchronously on the event loop and answers with
// 0, a result, or a negative errno; a thrown FsError becomes its errno, anything else is a bug:
// it is logged and answered with EIO rather than killing the process and leaving a dead mount.
// Every operation fuse-native can deliver is implemented; what libfuse 2's path API cannot
// express (renameat2 flags, file locks) the kernel answers itself (EINVAL, local locks).
import { constants } from 'node:fs';
import { createRequire } from 'node:module';
import { FsError, openFlags, type Attr, type FileSystem, type StatFs } from '../projections/index.ts';
import { assert, type Timespec } from '../log/index.ts';
import type { Attribute } from './attribute.ts';
import { PageCache } from './page-cache.ts';
import { commandLine } from './process-info.ts';

// The kernel hands open() this host's flags, passed on as they are: FileSystem takes Linux's
// generic values, which differ on some architectures (arm64's O_DIRECTORY, O_NOFOLLOW).
for (const [name, value] of Object.entries(openFlags)) {
  assert((constants as Record<string, number>)[name] === value, `this host's ${name} is not Linux's generic value ${value}: the FUSE driver would misread open flags`);
}

const require = createRequire(import.meta.url);

/** fuse-native's constructor; typed here for the parts ledgerfs uses. */
export interface FuseHandle {
  caller: [uid: number, gid: number, pid: number] | undefined;
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
}
type FuseConstructor = new (mnt: string, ops: Record<string, unknown>, opts: Record<string, unknown>) => FuseHandle;
export const Fuse = require('fuse-native') as FuseConstructor & { unmount(mnt: string, cb: (err: Error | null) => void): void };

const EIO = -5;
const UTIME_NOW = (1 << 30) - 1;
const UTIME_OMIT = (1 << 30) - 2;
const BLOCK_BYTES = 4096;

type Callback = (code: number, ...results: unknown[]) => void;

export function fuseStat(attr: Attr) {
  return {
    ino: attr.ino, mode: attr.mode, uid: attr.uid, gid: attr.gid, size: attr.size, nlink: attr.nlink, rdev: attr.rdev,
    blksize: BLOCK_BYTES, blocks: attr.blocks, atime: attr.atime, mtime: attr.mtime, ctime: attr.ctime,
  };
}

function fuseStatfs(s: StatFs) {
  return { bsize: s.bsize, frsize: s.frsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, favail: s.ffree, fsid: 0, flag: 0, namemax: s.namemax };
}

/** A time from utimens: UTIME_NOW is the wall clock, UTIME_OMIT leaves the time alone. */
function requestedTime([sec, nsec]: Timespec, now: number): Timespec | undefined {
  if (nsec === UTIME_OMIT) return undefined;
  if (nsec === UTIME_NOW) return [Math.floor(now / 1000), (now % 1000) * 1e6];
  return [sec, nsec];
}

export interface DriverOptions {
  fs: FileSystem;
  /** the mounted handle, read for the caller of each request */
  fuse: () => FuseHandle;
  log?: (message: string) => void;
  attribute?: Attribute;
}

/** Requests that never make an op (the hot ones: getattr, read); write only fills a buffer. */
const READS = new Set(['getattr', 'fgetattr', 'access', 'statfs', 'opendir', 'readdir', 'readlink', 'read', 'getxattr', 'listxattr']);

/** The fuse-native operations object for a FileSystem. */
export function fuseOperations({ fs, fuse, log = (m) => process.stderr.write(`${m}\n`), attribute }: DriverOptions): Record<string, unknown> {
  const as = (name: string): FileSystem => {
    // Only requests that can make an op need an actor (and attribution reads /proc).
    if (READS.has(name)) return fs;
    const caller = fuse().caller;
    if (!caller) return fs.as({ kind: 'fuse' });
    const [uid, gid, pid] = caller;
    const exec = attribute?.(pid);
    const command = commandLine(pid);
    return fs.as({ kind: 'fuse', ...(command === undefined ? {} : { command }), ...exec, uid, gid, pid });
  };
  /**
   * Answers of requests that may have made ops, held until those ops are committed. Requests
   * that arrive together (one turn of the event loop: several FUSE threads) commit in one
   * transaction, at the end of the turn, before any of them is answered: what the kernel was told
   * is done survives a crash of this process, as with a commit per request (synchronous=NORMAL).
   */
  const pages = new PageCache((ino) => fs.reader.content(ino)?.op ?? 0);
  let held: Array<[cb: Callback, code: number, result: unknown]> = [];
  const commitThenAnswer = () => {
    const answers = held;
    held = [];
    try {
      fs.sync();
    } catch (error) {
      log(`ledgerfs: commit failed: ${(error as Error).stack ?? String(error)}`);
      for (const [cb] of answers) cb(EIO);
      return;
    }
    for (const [cb, code, result] of answers) if (result === undefined) cb(code);
    else cb(code, result);
  };
  const answer = (name: string, cb: Callback, code: number, result?: unknown) => {
    // A read waits too while a commit is pending: it may show what an uncommitted op made.
    if ((READS.has(name) || name === 'write') && held.length === 0) return result === undefined ? cb(code) : cb(code, result);
    if (held.length === 0) setImmediate(commitThenAnswer);
    held.push([cb, code, result]);
  };
  /**
   * Runs a request: its result, or the errno it failed with. read and write answer with the
   * byte count in the code position (`count`), as fuse-native wants.
   */
  const handle = (name: string, fn: (fs: FileSystem) => unknown, count = false) => (cb: Callback) => {
    try {
      const result = fn(as(name));
      if (count) answer(name, cb, result as number);
      else answer(name, cb, 0, result);
    } catch (error) {
      if (error instanceof FsError) return answer(name, cb, -error.errno);
      log(`ledgerfs: ${name} failed: ${(error as Error).stack ?? String(error)}`);
      answer(name, cb, EIO);
    }
  };
  return {
    init: (cb: Callback) => cb(0),
    getattr: (path: string, cb: Callback) => handle('getattr', (f) => fuseStat(f.lstat(path)))(cb),
    fgetattr: (_path: string, fd: number, cb: Callback) => handle('fgetattr', (f) => fuseStat(f.fstat(fd)))(cb),
    access: (path: string, _mode: number, cb: Callback) => handle('access', (f) => void f.lstat(path))(cb),
    statfs: (_path: string, cb: Callback) => handle('statfs', (f) => fuseStatfs(f.statfs()))(cb),
    opendir: (path: string, _flags: number, cb: Callback) => handle('opendir', (f) => {
      if (f.stat(path).type !== 'dir') throw new FsError('ENOTDIR', 'opendir', path);
      return 0;
    })(cb),
    releasedir: (_path: string, _fd: number, cb: Callback) => cb(0),
    readdir: (path: string, cb: Callback) => handle('readdir', (f) => ['.', '..', ...f.readdir(path).map((e) => Buffer.from(e.name).toString('utf8'))])(cb),
    readlink: (path: string, cb: Callback) => handle('readlink', (f) => Buffer.from(f.readlink(path)).toString('utf8'))(cb),
    open: (path: string, flags: number, cb: Callback) => {
      let keepCache = false;
      handle('open', (f) => {
        const fh = f.open(path, flags);
        keepCache = pages.opened(path, fh, f.fstat(fh).ino);
        return fh;
      })((code, fh) => cb(code, fh, keepCache));
    },
    // A created file's kernel inode starts with no pages (and create cannot keep any).
    create: (path: string, mode: number, cb: Callback) => handle('create', (f) => {
      const fh = f.open(path, constants.O_RDWR | constants.O_CREAT, mode & 0o7777);
      pages.opened(path, fh, f.fstat(fh).ino);
      return fh;
    })(cb),
    // Straight into the kernel's reply buffer: no array per request, no second copy.
    read: (_path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Callback) => handle('read', (f) => f.read(fd, pos, len, buf).length, true)(cb),
    write: (path: string, fd: number, buf: Buffer, len: number, pos: number, cb: Callback) => handle('write', (f) => {
      pages.wrote(path, fd);
      return f.write(fd, buf.subarray(0, len), pos);
    }, true)(cb),
    flush: (_path: string, _fd: number, cb: Callback) => cb(0),
    fsync: (_path: string, _datasync: number, fd: number, cb: Callback) => handle('fsync', (f) => pages.commits(fd, () => f.fsync(fd)))(cb),
    fsyncdir: (_path: string, _datasync: number, _fd: number, cb: Callback) => handle('fsyncdir', (f) => f.sync())(cb),
    release: (_path: string, fd: number, cb: Callback) => handle('release', (f) => {
      try {
        pages.commits(fd, () => f.release(fd));
      } finally {
        pages.released(fd);
      }
    })(cb),
    truncate: (path: string, size: number, cb: Callback) => handle('truncate', (f) => f.truncate(path, size))(cb),
    ftruncate: (path: string, fd: number, size: number, cb: Callback) => handle('ftruncate', (f) => {
      pages.wrote(path, fd);
      f.ftruncate(fd, size);
    })(cb),
    unlink: (path: string, cb: Callback) => handle('unlink', (f) => {
      f.unlink(path);
      pages.removed(path);
    })(cb),
    mkdir: (path: string, mode: number, cb: Callback) => handle('mkdir', (f) => void f.mkdir(path, mode & 0o7777))(cb),
    rmdir: (path: string, cb: Callback) => handle('rmdir', (f) => f.rmdir(path))(cb),
    rename: (from: string, to: string, cb: Callback) => handle('rename', (f) => {
      const dir = f.lstat(from).type === 'dir';
      f.rename(from, to);
      pages.renamed(from, to, dir);
    })(cb),
    link: (existing: string, path: string, cb: Callback) => handle('link', (f) => void f.link(existing, path))(cb),
    symlink: (target: string, path: string, cb: Callback) => handle('symlink', (f) => void f.symlink(target, path))(cb),
    mknod: (path: string, mode: number, dev: number, cb: Callback) => handle('mknod', (f) => void f.mknod(path, mode, dev))(cb),
    chmod: (path: string, mode: number, cb: Callback) => handle('chmod', (f) => void f.chmod(path, mode))(cb),
    chown: (path: string, uid: number, gid: number, cb: Callback) => handle('chown', (f) => void f.chown(path, uid === 0xffffffff ? -1 : uid, gid === 0xffffffff ? -1 : gid, false))(cb),
    utimens: (path: string, atime: Timespec, mtime: Timespec, cb: Callback) => handle('utimens', (f) => {
      const now = Date.now();
      void f.utimens(path, requestedTime(atime, now), requestedTime(mtime, now), false);
    })(cb),
    // The kernel sends xattr calls for the inode it reached, a symlink's own included (llistxattr,
    // ls -l, tar --xattrs): the path names that inode, so it is not followed.
    setxattr: (path: string, name: string, value: Buffer, _position: number, flags: number, cb: Callback) => handle('setxattr', (f) => f.setxattr(path, name, Buffer.from(value), flags, false))(cb),
    getxattr: (path: string, name: string, _position: number, cb: Callback) => handle('getxattr', (f) => Buffer.from(f.getxattr(path, name, false)))(cb),
    listxattr: (path: string, cb: Callback) => handle('listxattr', (f) => f.listxattr(path, false).map((n) => Buffer.from(n).toString('utf8')))(cb),
    removexattr: (path: string, name: string, cb: Callback) => handle('removexattr', (f) => f.removexattr(path, name, false))(cb),
  };
}
