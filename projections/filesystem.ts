// The filesystem API over the projections, path-level and inode-level (a number is an inode),
// with POSIX semantics and errors. Every mutation is exactly one op; file content is written
// through a per-inode write buffer and committed as one setContent op on release or fsync.
// A FileSystem without a store is a read-only view (history): mutations fail with EROFS.
import {
  FILE_BYTES_MAX, PATH_BYTES_MAX, REFS_COUNT_MAX, ROOT_ID, SYMLINK_HOPS_MAX, XATTR_NAME_BYTES_MAX, XATTR_VALUE_BYTES_MAX,
  type Actor, type ChunkStore, type NodeType, type OpBody, type Ref, type Timespec,
} from '../log/index.ts';
import { FsError } from './errors.ts';
import { checkName, isDot, isDotDot, pathText, splitPath, toBytes, type PathLike } from './paths.ts';
import { TYPE_BITS, type Attr, type DirEntry, type Reader } from './reader.ts';
import type { Store } from './store.ts';
import type { EntryRow } from './tree.ts';
import { O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDWR, O_TRUNC, O_WRONLY } from './open-flags.ts';
import { WriteBuffer } from './write-buffer.ts';

const ACCESS_MODE = 3;

const POSIX_ACL_NAMES = new Set(['system.posix_acl_access', 'system.posix_acl_default']);

export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;

/** An inode number or a path (string or bytes). */
export type Target = number | PathLike;

export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  atime?: Timespec;
  mtime?: Timespec;
  size?: number;
}

export interface StatFs {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namemax: number;
}

interface Handle {
  ino: number;
  flags: number;
  buffer: WriteBuffer | null;
}

/** Where an entry-changing call acts: the parent directory and the final name. */
interface Slot {
  parent: number;
  name: Uint8Array;
  entry: EntryRow | undefined;
}

export interface View {
  reader: Reader;
  chunks: ChunkStore;
}

/** A file size for truncate: EINVAL if it is not one, EFBIG past the largest file. */
function checkSize(size: number, syscall: string, shown?: string): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new FsError('EINVAL', syscall, shown);
  if (size > FILE_BYTES_MAX) throw new FsError('EFBIG', syscall, shown, `over the ${FILE_BYTES_MAX}-byte file limit`);
}

const TYPE_OF_MODE: Array<[number, NodeType]> = Object.entries(TYPE_BITS).map(([type, bits]) => [bits, type as NodeType]);
const S_IFMT = 0o170000;

export class FileSystem {
  readonly reader: Reader;
  readonly chunks: ChunkStore;
  private readonly store: Store | null;
  private readonly state: { handles: Map<number, Handle>; buffers: Map<number, WriteBuffer>; written: WeakMap<WriteBuffer, Timespec>; nextFh: number };
  /** Who the ops of this instance are attributed to; `as()` makes a view with another actor. */
  readonly actor: Actor;

  constructor(view: View, store: Store | null, actor: Actor = { kind: 'api' }) {
    this.reader = view.reader;
    this.chunks = view.chunks;
    this.store = store;
    this.actor = actor;
    this.state = { handles: new Map(), buffers: new Map(), written: new WeakMap(), nextFh: 1 };
  }

  static live(store: Store, actor?: Actor): FileSystem {
    return new FileSystem(store, store, actor);
  }

  /** The same filesystem (handles, buffers) with ops attributed to `actor`. */
  as(actor: Actor): FileSystem {
    const view = Object.create(this) as FileSystem;
    Object.defineProperty(view, 'actor', { value: actor });
    return view;
  }

  // ---- resolution ----

  /** The global ref of an inode, for an op: only a mutation asks, so a read-only view refuses. */
  private ref(ino: number): Ref {
    return this.writable('write').log.globalRef(ino);
  }

  private attrOf(ino: number, syscall: string, path?: PathLike): Attr {
    const attr = this.reader.attr(ino);
    if (!attr) throw new FsError('ENOENT', syscall, path === undefined ? String(ino) : pathText(path));
    const buffer = this.state.buffers.get(ino);
    if (buffer) {
      attr.size = buffer.size;
      attr.blocks = Math.ceil(buffer.allocatedBytes / 512);
      // A write or truncate changes mtime and ctime when it happens, not when the buffer commits.
      const written = buffer.changed ? this.state.written.get(buffer) : undefined;
      if (written) attr.mtime = attr.ctime = written;
    }
    return attr;
  }

