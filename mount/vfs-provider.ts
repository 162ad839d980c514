// A @platformatic/vfs provider over the filesystem API: a Node process can read, write and
// import from a store in-process through `fs`-shaped calls, with no kernel mount at all.
import { constants } from 'node:fs';
import { createRequire } from 'node:module';
import { FsError, type Attr, type FileSystem } from '../projections/index.ts';

const require = createRequire(import.meta.url);
const { VirtualProvider, create } = require('@platformatic/vfs') as {
  VirtualProvider: new () => object;
  create: (provider: object, options?: { moduleHooks?: boolean; overlay?: boolean }) => VirtualFileSystem;
};

export interface VirtualFileSystem {
  mount(prefix: string): VirtualFileSystem;
  unmount(): void;
  readFileSync(path: string, options?: unknown): Buffer | string;
  writeFileSync(path: string, data: string | Uint8Array, options?: unknown): void;
  readdirSync(path: string, options?: unknown): unknown[];
  statSync(path: string): LedgerStats;
  mkdirSync(path: string, options?: unknown): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  existsSync(path: string): boolean;
}

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, O_EXCL } = constants;
const FLAGS: Record<string, number> = {
  r: O_RDONLY, 'r+': O_RDWR, rs: O_RDONLY, 'rs+': O_RDWR,
  w: O_WRONLY | O_CREAT | O_TRUNC, 'w+': O_RDWR | O_CREAT | O_TRUNC,
  wx: O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, 'wx+': O_RDWR | O_CREAT | O_TRUNC | O_EXCL,
  a: O_WRONLY | O_CREAT | O_APPEND, 'a+': O_RDWR | O_CREAT | O_APPEND,
  ax: O_WRONLY | O_CREAT | O_APPEND | O_EXCL, 'ax+': O_RDWR | O_CREAT | O_APPEND | O_EXCL,
};

function openFlags(flags: string | number | undefined): number {
  if (flags === undefined) return O_RDONLY;
  if (typeof flags === 'number') return flags;
  const value = FLAGS[flags];
  if (value === undefined) throw new FsError('EINVAL', 'open', undefined, `unknown flags ${JSON.stringify(flags)}`);
  return value;
}

const ms = ([sec, nsec]: [number, number]) => sec * 1000 + nsec / 1e6;

/** The fs.Stats / fs.Dirent type predicates, from a node type. */
class Typed {
  protected readonly type: Attr['type'];
  constructor(type: Attr['type']) {
    this.type = type;
  }
  isFile(): boolean { return this.type === 'file'; }
  isDirectory(): boolean { return this.type === 'dir'; }
  isSymbolicLink(): boolean { return this.type === 'symlink'; }
  isFIFO(): boolean { return this.type === 'fifo'; }
  isSocket(): boolean { return this.type === 'socket'; }
  isCharacterDevice(): boolean { return this.type === 'chardev'; }
  isBlockDevice(): boolean { return this.type === 'blockdev'; }
}

/** fs.Stats-shaped attributes. */
export class LedgerStats extends Typed {
  readonly dev = 0;
  readonly ino: number;
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly rdev: number;
  readonly size: number;
  readonly blksize = 4096;
  readonly blocks: number;
  readonly atimeMs: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly birthtimeMs: number;
  readonly atime: Date;
  readonly mtime: Date;
  readonly ctime: Date;
  readonly birthtime: Date;

  constructor(attr: Attr) {
    super(attr.type);
    this.ino = attr.ino;
    this.mode = attr.mode;
    this.nlink = attr.nlink;
    this.uid = attr.uid;
    this.gid = attr.gid;
    this.rdev = attr.rdev;
    this.size = attr.size;
    this.blocks = attr.blocks;
    this.atimeMs = ms(attr.atime);
    this.mtimeMs = ms(attr.mtime);
    this.ctimeMs = ms(attr.ctime);
    this.birthtimeMs = ms(attr.birthtime);
    this.atime = new Date(this.atimeMs);
    this.mtime = new Date(this.mtimeMs);
    this.ctime = new Date(this.ctimeMs);
    this.birthtime = new Date(this.birthtimeMs);
  }
}

class LedgerDirent extends Typed {
  readonly name: string;
  readonly parentPath: string;
  readonly path: string;
  constructor(name: string, type: Attr['type'], parentPath: string) {
    super(type);
    this.name = name;
    this.parentPath = parentPath;
    this.path = parentPath;
  }
}

/** An open file: position-tracking reads and writes on a filesystem handle. */
class LedgerFileHandle {
  readonly path: string;
  readonly flags: string | number;
  readonly mode: number;
  position = 0;
  closed = false;
  private readonly fs: FileSystem;
  private readonly fh: number;

  constructor(fs: FileSystem, path: string, flags: string | number, mode: number | undefined) {
    this.fs = fs;
    this.path = path;
    this.flags = flags;
    this.mode = mode ?? 0o644;
    this.fh = fs.open(path, openFlags(flags), this.mode);
    if (openFlags(flags) & O_APPEND) this.position = fs.fstat(this.fh).size;
  }

  private live(): number {
    if (this.closed) throw new FsError('EBADF', 'read', this.path);
    return this.fh;
  }

  readSync(buffer: Uint8Array, offset: number, length: number, position?: number | null): number {
    const at = position ?? this.position;
    const data = this.fs.read(this.live(), at, length);
    buffer.set(data, offset);
    if (position === null || position === undefined) this.position = at + data.length;
    return data.length;
  }

