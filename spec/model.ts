// The POSIX reference model: a plain in-memory filesystem that knows nothing of ops, logs or
// projections. Property tests drive it and the real store with the same calls and compare
// outcomes (the same error code, or success) and canonical trees after every step.
import { createHash } from 'node:crypto';
import type { CanonicalEntry } from '../projections/index.ts';

export class ModelError extends Error {
  readonly code: string;
  constructor(code: string) {
    super(code);
    this.code = code;
  }
}

type Kind = 'file' | 'dir' | 'symlink';

interface MNode {
  type: Kind;
  mode: number;
  uid: number;
  gid: number;
  data: Buffer;
  target: string;
  xattrs: Map<string, Buffer>;
  children: Map<string, number>;
}

const TYPE_BITS: Record<Kind, number> = { file: 0o100000, dir: 0o040000, symlink: 0o120000 };
const HOPS_MAX = 40;
const ROOT = 1;

export class Model {
  private readonly nodes = new Map<number, MNode>();
  private readonly parents = new Map<number, number>();
  private next = 2;
  /** open handles: id -> inode; an open inode outlives its last name */
  private readonly handles = new Map<number, number>();

  constructor() {
    this.nodes.set(ROOT, this.node('dir', 0o755));
  }

  private node(type: Kind, mode: number, target = ''): MNode {
    return { type, mode, uid: 0, gid: 0, data: Buffer.alloc(0), target, xattrs: new Map(), children: new Map() };
  }

  private get(ino: number): MNode {
    return this.nodes.get(ino)!;
  }

  private walk(start: number, parts: string[], followLast: boolean): number {
    const queue = [...parts];
    let current = start;
    let hops = 0;
    while (queue.length > 0) {
      const name = queue.shift()!;
      if (this.get(current).type !== 'dir') throw new ModelError('ENOTDIR');
      if (name === '.') continue;
      if (name === '..') {
        current = this.parents.get(current) ?? ROOT;
        continue;
      }
      const child = this.get(current).children.get(name);
      if (child === undefined) throw new ModelError('ENOENT');
      const node = this.get(child);
      if (node.type === 'symlink' && (queue.length > 0 || followLast)) {
        if (++hops > HOPS_MAX) throw new ModelError('ELOOP');
        if (node.target.startsWith('/')) current = ROOT;
        queue.unshift(...node.target.split('/').filter(Boolean));
        continue;
      }
      current = child;
    }
    return current;
  }

  private split(path: string): string[] {
    return path.split('/').filter(Boolean);
  }

  resolve(path: string, follow = true): number {
    const ino = this.walk(ROOT, this.split(path), follow || path.endsWith('/'));
    if (path.endsWith('/') && this.get(ino).type !== 'dir') throw new ModelError('ENOTDIR');
    return ino;
  }

  private slot(path: string, start = ROOT): { parent: number; name: string; child: number | undefined } {
    const parts = this.split(path);
    const name = parts.pop();
    if (name === undefined) throw new ModelError('EBUSY');
    if (name === '.' || name === '..') throw new ModelError('EINVAL');
    const parent = this.walk(start, parts, true);
    if (this.get(parent).type !== 'dir') throw new ModelError('ENOTDIR');
    return { parent, name, child: this.get(parent).children.get(name) };
  }

  private add(parent: number, name: string, node: MNode): number {
    const ino = this.next++;
    this.nodes.set(ino, node);
    this.get(parent).children.set(name, ino);
    if (node.type === 'dir') this.parents.set(ino, parent);
    return ino;
  }

  private within(dir: number, ancestor: number): boolean {
    for (let at: number | undefined = dir; at !== undefined; at = this.parents.get(at)) if (at === ancestor) return true;
    return false;
  }

  mkdir(path: string, mode: number): void {
    const slot = this.slot(path);
    if (slot.child !== undefined) throw new ModelError('EEXIST');
    this.add(slot.parent, slot.name, this.node('dir', mode));
  }