  /** Records that a buffer changed now (its commit, later, gets the op's time). */
  private wrote(buffer: WriteBuffer): void {
    const now = Date.now();
    this.state.written.set(buffer, [Math.floor(now / 1000), (now % 1000) * 1e6]);
  }

  /** Resolves a target to an inode, following symlinks (the last one only if `follow`). */
  resolve(target: Target, follow: boolean, syscall: string): number {
    if (typeof target === 'number') {
      if (!this.reader.node(target)) throw new FsError('ENOENT', syscall, String(target));
      return target;
    }
    const { parts, trailingSlash } = splitPath(target, syscall);
    const { ino, type } = this.walk(ROOT_ID, parts, follow || trailingSlash, syscall, target);
    if (trailingSlash && type !== 'dir') throw new FsError('ENOTDIR', syscall, pathText(target));
    return ino;
  }

  /**
   * Walks names from directory `start`; returns the inode reached and its type. Entries carry
   * their node's type, so only symlinks need their node read.
   */
  private walk(start: number, path: Uint8Array[], followLast: boolean, syscall: string, shown: PathLike): { ino: number; type: NodeType } {
    /** the names still to walk, the next one last: each step is O(1), so a walk is linear */
    const queue = path.slice().reverse();
    let current = start;
    let type: NodeType = 'dir';
    let hops = 0;
    while (queue.length > 0) {
      const name = queue.pop()!;
      if (type !== 'dir') throw new FsError('ENOTDIR', syscall, pathText(shown));
      if (isDot(name)) continue;
      if (isDotDot(name)) {
        current = this.reader.parentOf(current);
        continue;
      }
      const entry = this.reader.lookup(current, name);
      if (!entry) throw new FsError('ENOENT', syscall, pathText(shown));
      if (entry.type === 'symlink' && (queue.length > 0 || followLast)) {
        if (++hops > SYMLINK_HOPS_MAX) throw new FsError('ELOOP', syscall, pathText(shown));
        const target = this.reader.node(entry.node)!.target!;
        if (target.length === 0) throw new FsError('ENOENT', syscall, pathText(shown));
        if (target[0] === 0x2f) current = ROOT_ID;
        queue.push(...splitPath(target, syscall).parts.reverse());
        continue;
      }
      current = entry.node;
      type = entry.type;
    }
    return { ino: current, type };
  }

  /** The parent directory and final name of a path, and the entry there if any. */
  private slot(path: PathLike, syscall: string, start = ROOT_ID, parts = splitPath(path, syscall).parts): Slot {
    const name = parts[parts.length - 1];
    if (!name) throw new FsError('EBUSY', syscall, pathText(path), 'the root');
    if (isDot(name) || isDotDot(name)) throw new FsError('EINVAL', syscall, pathText(path));
    const parent = this.walk(start, parts.slice(0, -1), true, syscall, path);
    if (parent.type !== 'dir') throw new FsError('ENOTDIR', syscall, pathText(path));
    return { parent: parent.ino, name, entry: this.reader.lookup(parent.ino, name) };
  }

  /** open with O_CREAT: like Linux, a dangling symlink in the last component is created through. */
  private openCreate(path: PathLike, flags: number, mode: number): number {
    let slot = this.slot(path, 'open');
    for (let hops = 0; slot.entry; hops++) {
      if (flags & O_EXCL) throw new FsError('EEXIST', 'open', pathText(path));
      if (slot.entry.type !== 'symlink' || flags & O_NOFOLLOW) return slot.entry.node;
      if (hops >= SYMLINK_HOPS_MAX) throw new FsError('ELOOP', 'open', pathText(path));
      const target = this.reader.node(slot.entry.node)!.target!;
      const start = target[0] === 0x2f ? ROOT_ID : slot.parent;
      const { parts } = splitPath(target, 'open');
      const last = parts[parts.length - 1];
      if (!last || isDot(last) || isDotDot(last)) return this.walk(start, parts, true, 'open', path).ino;
      slot = this.slot(path, 'open', start, parts);
    }
    return this.makeNode(slot, 'file', mode, 0, new Uint8Array(0), 'open', path);
  }

