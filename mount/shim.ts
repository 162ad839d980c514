// The shim, for machines without FUSE: the tree is materialised as a real directory at the
// mount path and kept in step both ways by reconciling passes (every `intervalMs` and on
// sync()). A pass compares each path's state in the directory and in the store with what the
// last pass left: a side that changed since wins; when both changed the directory wins (it holds
// the local writer's bytes). Files, directories and symlinks, with modes.
import { chmodSync, closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, renameSync, rmSync, symlinkSync, utimesSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CHUNK_BYTES } from '../log/index.ts';
import { FsError, type FileSystem } from '../projections/index.ts';
import type { Attribute } from './attribute.ts';

const COPY_BYTES = 8 * CHUNK_BYTES;

type Kind = 'file' | 'dir' | 'symlink';

interface Side {
  type: Kind;
  /** what changes when the path changes on this side */
  signature: string;
}

/** Relative paths ('' is the root itself) of one side, with their state. */
type Snapshot = Map<string, Side>;

export interface ShimOptions {
  intervalMs?: number;
  log?: (message: string) => void;
  /** asked at each pass, with no pid: the shim cannot tell which process changed a file */
  attribute?: Attribute;
}

export class ShimMount {
  readonly mountPoint: string;
  private readonly base: FileSystem;
  /** the base filesystem with this pass's actor */
  private fs: FileSystem;
  private readonly attribute: Attribute;
  private last = new Map<string, { real?: Side; store?: Side }>();
  private timer: NodeJS.Timeout | null = null;
  private readonly log: (message: string) => void;

  private constructor(fs: FileSystem, mountPoint: string, options: ShimOptions) {
    this.base = fs;
    this.fs = fs;
    this.mountPoint = mountPoint;
    this.log = options.log ?? ((m) => process.stderr.write(`${m}\n`));
    this.attribute = options.attribute ?? (() => null);
  }

  static start(fs: FileSystem, mountPoint: string, options: ShimOptions = {}): ShimMount {
    mkdirSync(mountPoint, { recursive: true });
    const shim = new ShimMount(fs, mountPoint, options);
    shim.sync();
    shim.timer = setInterval(() => {
      try {
        shim.sync();
      } catch (error) {
        shim.log(`ledgerfs shim: ${(error as Error).message}`);
      }
    }, options.intervalMs ?? 500);
    shim.timer.unref();
    return shim;
  }

  /** One reconciling pass; returns how many paths moved each way. */
  sync(): { pushed: number; pulled: number } {
    const actor = this.attribute(undefined);
    this.fs = actor ? this.base.as(actor) : this.base;
    const real = this.scanReal();
    const store = this.scanStore();
    const paths = [...new Set([...real.keys(), ...store.keys(), ...this.last.keys()])].filter((p) => p !== '').sort();
    let pushed = 0;
    let pulled = 0;
    /** what each pushed path was when this pass scanned it: remembered as is, not rescanned */
    const pushedAs = new Map<string, Side | undefined>();
    const removals: Array<() => void> = [];
    for (const path of paths) {
      const before = this.last.get(path) ?? {};
      const r = real.get(path);
      const s = store.get(path);
      const realChanged = r?.signature !== before.real?.signature;
      const storeChanged = s?.signature !== before.store?.signature;
      if (!realChanged && !storeChanged) continue;
      if (realChanged && storeChanged && r && s && this.same(path, r, s)) continue;
      if (realChanged) {
        pushed++;
        pushedAs.set(path, r);
        if (r) this.push(path, r, s);
        else removals.push(() => this.removeFromStore(path));
      } else {
        pulled++;
        if (s) this.pull(path, s, r);
        else removals.push(() => rmSync(this.real(path), { recursive: true, force: true }));
      }
    }
    for (const remove of removals.reverse()) remove();
    // What this pass wrote changed both sides' signatures: rescan only then. A pushed path keeps
    // the signature it was read at: a process writing it meanwhile (after the scan, during or
    // after the copy) leaves a signature the next pass sees as changed, instead of one this
    // rescan would take for what was pushed.
    if (pushed + pulled > 0) {
      const rescanned = this.scanReal();
      for (const [path, side] of pushedAs) {
        if (side) rescanned.set(path, side);
        else rescanned.delete(path);
      }
      this.remember(rescanned);
    } else {
      this.remember(real, store);
    }
    return { pushed, pulled };
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sync();
  }

  private real(path: string): string {
    return join(this.mountPoint, path);
  }

  private store(path: string): string {
    return `/${path}`;
  }

  private remember(real = this.scanReal(), store = this.scanStore()): void {
    this.last = new Map([...new Set([...real.keys(), ...store.keys()])].map((p) => [p, { real: real.get(p), store: store.get(p) }]));
  }