  /** open(O_CREAT|O_WRONLY|O_TRUNC [|O_EXCL]): creates through a dangling symlink like Linux. */
  private openCreate(path: string, mode: number, exclusive: boolean): number {
    let start = ROOT;
    let current = path;
    for (let hops = 0; ; hops++) {
      const slot = this.slot(current, start);
      if (slot.child === undefined) return this.add(slot.parent, slot.name, this.node('file', mode));
      if (exclusive) throw new ModelError('EEXIST');
      const node = this.get(slot.child);
      if (node.type !== 'symlink') {
        if (node.type === 'dir') throw new ModelError('EISDIR');
        return slot.child;
      }
      if (hops >= HOPS_MAX) throw new ModelError('ELOOP');
      start = node.target.startsWith('/') ? ROOT : slot.parent;
      current = node.target;
      const last = this.split(current).pop();
      if (last === undefined || last === '.' || last === '..') {
        const ino = this.walk(start, this.split(current), true);
        if (this.get(ino).type === 'dir') throw new ModelError('EISDIR');
        return ino;
      }
    }
  }

  writeFile(path: string, data: Buffer, mode: number, exclusive = false): void {
    const ino = this.openCreate(path, mode, exclusive);
    this.get(ino).data = Buffer.from(data);
  }

  private openFile(path: string): number {
    const ino = this.resolve(path);
    if (this.get(ino).type === 'dir') throw new ModelError('EISDIR');
    return ino;
  }

  writeAt(path: string, offset: number, data: Buffer): void {
    this.writeIno(this.openFile(path), offset, data);
  }

  /** Opens a file for writing, unlinks the path, then writes through the handle. */
  writeUnlinked(path: string, offset: number, data: Buffer): void {
    const ino = this.openFile(path);
    this.unlink(path);
    this.writeIno(ino, offset, data);
  }

  private writeIno(ino: number, offset: number, data: Buffer): void {
    const node = this.get(ino);
    const size = Math.max(node.data.length, offset + data.length);
    const next = Buffer.alloc(size);
    node.data.copy(next);
    data.copy(next, offset);
    node.data = next;
  }

  open(path: string, handle: number): void {
    this.handles.set(handle, this.openFile(path));
  }

  writeHandle(handle: number, offset: number, data: Buffer): void {
    this.writeIno(this.handles.get(handle)!, offset, data);
  }

  readHandle(handle: number): Buffer {
    return this.get(this.handles.get(handle)!).data;
  }

  close(handle: number): void {
    this.handles.delete(handle);
  }

  truncate(path: string, size: number): void {
    const node = this.get(this.openFile(path));
    const next = Buffer.alloc(size);
    node.data.copy(next, 0, 0, Math.min(size, node.data.length));
    node.data = next;
  }

  symlink(target: string, path: string): void {
    const slot = this.slot(path);
    if (slot.child !== undefined) throw new ModelError('EEXIST');
    this.add(slot.parent, slot.name, this.node('symlink', 0o777, target));
  }

  link(existing: string, path: string): void {
    const ino = this.resolve(existing, false);
    if (this.get(ino).type === 'dir') throw new ModelError('EPERM');
    const slot = this.slot(path);
    if (slot.child !== undefined) throw new ModelError('EEXIST');
    this.get(slot.parent).children.set(slot.name, ino);
  }

  unlink(path: string): void {
    const slot = this.slot(path);
    if (slot.child === undefined) throw new ModelError('ENOENT');
    if (this.get(slot.child).type === 'dir') throw new ModelError('EISDIR');
    this.get(slot.parent).children.delete(slot.name);
  }

  rmdir(path: string): void {
    const slot = this.slot(path);
    if (slot.child === undefined) throw new ModelError('ENOENT');
    const node = this.get(slot.child);
    if (node.type !== 'dir') throw new ModelError('ENOTDIR');
    if (node.children.size > 0) throw new ModelError('ENOTEMPTY');
    this.get(slot.parent).children.delete(slot.name);
    this.parents.delete(slot.child);
  }