  private commit(body: OpBody, syscall: string, path?: PathLike): void {
    if (!this.store) throw new FsError('EROFS', syscall, path === undefined ? undefined : pathText(path));
    this.store.commit(body, this.actor);
  }

  private writable(syscall: string): Store {
    if (!this.store) throw new FsError('EROFS', syscall);
    return this.store;
  }

  // ---- reads ----

  lookup(parent: number, name: PathLike): Attr {
    const entry = this.reader.lookup(this.resolve(parent, true, 'lookup'), checkName(name, 'lookup'));
    if (!entry) throw new FsError('ENOENT', 'lookup', pathText(name));
    return this.attrOf(entry.node, 'lookup');
  }

  stat(target: Target): Attr {
    return this.attrOf(this.resolve(target, true, 'stat'), 'stat', typeof target === 'number' ? undefined : target);
  }

  lstat(target: Target): Attr {
    return this.attrOf(this.resolve(target, false, 'lstat'), 'lstat', typeof target === 'number' ? undefined : target);
  }

  exists(path: PathLike): boolean {
    try {
      this.lstat(path);
      return true;
    } catch (error) {
      if (error instanceof FsError && (error.code === 'ENOENT' || error.code === 'ENOTDIR')) return false;
      throw error;
    }
  }

  readdir(target: Target, offset = 0, limit = -1): DirEntry[] {
    const ino = this.resolve(target, true, 'readdir');
    if (this.reader.node(ino)!.type !== 'dir') throw new FsError('ENOTDIR', 'readdir', typeof target === 'number' ? undefined : pathText(target));
    return this.reader.readdir(ino, offset, limit);
  }

  readlink(target: Target): Uint8Array {
    const node = this.reader.node(this.resolve(target, false, 'readlink'))!;
    if (node.type !== 'symlink') throw new FsError('EINVAL', 'readlink', typeof target === 'number' ? undefined : pathText(target), 'not a symlink');
    return node.target!;
  }

  /** `follow: false` acts on a symlink itself (lgetxattr and the other l- calls). */
  getxattr(target: Target, name: PathLike, follow = true): Uint8Array {
    const value = this.reader.xattr(this.resolve(target, follow, 'getxattr'), toBytes(name, 'getxattr'));
    if (value === null) throw new FsError('ENODATA', 'getxattr', pathText(name));
    return value;
  }

  listxattr(target: Target, follow = true): Uint8Array[] {
    return this.reader.xattrNames(this.resolve(target, follow, 'listxattr'));
  }

  statfs(): StatFs {
    const { count, bytes } = this.chunks.totals();
    const freeBytes = this.store?.sql.freeBytes() ?? null;
    const bsize = 4096;
    const used = Math.ceil(bytes / bsize);
    const free = freeBytes === null ? 2 ** 32 : Math.floor(freeBytes / bsize);
    return { bsize, frsize: bsize, blocks: used + free, bfree: free, bavail: free, files: count + 2 ** 32, ffree: 2 ** 32, namemax: 255 };
  }

  // ---- files ----

  /** Opens (and with O_CREAT creates) a file; returns a handle for read/write/release. */
  open(target: Target, flags = 0, mode = 0o644): number {
    const ino = (flags & O_CREAT) && typeof target !== 'number'
      ? this.openCreate(target, flags, mode)
      : this.resolve(target, !(flags & O_NOFOLLOW), 'open');
    const node = this.reader.node(ino)!;
    const shown = typeof target === 'number' ? undefined : pathText(target);
    if (node.type === 'symlink') throw new FsError('ELOOP', 'open', shown);
    const writing = (flags & ACCESS_MODE) === O_WRONLY || (flags & ACCESS_MODE) === O_RDWR;
    if (writing) this.notConflictCopy(ino, 'open', shown);
    if (node.type === 'dir' && writing) throw new FsError('EISDIR', 'open', shown);
    if (node.type !== 'dir' && (flags & O_DIRECTORY)) throw new FsError('ENOTDIR', 'open', shown);
    const buffer = writing ? this.bufferFor(ino) : null;
    if (buffer && (flags & O_TRUNC)) {
      buffer.truncate(0);
      this.wrote(buffer);
    }
    const fh = this.state.nextFh++;
    this.state.handles.set(fh, { ino, flags, buffer });
    return fh;
  }

