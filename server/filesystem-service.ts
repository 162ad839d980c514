// The filesystem and log RPC surface of a replica, on top of its sync surface: what wsd and the
// Durable Object both serve (FILESYSTEM_METHODS). Paths are workspace paths (`/` is the root);
// every argument is checked before anything changes, and each mutating call is one store
// transaction (a deep recursive mkdir is several, see mkdir), so a call that fails changes
// nothing. Runs on Node and on workerd.
import type { RpcStub } from 'capnweb';
import { DIFF_EDIT_LINES_MAX, DIFF_PAGE_EDIT_LINES_MAX, HISTORY_PAGE_OPS_MAX, isTs, PATH_BYTES_MAX, RPC_MKDIR_STEP_LEVELS, RPC_READ_BYTES_MAX, type Actor, type Op, type Ts, type VersionVector } from '../log/index.ts';
import {
  checkVersionVector, FileSystem, FsError, History, latestPosition, openFlags, openHistory, pathText, resolvePosition, RpcInputError, toBytes,
  type Attr, type Blame, type DiffPage, type HistoryPage, type HistoryView, type Store,
} from '../projections/index.ts';
import { rpcSurface } from './rpc-surface.ts';
import { SyncService } from './sync-service.ts';

/** The filesystem and log calls, exactly (README "wsd"); the sync calls come before them. */
export const FILESYSTEM_METHODS = [
  'stat', 'lstat', 'exists', 'readdir', 'readFile', 'read', 'writeFile', 'write', 'truncate', 'mkdir', 'rm', 'unlink', 'rmdir',
  'rename', 'symlink', 'readlink', 'link', 'chmod', 'utimes', 'getxattr', 'setxattr', 'listxattr', 'removexattr',
  'log', 'subscribeLog', 'history', 'diff', 'blame', 'at',
] as const;

/** What the read-only filesystem `at(position)` returns answers: the reads, nothing else. */
export const AT_METHODS = ['stat', 'lstat', 'exists', 'readdir', 'readFile', 'read', 'readlink', 'getxattr', 'listxattr'] as const;

/** Past views one session may hold open (each is a scratch copy of the projections at its position). */
const AT_VIEWS_MAX = 4;

export interface DirItem {
  name: string;
  /** the name's bytes, when they are not valid UTF-8 (`name` then shows U+FFFD) */
  raw?: Uint8Array;
  type: Attr['type'];
  ino: number;
}

export interface LogPage {
  ops: Op[];
  /** pass back to read on; an op that arrives late (an older ts) still comes after it */
  cursor: VersionVector;
  more: boolean;
}

const { O_CREAT, O_TRUNC, O_WRONLY } = openFlags;

const LOG_PAGE_MAX = 4096;

export const bad = (message: string) => new RpcInputError(message);

/** A string's UTF-8; one with a lone surrogate would silently become U+FFFD, so it is refused. */
function encoded(value: string, what: string): Uint8Array {
  try {
    return toBytes(value);
  } catch {
    throw bad(`${what} is not valid Unicode (a lone surrogate)`);
  }
}

/** A string argument, refused when it is not valid Unicode. */
export function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw bad(`${what} must be a string`);
  encoded(value, what);
  return value;
}

/** A path as bytes; PATH_MAX bounds it, as the kernel bounds what a process passes. */
export function path(value: unknown, what = 'path'): Uint8Array {
  if (!(value instanceof Uint8Array) && typeof value !== 'string') throw bad(`${what} must be a string or Uint8Array`);
  const bytes = typeof value === 'string' ? encoded(value, what) : value;
  if (bytes.length === 0) throw bad(`${what} is empty`);
  if (bytes.length > PATH_BYTES_MAX) throw new FsError('ENAMETOOLONG', what, `${pathText(bytes.subarray(0, 64))}…`, `${bytes.length} bytes; at most ${PATH_BYTES_MAX}`);
  return bytes;
}

export function bytes(value: unknown, what = 'data'): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return encoded(value, what);
  throw bad(`${what} must be a Uint8Array or string`);
}

export function integer(value: unknown, what: string, min: number, max: number, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) throw bad(`${what} must be an integer from ${min} to ${max}`);
  return value as number;
}

export function options(value: unknown, what: string, allowed: readonly string[]): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw bad(`${what} must be an object`);
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw bad(`${what}: unknown option ${unknown.join(', ')} (known: ${allowed.join(', ')})`);
  return value as Record<string, unknown>;
}

