// The floors for the mount bench: a minimal in-memory filesystem on fuse-native, mounted with
// ledgerfs's options or (`best`) with the best fuse-native allows: kernel_cache and libfuse's
// default 1 s attribute cache. Each FUSE request still crosses into the
// Node event loop and back; what this costs is what ledgerfs cannot go below without leaving
// fuse-native, and the gap between the two floors is what ledgerfs's option choices cost.
// `commit <db>` keeps ledgerfs's durability: every request that changes something is answered
// after a SQLite commit (WAL, synchronous=NORMAL, ledgerfs's pragmas) of one row naming it, and
// the chunks written through an open file are stored at its release or fsync, as ledgerfs
// commits a file's write buffer, keyed by sha256 as ledgerfs's format keys them, and stored
// early past ledgerfs's 16 MiB bound on a file's unstored bytes. No op format, no projections:
// what a commit per request and the content-addressed bytes cost alone.
// Run as a process: node bench/memfs.ts <mountpoint> [best | commit <db>]; prints "mounted",
// unmounts on SIGTERM.
import Database from 'better-sqlite3';
import { posix } from 'node:path';
import { CHUNK_BYTES, sha256, WRITE_BUFFER_BYTES_MAX } from '../log/index.ts';
import { Fuse } from '../mount/fuse-driver.ts';
import { forceUnmount, MOUNT_OPTIONS } from '../mount/index.ts';

type Time = [number, number];
interface Node {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  data: Buffer;
  size: number;
  target: string;
  nlink: number;
  atime: Time;
  mtime: Time;
  ctime: Time;
  children?: Map<string, Node>;
  xattrs: Map<string, Buffer>;
}

const E = { ENOENT: -2, EEXIST: -17, ENOTDIR: -20, EISDIR: -21, ENOTEMPTY: -39, ENODATA: -61 };
let nextIno = 2;
const now = (): Time => {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
};
const make = (mode: number, target = ''): Node => ({
  ino: nextIno++, mode, uid: 0, gid: 0, data: Buffer.alloc(0), size: 0, target, nlink: 1, atime: now(), mtime: now(), ctime: now(),
  children: (mode & 0o170000) === 0o040000 ? new Map() : undefined, xattrs: new Map(),
});
const root = make(0o040755);
root.ino = 1;

function find(path: string): Node | undefined {
  let node: Node | undefined = root;
  for (const part of path.split('/')) if (part) node = node?.children?.get(part);
  return node;
}
const parentOf = (path: string) => find(posix.dirname(path));
const nameOf = (path: string) => posix.basename(path);
const handles = new Map<number, Node>();
let nextFh = 1;
type Cb = (code: number, ...rest: unknown[]) => void;
const stat = (n: Node) => ({ ino: n.ino, mode: n.mode, uid: n.uid, gid: n.gid, size: n.children ? 4096 : n.size, nlink: n.nlink, atime: n.atime, mtime: n.mtime, ctime: n.ctime, blksize: 4096, blocks: Math.ceil(n.size / 512) });

function add(path: string, node: Node, cb: Cb): void {
  const parent = parentOf(path);
  if (!parent?.children) return cb(E.ENOENT);
  if (parent.children.has(nameOf(path))) return cb(E.EEXIST);
  parent.children.set(nameOf(path), node);
  parent.mtime = now();
  cb(0);
}

function ensureCapacity(node: Node, size: number): void {
  if (size <= node.data.length) return;
  const grown = Buffer.alloc(Math.max(size, node.data.length * 2));
  node.data.copy(grown, 0, 0, node.size);
  node.data = grown;
}

/** The commit floor's database, or null for the in-memory floors. */
const db = process.argv[3] === 'commit' ? new Database(process.argv[4]!) : null;
if (db) for (const pragma of ['journal_mode = WAL', 'synchronous = NORMAL', 'cache_size = -65536', 'wal_autocheckpoint = 16384']) db.pragma(pragma);
db?.exec(`CREATE TABLE IF NOT EXISTS changes (id INTEGER PRIMARY KEY, request TEXT NOT NULL, path TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS chunks (hash BLOB PRIMARY KEY, data BLOB NOT NULL)`);
const insert = db?.prepare('INSERT INTO changes (request, path) VALUES (?, ?)');
const hasChunk = db?.prepare('SELECT 1 FROM chunks WHERE hash = ?').pluck();
const insertChunk = db?.prepare('INSERT INTO chunks (hash, data) VALUES (?, ?)');
/** Chunks written through each handle and not stored yet. */
const dirty = new Map<number, Set<number>>();

/**
 * What ledgerfs holds between commits: a transaction opened by the first change after a commit
 * (stored chunks wait in it, in SQLite's page cache, as a write buffer's spilled ones do) and
 * committed before the next answer to a request that changed something, or at a release.
 */
let pending = false;
const begin = () => {
  if (!pending) db!.exec('BEGIN');
  pending = true;
};
const commit = () => {
  if (pending) db!.exec('COMMIT');
  pending = false;
};