  writeSync(buffer: Uint8Array, offset: number, length: number, position?: number | null): number {
    const at = position ?? this.position;
    const written = this.fs.write(this.live(), buffer.subarray(offset, offset + length), at);
    if (position === null || position === undefined) this.position = at + written;
    return written;
  }

  readFileSync(options?: BufferEncoding | { encoding?: BufferEncoding }): Buffer | string {
    const data = Buffer.from(this.fs.read(this.live(), 0, this.fs.fstat(this.fh).size));
    const encoding = typeof options === 'string' ? options : options?.encoding;
    return encoding ? data.toString(encoding) : data;
  }

  writeFileSync(data: string | Uint8Array, options?: { encoding?: BufferEncoding }): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, options?.encoding) : data;
    const at = openFlags(this.flags) & O_APPEND ? this.fs.fstat(this.live()).size : 0;
    this.fs.write(this.live(), bytes, at);
    this.position = at + bytes.length;
  }

  statSync(): LedgerStats {
    return new LedgerStats(this.fs.fstat(this.live()));
  }

  truncateSync(length = 0): void {
    this.fs.ftruncate(this.live(), length);
  }

  closeSync(): void {
    if (this.closed) return;
    this.closed = true;
    this.fs.release(this.fh);
  }

  async read(buffer: Uint8Array, offset: number, length: number, position?: number | null) { return { bytesRead: this.readSync(buffer, offset, length, position), buffer }; }
  async write(buffer: Uint8Array, offset: number, length: number, position?: number | null) { return { bytesWritten: this.writeSync(buffer, offset, length, position), buffer }; }
  async readFile(options?: BufferEncoding | { encoding?: BufferEncoding }) { return this.readFileSync(options); }
  async writeFile(data: string | Uint8Array, options?: { encoding?: BufferEncoding }) { this.writeFileSync(data, options); }
  async stat() { return this.statSync(); }
  async truncate(length?: number) { this.truncateSync(length); }
  async close() { this.closeSync(); }
}

/** The provider: each primitive is one filesystem API call. */
export class LedgerProvider extends VirtualProvider {
  private readonly fs: FileSystem;

  constructor(fs: FileSystem) {
    super();
    this.fs = fs;
  }

  get supportsSymlinks(): boolean { return true; }

  openSync(path: string, flags?: string | number, mode?: number): LedgerFileHandle { return new LedgerFileHandle(this.fs, path, flags ?? 'r', mode); }
  statSync(path: string): LedgerStats { return new LedgerStats(this.fs.stat(path)); }
  lstatSync(path: string): LedgerStats { return new LedgerStats(this.fs.lstat(path)); }
  readdirSync(path: string, options?: { withFileTypes?: boolean }): Array<string | LedgerDirent> {
    const entries = this.fs.readdir(path);
    return entries.map((e) => {
      const name = Buffer.from(e.name).toString('utf8');
      return options?.withFileTypes ? new LedgerDirent(name, e.type, path) : name;
    });
  }
  mkdirSync(path: string, options?: { recursive?: boolean; mode?: number }): string | undefined {
    const mode = options?.mode ?? 0o777;
    if (!options?.recursive) {
      this.fs.mkdir(path, mode);
      return undefined;
    }
    const parts = path.split('/').filter(Boolean);
    const { first } = this.fs.mkdirp(path, mode);
    return first < parts.length ? `/${parts.slice(0, first + 1).join('/')}` : undefined;
  }
  rmdirSync(path: string): void { this.fs.rmdir(path); }
  unlinkSync(path: string): void { this.fs.unlink(path); }
  renameSync(from: string, to: string): void { this.fs.rename(from, to); }
  readlinkSync(path: string): string { return Buffer.from(this.fs.readlink(path)).toString('utf8'); }
  symlinkSync(target: string, path: string): void { this.fs.symlink(target, path); }
  realpathSync(path: string): string {
    const names = this.fs.reader.pathOf(this.fs.stat(path).ino);
    if (!names) throw new FsError('ENOENT', 'realpath', path);
    return `/${names.map((name) => Buffer.from(name).toString('utf8')).join('/')}`;
  }

  async open(path: string, flags?: string | number, mode?: number) { return this.openSync(path, flags, mode); }
  async stat(path: string) { return this.statSync(path); }
  async lstat(path: string) { return this.lstatSync(path); }
  async readdir(path: string, options?: { withFileTypes?: boolean }) { return this.readdirSync(path, options); }
  async mkdir(path: string, options?: { recursive?: boolean; mode?: number }) { return this.mkdirSync(path, options); }
  async rmdir(path: string) { this.rmdirSync(path); }
  async unlink(path: string) { this.unlinkSync(path); }
  async rename(from: string, to: string) { this.renameSync(from, to); }
  async readlink(path: string) { return this.readlinkSync(path); }
  async symlink(target: string, path: string) { this.symlinkSync(target, path); }
  async realpath(path: string) { return this.realpathSync(path); }
}

/** A virtual filesystem over a store; `mount(prefix)` makes `fs`, require and import see it. */
export function createVfs(fs: FileSystem, options: { moduleHooks?: boolean } = {}): VirtualFileSystem {
  return create(new LedgerProvider(fs), { moduleHooks: options.moduleHooks ?? true });
}