export function flag(value: unknown, what: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw bad(`${what} must be a boolean`);
  return value;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function dirItem({ name, type, ino }: { name: Uint8Array; type: Attr['type']; ino: number }): DirItem {
  try {
    return { name: utf8.decode(name), type, ino };
  } catch {
    return { name: new TextDecoder().decode(name), raw: name, type, ino };
  }
}

/** A page cursor: a timestamp from an earlier page. */
function cursorTs(value: unknown): Ts | undefined {
  if (value === undefined || value === '') return undefined;
  if (!isTs(value)) throw bad('after must be the cursor of an earlier page');
  return value;
}

export class FilesystemService extends SyncService {
  protected readonly fs: FileSystem;
  private readonly replica: Store;
  private readonly logWatchers = new Set<() => void>();
  private readonly views = new Set<HistoryView>();
  private readonly actor: Actor;

  /** Bytes one readFile or read answers with, at most. */
  protected readonly readBytesMax: number;

  /** `fs` is the replica's live filesystem; this service's ops are made as `actor`. */
  constructor(store: Store, fs: FileSystem, actor: Actor, readBytesMax = RPC_READ_BYTES_MAX) {
    super(store);
    this.readBytesMax = readBytesMax;
    this.replica = store;
    this.actor = actor;
    this.fs = fs.as(actor);
  }

  /**
   * Runs a mutating call as one transaction: it happens whole or not at all, and is committed
   * before the caller is answered (wsd's group commit would hold it for up to 10 ms, and a
   * crash in that time would lose a change the caller was told was made).
   */
  protected change<T>(fn: () => T): T {
    const result = this.replica.transaction(fn);
    this.replica.sync();
    return result;
  }

  // ---- filesystem ----

  stat(p: unknown): Attr {
    return this.fs.stat(path(p));
  }

  lstat(p: unknown): Attr {
    return this.fs.lstat(path(p));
  }

  exists(p: unknown): boolean {
    return this.fs.exists(path(p));
  }

  readdir(p: unknown): DirItem[] {
    return this.fs.readdir(path(p)).map(dirItem);
  }

  readFile(p: unknown): Uint8Array | Promise<Uint8Array> {
    return this.withChunks(() => this.#readFileNow(p));
  }

  #readFileNow(p: unknown): Uint8Array {
    const target = path(p);
    const size = this.fs.stat(target).size;
    if (size > this.readBytesMax) throw new FsError('EFBIG', 'readFile', String(p), `${size} bytes; read it in ranges with read()`);
    return this.fs.readFile(target);
  }

  /** Up to `length` bytes from `offset` (fewer at the end of the file). */
  read(p: unknown, offset: unknown, length: unknown): Uint8Array | Promise<Uint8Array> {
    return this.withChunks(() => this.#readNow(p, offset, length));
  }

  #readNow(p: unknown, offset: unknown, length: unknown): Uint8Array {
    const target = path(p);
    const fh = this.fs.open(target, 0);
    try {
      return this.fs.read(fh, integer(offset, 'offset', 0, Number.MAX_SAFE_INTEGER), integer(length, 'length', 0, this.readBytesMax));
    } finally {
      this.fs.release(fh);
    }
  }

  /**
   * Runs fn on a handle and commits what it wrote before returning (fsync): a command may hold
   * the same file open, and its handle must not keep an RPC write uncommitted.
   */
  private withHandle<T>(target: string | Uint8Array, flags: number, mode: number, fn: (fh: number) => T): T {
    return this.change(() => {
      const fh = this.fs.open(target, flags, mode);
      try {
        const result = fn(fh);
        this.fs.fsync(fh);
        return result;
      } finally {
        this.fs.release(fh);
      }
    });
  }

  /** Creates or replaces a file: `{mode}` applies when it is created. */
  writeFile(p: unknown, data: unknown, opts?: unknown): void {
    const { mode } = options(opts, 'writeFile options', ['mode']);
    const target = path(p);
    const content = bytes(data);
    const perm = integer(mode, 'mode', 0, 0o7777, 0o644);
    this.withHandle(target, O_WRONLY | O_CREAT | O_TRUNC, perm, (fh) => this.fs.write(fh, content, 0));
  }

  /** Writes `data` at `offset` into an existing file (creating it with `{create: true}`). */
  write(p: unknown, data: unknown, offset: unknown, opts?: unknown): number | Promise<number> {
    return this.withChunks(() => this.#writeNow(p, data, offset, opts));
  }

  #writeNow(p: unknown, data: unknown, offset: unknown, opts?: unknown): number {
    const { create } = options(opts, 'write options', ['create']);
    const target = path(p);
    const content = bytes(data);
    const at = integer(offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
    return this.withHandle(target, flag(create, 'create') ? O_WRONLY | O_CREAT : O_WRONLY, 0o644, (fh) => this.fs.write(fh, content, at));
  }

  truncate(p: unknown, size: unknown): void | Promise<void> {
    return this.withChunks(() => this.#truncateNow(p, size));
  }

  #truncateNow(p: unknown, size: unknown): void {
    const target = path(p);
    const length = integer(size, 'size', 0, Number.MAX_SAFE_INTEGER);
    this.withHandle(target, O_WRONLY, 0, (fh) => this.fs.ftruncate(fh, length));
  }

  /**
   * mkdir; `{recursive: true}` creates missing parents and accepts an existing directory. It
   * makes RPC_MKDIR_STEP_LEVELS directories per transaction and lets other requests in between,
   * so a deeper path is several transactions: if a later one fails (a concurrent change took a
   * name on the path), the levels made before it stay, as mkdir -p leaves them.
   */
  async mkdir(p: unknown, opts?: unknown): Promise<void> {
    const { recursive, mode } = options(opts, 'mkdir options', ['recursive', 'mode']);
    const target = path(p);
    const perm = integer(mode, 'mode', 0, 0o7777, 0o755);
    if (!flag(recursive, 'recursive')) return void this.change(() => this.fs.mkdir(target, perm));
    while (this.change(() => this.fs.mkdirp(target, perm, RPC_MKDIR_STEP_LEVELS)).made === RPC_MKDIR_STEP_LEVELS) {
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  /** rm; `{recursive: true}` removes a directory and everything in it, `{force: true}` ignores ENOENT. */
  rm(p: unknown, opts?: unknown): void {
    const { recursive, force } = options(opts, 'rm options', ['recursive', 'force']);
    const target = path(p);
    const deep = flag(recursive, 'recursive');
    if (flag(force, 'force') && !this.fs.exists(target)) return;
    this.change(() => this.fs.rm(target, deep));
  }

  unlink(p: unknown): void {
    const target = path(p);
    this.change(() => this.fs.unlink(target));
  }

  rmdir(p: unknown): void {
    const target = path(p);
    this.change(() => this.fs.rmdir(target));
  }

  rename(from: unknown, to: unknown): void {
    const source = path(from, 'from');
    const dest = path(to, 'to');
    this.change(() => this.fs.rename(source, dest));
  }

  symlink(target: unknown, p: unknown): void {
    const link = path(target, 'target');
    const at = path(p);
    this.change(() => this.fs.symlink(link, at));
  }

  readlink(p: unknown): string {
    return new TextDecoder().decode(this.fs.readlink(path(p)));
  }

  link(existing: unknown, p: unknown): void {
    const source = path(existing, 'existing');
    const at = path(p);
    this.change(() => this.fs.link(source, at));
  }

  chmod(p: unknown, mode: unknown): void {
    const target = path(p);
    const perm = integer(mode, 'mode', 0, 0o7777);
    this.change(() => this.fs.chmod(target, perm));
  }

  /** Sets access and modification times, in milliseconds since the epoch. */
  utimes(p: unknown, atimeMs: unknown, mtimeMs: unknown): void {
    const target = path(p);
    const spec = (ms: unknown, what: string): [number, number] => {
      if (typeof ms !== 'number' || !Number.isFinite(ms)) throw bad(`${what} must be milliseconds since the epoch`);
      const sec = Math.floor(ms / 1000);
      return [sec, Math.round((ms - sec * 1000) * 1e6)];
    };
    const times = [spec(atimeMs, 'atime'), spec(mtimeMs, 'mtime')] as const;
    this.change(() => this.fs.utimens(target, times[0], times[1]));
  }

  getxattr(p: unknown, name: unknown): Uint8Array {
    return this.fs.getxattr(path(p), path(name, 'name'));
  }

  listxattr(p: unknown): string[] {
    return this.fs.listxattr(path(p)).map((name) => new TextDecoder().decode(name));
  }

  setxattr(p: unknown, name: unknown, value: unknown): void {
    const target = path(p);
    const key = path(name, 'name');
    const data = bytes(value, 'value');
    this.change(() => this.fs.setxattr(target, key, data));
  }

  removexattr(p: unknown, name: unknown): void {
    const target = path(p);
    const key = path(name, 'name');
    this.change(() => this.fs.removexattr(target, key));
  }

  // ---- log ----

  /** Ops after a cursor (a version vector; {} is the beginning), in timestamp order. */
  log(after?: unknown, limit?: unknown): LogPage {
    const cursor = { ...checkVersionVector(after ?? {}) };
    const max = integer(limit, 'limit', 1, LOG_PAGE_MAX, LOG_PAGE_MAX);
    this.replica.sync();
    const page = this.replica.log.after(cursor, max + 1);
    const ops = page.slice(0, max).map((stored) => stored.op);
    for (const op of ops) cursor[op.origin] = Math.max(cursor[op.origin] ?? 0, op.seq);
    return { ops, cursor, more: page.length > max };
  }

  /** Calls `onOps(page)` with the ops after `after`, then again whenever new ops commit. */
  subscribeLog(after: unknown, onOps: RpcStub<(page: LogPage) => void>): void {
    if (typeof onOps !== 'function') throw bad('subscribeLog wants a callback');
    let cursor = checkVersionVector(after ?? {});
    const callback = onOps.dup();
    let sending = false;
    let again = false;
    const send = async () => {
      if (sending) return void (again = true);
      sending = true;
      try {
        do {
          again = false;
          for (let page = this.log(cursor); page.ops.length > 0; page = this.log(cursor)) {
            await callback(page);
            cursor = page.cursor;
          }
        } while (again);
      } catch {
        stop();
      } finally {
        sending = false;
      }
    };
    const unsubscribe = this.replica.onCommit(() => void send());
    const stop = () => {
      unsubscribe();
      this.logWatchers.delete(stop);
      callback[Symbol.dispose]();
    };
    this.logWatchers.add(stop);
    void send();
  }

  // ---- history (spec/history.md) ----

  /** Runs a history query; its scratch state goes when it returns. */
  private query<T>(fn: (history: History) => T): T {
    this.replica.sync();
    const history = new History(this.replica);
    try {
      return fn(history);
    } finally {
      history.close();
    }
  }

  /** A page of the ops of the file at `path` (following it through renames), after `after`. */
  history(p: unknown, opts?: unknown): HistoryPage {
    const file = path(p);
    const o = options(opts, 'history options', ['at', 'after', 'limit']);
    const limit = integer(o.limit, 'limit', 1, HISTORY_PAGE_OPS_MAX, HISTORY_PAGE_OPS_MAX);
    const after = cursorTs(o.after);
    return this.query((h) => h.fileHistory(file, { at: o.at === undefined ? undefined : resolvePosition(this.replica, o.at), after, limit }));
  }

  /**
   * A page of what changed from `from` to `to` (default now); `patch` adds unified diffs. On the
   * server's one thread, each diff gives up past DIFF_EDIT_LINES_MAX edited lines and a page ends
   * once its diffs have looked for DIFF_PAGE_EDIT_LINES_MAX.
   */
  diff(from: unknown, to?: unknown, opts?: unknown): DiffPage {
    const o = options(opts, 'diff options', ['after', 'patch']);
    const after = cursorTs(o.after);
    const patch = flag(o.patch, 'patch');
    const upTo = () => (to === undefined || to === null ? latestPosition(this.replica) : resolvePosition(this.replica, to));
    return this.query((h) => h.diff(resolvePosition(this.replica, from), upTo(), { after, patch, editLinesMax: DIFF_EDIT_LINES_MAX, editBudget: { lines: DIFF_PAGE_EDIT_LINES_MAX } }));
  }

  /**
   * Each line of a text file with the op that last wrote it, now or at `at`. On the server's one
   * thread a version's diff gives up as RPC diff's does, and the version then counts as a rewrite
   * (`approximate`).
   */
  blame(p: unknown, at?: unknown): Blame {
    const file = path(p);
    const limits = { editLinesMax: DIFF_EDIT_LINES_MAX, editBudget: { lines: DIFF_PAGE_EDIT_LINES_MAX } };
    return this.query((h) => h.blame(file, at === undefined || at === null ? undefined : resolvePosition(this.replica, at), undefined, limits));
  }

  /** The workspace as it was at `position`: a read-only filesystem (AT_METHODS), open until the session ends. */
  at(position: unknown): Pick<FilesystemService, (typeof AT_METHODS)[number]> {
    const { ts } = resolvePosition(this.replica, position);
    if (this.views.size >= AT_VIEWS_MAX) throw bad(`a session holds at most ${AT_VIEWS_MAX} past views: end the session (or use another) for more`);
    const view = openHistory(this.replica, ts);
    this.views.add(view);
    return rpcSurface(new FilesystemService(this.replica, view.fs, this.actor, this.readBytesMax), AT_METHODS);
  }

  override close(): void {
    super.close();
    for (const stop of [...this.logWatchers]) stop();
    for (const view of this.views) view.close();
    this.views.clear();
  }
}