/**
 * Stores a handle's written chunks as ledgerfs's format does (content-addressed: keyed by their
 * sha256, each distinct chunk once), all of them (release, fsync) or, past ledgerfs's bound on
 * a file's unstored bytes, the full ones (the rest of a 64 MiB write is not held in memory).
 */
function storeChunks(fd: number, all: boolean): void {
  const chunks = dirty.get(fd);
  if (!chunks) return;
  begin();
  const n = handles.get(fd)!;
  for (const index of chunks) {
    const end = Math.min(n.size, (index + 1) * CHUNK_BYTES);
    if (!all && end - index * CHUNK_BYTES < CHUNK_BYTES) continue;
    chunks.delete(index);
    if (end <= index * CHUNK_BYTES) continue;
    const data = n.data.subarray(index * CHUNK_BYTES, end);
    const hash = sha256(data);
    if (hasChunk!.get(hash) === undefined) insertChunk!.run(hash, data);
  }
  if (chunks.size > 0) return;
  dirty.delete(fd);
  insert!.run('content', String(n.ino));
}

const ops = {
  init: (cb: Cb) => cb(0),
  getattr: (path: string, cb: Cb) => { const n = find(path); return n ? cb(0, stat(n)) : cb(E.ENOENT); },
  fgetattr: (_p: string, fd: number, cb: Cb) => { const n = handles.get(fd); return n ? cb(0, stat(n)) : cb(E.ENOENT); },
  access: (path: string, _m: number, cb: Cb) => cb(find(path) ? 0 : E.ENOENT),
  statfs: (_p: string, cb: Cb) => cb(0, { bsize: 4096, frsize: 4096, blocks: 1 << 24, bfree: 1 << 23, bavail: 1 << 23, files: 1 << 20, ffree: 1 << 20, favail: 1 << 20, fsid: 0, flag: 0, namemax: 255 }),
  opendir: (_p: string, _f: number, cb: Cb) => cb(0, 0),
  releasedir: (_p: string, _fd: number, cb: Cb) => cb(0),
  readdir: (path: string, cb: Cb) => { const n = find(path); return n?.children ? cb(0, ['.', '..', ...n.children.keys()]) : cb(E.ENOTDIR); },
  readlink: (path: string, cb: Cb) => { const n = find(path); return n ? cb(0, n.target) : cb(E.ENOENT); },
  // Pages are kept: only this mount changes its files, the case where ledgerfs keeps them too.
  open: (path: string, _flags: number, cb: Cb) => { const n = find(path); if (!n) return cb(E.ENOENT); const fh = nextFh++; handles.set(fh, n); return cb(0, fh, true); },
  create: (path: string, mode: number, cb: Cb) => {
    const node = make(0o100000 | (mode & 0o7777));
    add(path, node, (code) => { if (code) return cb(code); const fh = nextFh++; handles.set(fh, node); return cb(0, fh); });
  },
  read: (_p: string, fd: number, buf: Buffer, len: number, pos: number, cb: Cb) => {
    const n = handles.get(fd)!;
    const end = Math.min(n.size, pos + len);
    if (pos >= end) return cb(0);
    n.data.copy(buf, 0, pos, end);
    return cb(end - pos);
  },
  write: (_p: string, fd: number, buf: Buffer, len: number, pos: number, cb: Cb) => {
    const n = handles.get(fd)!;
    ensureCapacity(n, pos + len);
    buf.copy(n.data, pos, 0, len);
    n.size = Math.max(n.size, pos + len);
    n.mtime = now();
    cb(len);
  },
  flush: (_p: string, _fd: number, cb: Cb) => cb(0),
  fsync: (_p: string, _d: number, _fd: number, cb: Cb) => cb(0),
  fsyncdir: (_p: string, _d: number, _fd: number, cb: Cb) => cb(0),
  release: (_p: string, fd: number, cb: Cb) => { handles.delete(fd); cb(0); },
  truncate: (path: string, size: number, cb: Cb) => { const n = find(path); if (!n) return cb(E.ENOENT); ensureCapacity(n, size); n.data.fill(0, size); n.size = size; return cb(0); },
  ftruncate: (_p: string, fd: number, size: number, cb: Cb) => { const n = handles.get(fd)!; ensureCapacity(n, size); n.data.fill(0, size); n.size = size; cb(0); },
  unlink: (path: string, cb: Cb) => { const p = parentOf(path); const n = find(path); if (!p?.children || !n) return cb(E.ENOENT); n.nlink--; p.children.delete(nameOf(path)); return cb(0); },
  mkdir: (path: string, mode: number, cb: Cb) => add(path, make(0o040000 | (mode & 0o7777)), cb),
  rmdir: (path: string, cb: Cb) => { const n = find(path); if (!n) return cb(E.ENOENT); if (n.children?.size) return cb(E.ENOTEMPTY); parentOf(path)!.children!.delete(nameOf(path)); return cb(0); },
  rename: (from: string, to: string, cb: Cb) => {
    const n = find(from);
    const dest = parentOf(to);
    if (!n || !dest?.children) return cb(E.ENOENT);
    parentOf(from)!.children!.delete(nameOf(from));
    dest.children.set(nameOf(to), n);
    return cb(0);
  },
  link: (existing: string, path: string, cb: Cb) => { const n = find(existing); if (!n) return cb(E.ENOENT); n.nlink++; return add(path, n, cb); },
  symlink: (target: string, path: string, cb: Cb) => add(path, make(0o120777, target), cb),
  mknod: (path: string, mode: number, _dev: number, cb: Cb) => add(path, make(mode), cb),
  chmod: (path: string, mode: number, cb: Cb) => { const n = find(path); if (!n) return cb(E.ENOENT); n.mode = (n.mode & 0o170000) | (mode & 0o7777); return cb(0); },
  chown: (path: string, uid: number, gid: number, cb: Cb) => { const n = find(path); if (!n) return cb(E.ENOENT); if (uid !== 0xffffffff) n.uid = uid; if (gid !== 0xffffffff) n.gid = gid; return cb(0); },
  utimens: (path: string, atime: Time, mtime: Time, cb: Cb) => { const n = find(path); if (!n) return cb(E.ENOENT); n.atime = atime[1] >= 1e9 ? now() : atime; n.mtime = mtime[1] >= 1e9 ? now() : mtime; return cb(0); },
  setxattr: (path: string, name: string, value: Buffer, _pos: number, _flags: number, cb: Cb) => { find(path)?.xattrs.set(name, Buffer.from(value)); cb(0); },
  getxattr: (path: string, name: string, _pos: number, cb: Cb) => { const v = find(path)?.xattrs.get(name); return v ? cb(0, v) : cb(E.ENODATA); },
  listxattr: (path: string, cb: Cb) => cb(0, [...(find(path)?.xattrs.keys() ?? [])]),
  removexattr: (path: string, name: string, cb: Cb) => cb(find(path)?.xattrs.delete(name) ? 0 : E.ENODATA),
};