  private scanReal(): Snapshot {
    const out: Snapshot = new Map();
    const gone = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';
    const walk = (path: string) => {
      let names: Buffer[];
      try {
        names = readdirSync(this.real(path), { encoding: 'buffer' });
      } catch (error) {
        if (gone(error)) return; // removed while this pass ran: the next pass sees it
        throw error;
      }
      for (const raw of names) {
        // The shim works on text paths: a name that is not UTF-8 would come back as another name.
        const name = raw.toString('utf8');
        if (!Buffer.from(name).equals(raw)) {
          this.log(`ledgerfs shim: skipping ${JSON.stringify(name)} in /${path}: not UTF-8`);
          continue;
        }
        const child = path ? `${path}/${name}` : name;
        let st;
        try {
          st = lstatSync(this.real(child));
        } catch (error) {
          if (gone(error)) continue;
          throw error;
        }
        const type: Kind | null = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : null;
        if (!type) continue;
        const target = type === 'symlink' ? readlinkSync(this.real(child)) : '';
        out.set(child, { type, signature: `${type}:${st.mode & 0o7777}:${type === 'file' ? `${st.size}:${st.mtimeMs}:${st.ino}` : target}` });
        if (type === 'dir') walk(child);
      }
    };
    walk('');
    return out;
  }

  private scanStore(): Snapshot {
    const out: Snapshot = new Map();
    const walk = (path: string) => {
      for (const entry of this.fs.readdir(this.store(path))) {
        const child = path ? `${path}/${Buffer.from(entry.name).toString('utf8')}` : Buffer.from(entry.name).toString('utf8');
        if (entry.type !== 'file' && entry.type !== 'dir' && entry.type !== 'symlink') continue;
        const attr = this.fs.lstat(entry.ino);
        const target = entry.type === 'symlink' ? Buffer.from(this.fs.readlink(entry.ino)).toString('utf8') : '';
        out.set(child, { type: entry.type, signature: `${entry.type}:${attr.mode & 0o7777}:${entry.type === 'file' ? `${attr.size}:${attr.mtime.join('.')}:${attr.ino}` : target}` });
        if (entry.type === 'dir') walk(child);
      }
    };
    walk('');
    return out;
  }

  /** Both sides changed to the same thing (a first pass over a populated directory). */
  private same(path: string, r: Side, s: Side): boolean {
    if (r.type !== s.type) return false;
    if (r.type === 'dir') return true;
    if (r.type === 'symlink') return readlinkSync(this.real(path)) === Buffer.from(this.fs.readlink(this.store(path))).toString('utf8');
    const attr = this.fs.lstat(this.store(path));
    if (lstatSync(this.real(path)).size !== attr.size) return false;
    return this.readReal(path).equals(Buffer.from(this.fs.readFile(this.store(path))));
  }

  private readReal(path: string): Buffer {
    const size = lstatSync(this.real(path)).size;
    const out = Buffer.alloc(size);
    const fd = openSync(this.real(path), 'r');
    try {
      for (let at = 0; at < size;) at += readSync(fd, out, at, Math.min(COPY_BYTES, size - at), at);
    } finally {
      closeSync(fd);
    }
    return out;
  }

  private removeFromStore(path: string): void {
    try {
      this.fs.rm(this.store(path), true);
    } catch (error) {
      if (!(error instanceof FsError && error.code === 'ENOENT')) throw error;
    }
  }

  /** Directory -> store. */
  private push(path: string, r: Side, s: Side | undefined): void {
    const target = this.store(path);
    const st = lstatSync(this.real(path));
    if (s && s.type !== r.type) this.removeFromStore(path);
    if (r.type === 'dir') {
      if (!s || s.type !== 'dir') this.fs.mkdir(target, st.mode & 0o7777);
      else this.fs.chmod(target, st.mode & 0o7777);
      return;
    }
    if (r.type === 'symlink') {
      if (s?.type === 'symlink') this.fs.unlink(target);
      this.fs.symlink(readlinkSync(this.real(path)), target);
      return;
    }
    const fh = this.fs.open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, st.mode & 0o7777);
    const fd = openSync(this.real(path), 'r');
    try {
      const chunk = Buffer.alloc(COPY_BYTES);
      for (let at = 0; ;) {
        const n = readSync(fd, chunk, 0, COPY_BYTES, at);
        if (n === 0) break;
        this.fs.write(fh, chunk.subarray(0, n), at);
        at += n;
      }
    } finally {
      closeSync(fd);
      this.fs.release(fh);
    }
    this.fs.chmod(target, st.mode & 0o7777);
  }

  /** Store -> directory; files land whole (written beside, then renamed over). */
  private pull(path: string, s: Side, r: Side | undefined): void {
    const real = this.real(path);
    const attr = this.fs.lstat(this.store(path));
    if (r && r.type !== s.type) rmSync(real, { recursive: true, force: true });
    if (s.type === 'dir') {
      if (!existsSync(real)) mkdirSync(real);
      chmodSync(real, attr.mode & 0o7777);
      return;
    }
    if (s.type === 'symlink') {
      rmSync(real, { force: true });
      symlinkSync(Buffer.from(this.fs.readlink(this.store(path))).toString('utf8'), real);
      return;
    }
    const temp = `${real}.ledgerfs-shim`;
    const fd = openSync(temp, 'w', attr.mode & 0o7777);
    const fh = this.fs.open(this.store(path), 0);
    try {
      for (let at = 0; at < attr.size; at += COPY_BYTES) writeSync(fd, this.fs.read(fh, at, COPY_BYTES));
    } finally {
      this.fs.release(fh);
      closeSync(fd);
    }
    chmodSync(temp, attr.mode & 0o7777);
    utimesSync(temp, attr.atime[0] + attr.atime[1] / 1e9, attr.mtime[0] + attr.mtime[1] / 1e9);
    renameSync(temp, real);
  }
}