  /** rename(2) / renameat2 with flags 1 = NOREPLACE, 2 = EXCHANGE. */
  rename(from: string, to: string, flags: number): void {
    if (flags === 3) throw new ModelError('EINVAL');
    const source = this.slot(from);
    const dest = this.slot(to);
    if (source.child === undefined) throw new ModelError('ENOENT');
    const moving = source.child;
    const isDir = (ino: number) => this.get(ino).type === 'dir';
    if (flags === 2) {
      if (dest.child === undefined) throw new ModelError('ENOENT');
      const other = dest.child;
      if ((isDir(moving) && this.within(dest.parent, moving)) || (isDir(other) && this.within(source.parent, other))) throw new ModelError('EINVAL');
      this.get(source.parent).children.set(source.name, other);
      this.get(dest.parent).children.set(dest.name, moving);
      if (isDir(moving)) this.parents.set(moving, dest.parent);
      if (isDir(other)) this.parents.set(other, source.parent);
      return;
    }
    if (dest.child !== undefined && flags === 1) throw new ModelError('EEXIST');
    if (isDir(moving) && this.within(dest.parent, moving)) throw new ModelError('EINVAL');
    if (dest.child !== undefined) {
      if (dest.child === moving) return;
      if (isDir(moving) && !isDir(dest.child)) throw new ModelError('ENOTDIR');
      if (!isDir(moving) && isDir(dest.child)) throw new ModelError('EISDIR');
      if (isDir(dest.child) && this.get(dest.child).children.size > 0) throw new ModelError('ENOTEMPTY');
      if (isDir(dest.child)) this.parents.delete(dest.child);
    }
    this.get(source.parent).children.delete(source.name);
    this.get(dest.parent).children.set(dest.name, moving);
    if (isDir(moving)) this.parents.set(moving, dest.parent);
  }

  chmod(path: string, mode: number): void {
    this.get(this.resolve(path)).mode = mode & 0o7777;
  }

  chown(path: string, uid: number, gid: number): void {
    const node = this.get(this.resolve(path));
    node.uid = uid;
    node.gid = gid;
  }

  setxattr(path: string, name: string, value: Buffer): void {
    this.get(this.resolve(path)).xattrs.set(name, Buffer.from(value));
  }

  removexattr(path: string, name: string): void {
    const node = this.get(this.resolve(path));
    if (!node.xattrs.delete(name)) throw new ModelError('ENODATA');
  }

  read(path: string): Buffer {
    return this.get(this.openFile(path)).data;
  }

  /** The same shape as projections' canonicalTree, computed from the model alone. */
  canonical(): CanonicalEntry[] {
    const links = new Map<number, number>();
    const reachable: Array<[string, number]> = [];
    const visit = (ino: number, path: string) => {
      reachable.push([path, ino]);
      links.set(ino, (links.get(ino) ?? 0) + 1);
      const node = this.get(ino);
      if (node.type !== 'dir') return;
      for (const [name, child] of node.children) visit(child, `${path === '/' ? '' : path}/${name}`);
    };
    visit(ROOT, '/');
    const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
    return reachable.map(([path, ino]) => {
      const node = this.get(ino);
      const subdirs = [...node.children.values()].filter((c) => this.get(c).type === 'dir').length;
      return {
        path, type: node.type, mode: TYPE_BITS[node.type] | node.mode, uid: node.uid, gid: node.gid,
        nlink: node.type === 'dir' ? 2 + subdirs : links.get(ino)!,
        size: node.type === 'file' ? node.data.length : node.type === 'symlink' ? Buffer.byteLength(node.target) : 0,
        digest: node.type === 'file' ? sha(node.data) : node.type === 'symlink' ? sha(node.target) : '',
        xattrs: Object.fromEntries([...node.xattrs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v.toString('hex')])),
      };
    }).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}