const MUTATING = ['create', 'truncate', 'ftruncate', 'unlink', 'mkdir', 'rmdir', 'rename', 'link', 'symlink', 'mknod', 'chmod', 'chown', 'utimens', 'setxattr', 'removexattr'] as const;

/** Each changing request commits a row before it is answered; writes mark their handle dirty. */
function committing(): typeof ops {
  const wrapped: Record<string, unknown> = { ...ops };
  for (const name of MUTATING) {
    const op = ops[name] as (...args: unknown[]) => void;
    wrapped[name] = (...args: unknown[]) => {
      const cb = args.at(-1) as Cb;
      op(...args.slice(0, -1), (code: number, ...rest: unknown[]) => {
        if (code >= 0) {
          begin();
          insert!.run(name, String(args[0]));
          commit();
        }
        cb(code, ...rest);
      });
    };
  }
  wrapped.write = (p: string, fd: number, buf: Buffer, len: number, pos: number, cb: Cb) => {
    let chunks = dirty.get(fd);
    if (!chunks) dirty.set(fd, (chunks = new Set()));
    for (let index = Math.floor(pos / CHUNK_BYTES); index * CHUNK_BYTES < pos + len; index++) chunks.add(index);
    ops.write(p, fd, buf, len, pos, (count) => {
      if (chunks.size * CHUNK_BYTES > WRITE_BUFFER_BYTES_MAX) storeChunks(fd, false);
      cb(count);
    });
  };
  wrapped.release = (p: string, fd: number, cb: Cb) => {
    storeChunks(fd, true);
    commit();
    ops.release(p, fd, cb);
  };
  wrapped.fsync = (_p: string, _d: number, fd: number, cb: Cb) => {
    storeChunks(fd, true);
    commit();
    cb(0);
  };
  return wrapped as typeof ops;
}

/** The fastest options: pages stay cached across opens whatever changes, attributes for 1 s. */
const BEST_OPTIONS = {
  allowOther: true, defaultPermissions: true, kernelCache: true, fsname: 'memfs', subtype: 'memfs',
  extraOptions: ['use_ino', 'readdir_ino', 'big_writes', 'max_write=131072', 'max_read=131072'],
};

const mountPoint = process.argv[2]!;
const options = process.argv[3] === 'best' ? BEST_OPTIONS : MOUNT_OPTIONS;
const fuse = new Fuse(mountPoint, db ? committing() : ops, { ...options, timeout: false, force: true, mkdir: true });
fuse.mount((err) => {
  if (err) throw err;
  process.stdout.write('mounted\n');
});
const stop = () => void forceUnmount(mountPoint).then(() => fuse.unmount(() => {
  db?.close();
  process.exit(0);
}));
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, stop);