  private bufferFor(ino: number): WriteBuffer {
    const store = this.writable('open');
    let buffer = this.state.buffers.get(ino);
    if (!buffer) {
      if (this.reader.node(ino)!.type !== 'file') throw new FsError('EINVAL', 'open', undefined, 'not a regular file');
      const content = this.reader.content(ino);
      const base = content ? { ref: store.log.globalRef(content.op), size: content.size, manifest: content.manifest } : null;
      buffer = new WriteBuffer(ino, base, this.chunks, this.actor);
      this.state.buffers.set(ino, buffer);
    }
    buffer.handles++;
    return buffer;
  }

  private handle(fh: number, syscall: string): Handle {
    const handle = this.state.handles.get(fh);
    if (!handle) throw new FsError('EBADF', syscall, undefined, `no handle ${fh}`);
    return handle;
  }

  /** Reads up to `length` bytes; with `into` (at least `length` bytes) they are copied there, not to a new array. */
  read(fh: number, offset: number, length: number, into?: Uint8Array): Uint8Array {
    const { ino, flags } = this.handle(fh, 'read');
    if ((flags & ACCESS_MODE) === O_WRONLY) throw new FsError('EBADF', 'read', undefined, 'handle is write-only');
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) throw new FsError('EINVAL', 'read');
    if (this.reader.node(ino)?.type === 'dir') throw new FsError('EISDIR', 'read');
    const buffer = this.state.buffers.get(ino);
    return buffer ? buffer.read(offset, length, into) : this.reader.read(ino, offset, length, this.chunks, into);
  }

  write(fh: number, data: Uint8Array, offset: number): number {
    const { buffer, flags } = this.handle(fh, 'write');
    if (!buffer) throw new FsError('EBADF', 'write', undefined, 'handle is read-only');
    if (!Number.isSafeInteger(offset) || offset < 0) throw new FsError('EINVAL', 'write');
    const at = flags & O_APPEND ? buffer.size : offset;
    if (at + data.length > FILE_BYTES_MAX) throw new FsError('EFBIG', 'write');
    buffer.actor = this.actor;
    buffer.write(at, data);
    if (data.length > 0) this.wrote(buffer);
    return data.length;
  }

  ftruncate(fh: number, size: number): void {
    const { buffer } = this.handle(fh, 'ftruncate');
    if (!buffer) throw new FsError('EINVAL', 'ftruncate', undefined, 'handle is not open for writing');
    checkSize(size, 'ftruncate');
    buffer.actor = this.actor;
    buffer.truncate(size);
    this.wrote(buffer);
  }

  fstat(fh: number): Attr {
    return this.attrOf(this.handle(fh, 'fstat').ino, 'fstat');
  }

  /** Commits the handle's buffer (one setContent op) if it changed and makes every op durable. */
  fsync(fh: number): void {
    const { buffer } = this.handle(fh, 'fsync');
    if (buffer) this.flushBuffer(buffer);
    this.store?.sync();
  }

  /** Makes every op so far durable (fsyncdir, sync(2)). */
  sync(): void {
    this.store?.sync();
  }

  /** Closes a handle; the last handle on an inode commits its buffer. */
  release(fh: number): void {
    const handle = this.handle(fh, 'release');
    this.state.handles.delete(fh);
    const buffer = handle.buffer;
    if (!buffer || --buffer.handles > 0) return;
    this.state.buffers.delete(buffer.ino);
    try {
      this.flushBuffer(buffer);
    } finally {
      buffer.discard();
    }
  }

  private flushBuffer(buffer: WriteBuffer): void {
    if (!buffer.changed) return;
    const store = this.writable('fsync');
    store.transaction(() => {
      const { size, manifest } = buffer.seal();
      const op = store.commit(this.content(buffer.ino, size, manifest, buffer.baseRef ? [buffer.baseRef] : []), buffer.actor);
      buffer.baseRef = `${op.origin}:${op.seq}`;
    });
  }

  /**
   * A setContent of a node. It names the removals that took the node's last name on this replica:
   * content written to an unlinked, still-open file does not bring the file back.
   */
  private content(ino: number, size: number, manifest: Uint8Array, base: Ref[]): OpBody {
    const deletes = this.writable('write').projector.removals.took(ino, REFS_COUNT_MAX).map((op) => this.ref(op));
    return { kind: 'setContent', node: this.ref(ino), size, manifest, base, deletes };
  }

  /** The content heads of a node this replica holds, which a removal of one of its names saw. */
  private seen(ino: number): Ref[] {
    return this.reader.heads(ino).map((op) => this.ref(op));
  }

  /** Releases every open handle, committing every changed buffer (at shutdown). */
  releaseAll(): void {
    for (const fh of [...this.state.handles.keys()]) this.release(fh);
  }

  /** Write buffers open now, and the bytes they hold that are not committed yet. */
  openBuffers(): { count: number; dirtyBytes: number } {
    let dirtyBytes = 0;
    for (const buffer of this.state.buffers.values()) dirtyBytes += buffer.dirtyBytes;
    return { count: this.state.buffers.size, dirtyBytes };
  }

  /** A file's whole content: what open, a read to its size and release return, with no handle made. */
  readFile(target: Target): Uint8Array {
    const ino = this.resolve(target, true, 'open');
    const type = this.reader.node(ino)!.type;
    if (type === 'symlink') throw new FsError('ELOOP', 'open', typeof target === 'number' ? undefined : pathText(target));
    if (type === 'dir') throw new FsError('EISDIR', 'read');
    const buffer = this.state.buffers.get(ino);
    return buffer ? buffer.read(0, buffer.size) : this.reader.read(ino, 0, Number.MAX_SAFE_INTEGER, this.chunks);
  }

  /**
   * Creates or replaces a file's content: one create op if new, one setContent op, committed
   * together (one commit instead of two, and no empty file left behind if the write fails).
   */
  writeFile(path: PathLike, data: Uint8Array | string, mode = 0o644): void {
    const bytes = toBytes(data, 'writeFile');
    const write = () => {
      const fh = this.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
      try {
        this.write(fh, bytes, 0);
        // One setContent now even when another handle (the mount's) holds the buffer open.
        const { buffer } = this.handle(fh, 'writeFile');
        if (buffer) this.flushBuffer(buffer);
      } finally {
        this.release(fh);
      }
    };
    if (this.store) this.store.transaction(write);
    else write();
  }

  // ---- entries ----

  /** Conflict copies can be read and deleted (which resolves them), nothing else. */
  private notConflictCopy(ino: number, syscall: string, shown?: string): void {
    if (this.reader.isConflictCopy(ino)) throw new FsError('EPERM', syscall, shown, 'a conflict copy can be read or deleted, which resolves the conflict');
  }

  private makeNode(slot: Slot, type: NodeType, mode: number, rdev: number, target: Uint8Array, syscall: string, path: PathLike): number {
    const store = this.writable(syscall);
    if (slot.entry) throw new FsError('EEXIST', syscall, pathText(path));
    const op = store.commit({
      kind: 'create', parent: this.ref(slot.parent), name: slot.name, type, mode: mode & 0o7777,
      uid: this.actor.uid ?? 0, gid: this.actor.gid ?? 0, target, rdev,
    }, this.actor);
    return store.log.localId(`${op.origin}:${op.seq}`);
  }

  mkdir(path: PathLike, mode = 0o755): Attr {
    const ino = this.makeNode(this.slot(path, 'mkdir'), 'dir', mode, 0, new Uint8Array(0), 'mkdir', path);
    return this.attrOf(ino, 'mkdir');
  }

  /**
   * mkdir -p: walks the path once, creating each directory that is missing (an existing one is
   * fine, anything else is ENOTDIR), at most `levelsMax` of them. `first` is the index of the
   * first component it created (the component count when none); `made` how many it created: a
   * call that stopped at `levelsMax` leaves the rest to the next.
   */
  mkdirp(path: PathLike, mode = 0o755, levelsMax = Infinity): { first: number; made: number } {
    const { parts } = splitPath(path, 'mkdir');
    let dir = ROOT_ID;
    let first = parts.length;
    let made = 0;
    /** `dir` was made by this call, so it is empty: no lookup (a SQL read) needed */
    let fresh = false;
    for (let i = 0; i < parts.length && made < levelsMax; i++) {
      const name = parts[i]!;
      if (!isDot(name) && !isDotDot(name) && (fresh || !this.reader.lookup(dir, name))) {
        dir = this.makeNode({ parent: dir, name, entry: undefined }, 'dir', mode, 0, new Uint8Array(0), 'mkdir', path);
        first = Math.min(first, i);
        made++;
        fresh = true;
        continue;
      }
      const next = this.walk(dir, [name], true, 'mkdir', path);
      if (next.type !== 'dir') throw new FsError('ENOTDIR', 'mkdir', pathText(path));
      dir = next.ino;
      fresh &&= isDot(name);
    }
    return { first, made };
  }

  /** Creates a non-directory node; the type comes from the S_IFMT bits of `mode` (0 means file). */
  mknod(path: PathLike, mode: number, rdev = 0): Attr {
    const bits = mode & S_IFMT;
    const type = bits === 0 ? 'file' : TYPE_OF_MODE.find(([b]) => b === bits)?.[1];
    if (!type || type === 'dir' || type === 'symlink') throw new FsError('EINVAL', 'mknod', pathText(path), 'unsupported node type');
    const ino = this.makeNode(this.slot(path, 'mknod'), type, mode, type === 'chardev' || type === 'blockdev' ? rdev : 0, new Uint8Array(0), 'mknod', path);
    return this.attrOf(ino, 'mknod');
  }

  symlink(target: PathLike, path: PathLike): Attr {
    const bytes = toBytes(target, 'symlink');
    if (bytes.length === 0) throw new FsError('ENOENT', 'symlink', pathText(path), 'empty target');
    if (bytes.includes(0)) throw new FsError('EINVAL', 'symlink', pathText(path));
    if (bytes.length > PATH_BYTES_MAX) throw new FsError('ENAMETOOLONG', 'symlink', pathText(path));
    const ino = this.makeNode(this.slot(path, 'symlink'), 'symlink', 0o777, 0, bytes, 'symlink', path);
    return this.attrOf(ino, 'symlink');
  }

  link(existing: Target, path: PathLike): Attr {
    const ino = this.resolve(existing, false, 'link');
    this.notConflictCopy(ino, 'link', pathText(path));
    if (this.reader.node(ino)!.type === 'dir') throw new FsError('EPERM', 'link', pathText(path), 'hard link to a directory');
    const slot = this.slot(path, 'link');
    if (slot.entry) throw new FsError('EEXIST', 'link', pathText(path));
    this.commit({ kind: 'link', parent: this.ref(slot.parent), name: slot.name, node: this.ref(ino) }, 'link', path);
    return this.attrOf(ino, 'link');
  }

  unlink(path: PathLike): void {
    this.unlinkAt(this.slot(path, 'unlink'), path);
  }

  private unlinkAt(slot: Slot, path: PathLike): void {
    if (!slot.entry) throw new FsError('ENOENT', 'unlink', pathText(path));
    const conflict = this.reader.isConflictCopy(slot.entry.node) ? this.reader.conflict(slot.entry.node) : undefined;
    if (conflict) {
      // Deleting a conflict copy resolves the conflict: an edit based on both heads, keeping the
      // winner's bytes, supersedes the loser.
      const { winner, head } = conflict;
      this.commit(this.content(conflict.node, winner.size, winner.manifest, [this.ref(winner.op), this.ref(head.op)]), 'unlink', path);
      return;
    }
    if (slot.entry.type === 'dir') throw new FsError('EISDIR', 'unlink', pathText(path));
    this.commit({ kind: 'unlink', entry: this.ref(slot.entry.id), node: this.ref(slot.entry.node), parent: this.ref(slot.parent), seen: this.seen(slot.entry.node) }, 'unlink', path);
  }

  rmdir(path: PathLike): void {
    this.rmdirAt(this.slot(path, 'rmdir'), path);
  }

  private rmdirAt(slot: Slot, path: PathLike): void {
    if (!slot.entry) throw new FsError('ENOENT', 'rmdir', pathText(path));
    if (slot.entry.type !== 'dir') throw new FsError('ENOTDIR', 'rmdir', pathText(path));
    if (!this.reader.isEmpty(slot.entry.node)) throw new FsError('ENOTEMPTY', 'rmdir', pathText(path));
    this.commit({ kind: 'rmdir', entry: this.ref(slot.entry.id), node: this.ref(slot.entry.node), parent: this.ref(slot.parent), seen: [] }, 'rmdir', path);
  }

  /**
   * rm: removes a non-directory, or with `recursive` a directory and everything under it,
   * walking the tree by inode (not re-resolving a path per entry, which is quadratic in depth).
   */
  rm(path: PathLike, recursive = false): void {
    this.remove(this.slot(path, 'rm'), recursive, path);
  }

  private remove(slot: Slot, recursive: boolean, path: PathLike): void {
    const { entry } = slot;
    if (!entry) throw new FsError('ENOENT', 'rm', pathText(path));
    if (entry.type !== 'dir') return this.unlinkAt(slot, path);
    if (!recursive) throw new FsError('EISDIR', 'rm', pathText(path), 'a directory: remove it recursively');
    // Entries, not the names readdir shows: a file's conflict copies go with it.
    for (const child of this.reader.children(entry.node)) this.remove({ parent: entry.node, name: child.name, entry: child }, true, path);
    this.rmdirAt(slot, path);
  }

  /** rename(2) with renameat2 flags RENAME_NOREPLACE and RENAME_EXCHANGE. */
  rename(from: PathLike, to: PathLike, flags = 0): void {
    if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE) || flags === (RENAME_NOREPLACE | RENAME_EXCHANGE)) {
      throw new FsError('EINVAL', 'rename', pathText(from), `flags ${flags}`);
    }
    const source = this.slot(from, 'rename');
    const dest = this.slot(to, 'rename');
    const entry = source.entry;
    if (!entry) throw new FsError('ENOENT', 'rename', pathText(from));
    this.notConflictCopy(entry.node, 'rename', pathText(from));
    if (dest.entry) this.notConflictCopy(dest.entry.node, 'rename', pathText(to));
    const other = dest.entry;
    const tree = this.store ? this.store.projector.tree : null;
    const inside = (node: number, dir: number) => tree?.within(node, dir) ?? false;
    const body = {
      kind: 'move' as const, entry: this.ref(entry.id), node: this.ref(entry.node), from: this.ref(source.parent),
      parent: this.ref(dest.parent), name: dest.name, other: other ? this.ref(other.id) : null,
      otherNode: other ? this.ref(other.node) : null, exchange: flags === RENAME_EXCHANGE,
      seen: other && flags !== RENAME_EXCHANGE ? this.seen(other.node) : [],
    };
    if (flags === RENAME_EXCHANGE) {
      if (!other) throw new FsError('ENOENT', 'rename', pathText(to));
      if ((entry.type === 'dir' && inside(dest.parent, entry.node)) || (other.type === 'dir' && inside(source.parent, other.node))) {
        throw new FsError('EINVAL', 'rename', pathText(to), 'a directory cannot move inside itself');
      }
      if (other.id !== entry.id) this.commit(body, 'rename', from);
      return;
    }
    if (other && flags === RENAME_NOREPLACE) throw new FsError('EEXIST', 'rename', pathText(to));
    if (entry.type === 'dir' && inside(dest.parent, entry.node)) throw new FsError('EINVAL', 'rename', pathText(to), 'a directory cannot move inside itself');
    if (other) {
      if (other.node === entry.node) return;
      if (entry.type === 'dir' && other.type !== 'dir') throw new FsError('ENOTDIR', 'rename', pathText(to));
      if (entry.type !== 'dir' && other.type === 'dir') throw new FsError('EISDIR', 'rename', pathText(to));
      if (other.type === 'dir' && !this.reader.isEmpty(other.node)) throw new FsError('ENOTEMPTY', 'rename', pathText(to));
    }
    this.commit(body, 'rename', from);
  }

  // ---- attributes ----

  /** Changes attributes; size truncates. One setAttr op (plus a setContent for a size change). */
  setattr(target: Target, changes: SetAttr, follow = true): Attr {
    const ino = this.resolve(target, follow, 'setattr');
    const shown = typeof target === 'number' ? undefined : pathText(target);
    this.notConflictCopy(ino, 'setattr', shown);
    if (changes.size !== undefined) this.truncateIno(ino, changes.size, shown);
    // Times set after a write win over it (cp -p, tar): commit the write first, so its implied
    // mtime does not land after the explicit one.
    const open = this.state.buffers.get(ino);
    if (open?.changed && (changes.atime !== undefined || changes.mtime !== undefined)) this.flushBuffer(open);
    const { mode, uid, gid, atime, mtime } = changes;
    if ([mode, uid, gid, atime, mtime].some((v) => v !== undefined)) {
      for (const value of [mode, uid, gid]) if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) throw new FsError('EINVAL', 'setattr', shown);
      for (const time of [atime, mtime]) {
        if (time !== undefined && (!Array.isArray(time) || !Number.isSafeInteger(time[0]) || !Number.isInteger(time[1]) || time[1] < 0 || time[1] >= 1e9)) {
          throw new FsError('EINVAL', 'setattr', shown, 'time must be [sec, nsec]');
        }
      }
      this.commit({
        kind: 'setAttr', node: this.ref(ino), mode: mode === undefined ? null : mode & 0o7777, uid: uid ?? null,
        gid: gid ?? null, atime: atime ?? null, mtime: mtime ?? null,
      }, 'setattr', shown);
    }
    return this.attrOf(ino, 'setattr');
  }

  private truncateIno(ino: number, size: number, shown: string | undefined): void {
    checkSize(size, 'truncate', shown);
    const type = this.reader.node(ino)!.type;
    if (type === 'dir') throw new FsError('EISDIR', 'truncate', shown);
    if (type !== 'file') throw new FsError('EINVAL', 'truncate', shown);
    const open = this.state.buffers.get(ino);
    const buffer = open ?? this.bufferFor(ino);
    if (!open) buffer.handles--;
    buffer.actor = this.actor;
    buffer.truncate(size);
    try {
      this.flushBuffer(buffer);
    } finally {
      if (!open) {
        buffer.discard();
        this.state.buffers.delete(ino);
      }
    }
  }

  chmod(target: Target, mode: number): Attr {
    return this.setattr(target, { mode });
  }

  /** chown; -1 (or undefined) leaves an id unchanged. */
  chown(target: Target, uid: number | undefined, gid: number | undefined, follow = true): Attr {
    return this.setattr(target, { uid: uid === -1 ? undefined : uid, gid: gid === -1 ? undefined : gid }, follow);
  }

  utimens(target: Target, atime: Timespec | undefined, mtime: Timespec | undefined, follow = true): Attr {
    return this.setattr(target, { atime, mtime }, follow);
  }

  truncate(target: Target, size: number): void {
    this.setattr(target, { size });
  }

  setxattr(target: Target, name: PathLike, value: Uint8Array, flags = 0, follow = true): void {
    const ino = this.resolve(target, follow, 'setxattr');
    this.notConflictCopy(ino, 'setxattr');
    const key = toBytes(name, 'setxattr');
    if (key.length === 0 || key.length > XATTR_NAME_BYTES_MAX) throw new FsError('ERANGE', 'setxattr', pathText(name));
    // POSIX ACLs are not stored: refusing them makes tools (cp -a, tar) fall back to chmod.
    if (POSIX_ACL_NAMES.has(Buffer.from(key).toString('latin1'))) throw new FsError('ENOTSUP', 'setxattr', pathText(name), 'POSIX ACLs are not supported');
    if (!(value instanceof Uint8Array)) throw new FsError('EINVAL', 'setxattr', pathText(name), 'the value is bytes');
    if (value.length > XATTR_VALUE_BYTES_MAX) throw new FsError('E2BIG', 'setxattr', pathText(name));
    const exists = this.reader.xattr(ino, key) !== null;
    if ((flags & XATTR_CREATE) && exists) throw new FsError('EEXIST', 'setxattr', pathText(name));
    if ((flags & XATTR_REPLACE) && !exists) throw new FsError('ENODATA', 'setxattr', pathText(name));
    this.commit({ kind: 'setXattr', node: this.ref(ino), name: key, value }, 'setxattr');
  }

  removexattr(target: Target, name: PathLike, follow = true): void {
    const ino = this.resolve(target, follow, 'removexattr');
    this.notConflictCopy(ino, 'removexattr');
    const key = toBytes(name, 'removexattr');
    if (this.reader.xattr(ino, key) === null) throw new FsError('ENODATA', 'removexattr', pathText(name));
    this.commit({ kind: 'setXattr', node: this.ref(ino), name: key, value: null }, 'removexattr');
  }
}
