// wsd's RPC surface, one capnweb target the same on /ws and /api: the sync surface (inherited,
// so a wsd is an upstream for another replica), the path-level filesystem, the op log, stats
// and exec. Every argument is checked before anything changes; a call that fails changes
// nothing (each mutating call is one store transaction).
import type { RpcStub } from 'capnweb';
import { constants } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { type Op, type VersionVector } from '../log/index.ts';
import { FileSystem, FsError, toBytes, type Attr, type Store } from '../projections/index.ts';
import { ExecError, type ExecEvent, type ExecOutput, type ExecRunner, type ExecStatus } from './exec-runner.ts';
import { checkVersionVector, RpcInputError, SyncService } from './sync-service.ts';

export interface Workspace {
  store: Store;
  fs: FileSystem;
  execs: ExecRunner;
  /** where commands see the workspace, or null when it is not mounted (FUSE_MOUNT=none) */
  mountPoint: string | null;
  /** the environment commands inherit (WSD_TOKEN already removed) */
  env: NodeJS.ProcessEnv;
  stats(): unknown;
}

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

export interface ExecOptions {
  /** directory in the workspace: relative to the mount point, or absolute under it */
  cwd?: string;
  env?: Record<string, string>;
  /** written to the command's input, which then ends (unless openStdin) */
  stdin?: Uint8Array | string;
  /** keep input open for execWrite */
  openStdin?: boolean;
  timeoutMs?: number;
  /** only PATH, HOME, LANG and the other variables in CURATED_ENV, plus `env` */
  curatedEnv?: boolean;
  /** run in a terminal: stdout and stderr arrive together as stdout */
  pty?: boolean | { cols?: number; rows?: number };
}

const { O_CREAT, O_TRUNC, O_WRONLY } = constants;

export const CURATED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'TERM', 'TZ', 'TMPDIR'];
const LOG_PAGE_MAX = 4096;
const READ_BYTES_MAX = 64 * 1024 * 1024;
/** exec output sent to a client and not yet acknowledged, before it is cut off */
const STREAM_BYTES_MAX = 8 * 1024 * 1024;
const SIGNALS = ['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGSTOP', 'SIGCONT'] as const;

const bad = (message: string) => new RpcInputError(message);

function path(value: unknown, what = 'path'): string | Uint8Array {
  if (typeof value === 'string' || value instanceof Uint8Array) {
    if (value.length === 0) throw bad(`${what} is empty`);
    return value;
  }
  throw bad(`${what} must be a string or Uint8Array`);
}

function bytes(value: unknown, what = 'data'): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return new TextEncoder().encode(value);
  throw bad(`${what} must be a Uint8Array or string`);
}

function integer(value: unknown, what: string, min: number, max: number, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) throw bad(`${what} must be an integer from ${min} to ${max}`);
  return value as number;
}

function options(value: unknown, what: string, allowed: readonly string[]): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw bad(`${what} must be an object`);
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw bad(`${what}: unknown option ${unknown.join(', ')} (known: ${allowed.join(', ')})`);
  return value as Record<string, unknown>;
}

function flag(value: unknown, what: string): boolean {
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

export class WorkspaceService extends SyncService {
  private readonly ws: Workspace;
  private readonly fs: FileSystem;
  private readonly logWatchers = new Set<() => void>();
  /** exec streams of this session, detached when it ends */
  private readonly detachers = new Set<() => void>();

  constructor(workspace: Workspace, caller: string) {
    super(workspace.store);
    this.ws = workspace;
    this.fs = workspace.fs.as({ kind: 'rpc', id: caller });
  }

  /** Runs a mutating call as one transaction: it happens whole or not at all. */
  private change<T>(fn: () => T): T {
    return this.ws.store.transaction(fn);
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

  readFile(p: unknown): Uint8Array {
    const target = path(p);
    const size = this.fs.stat(target).size;
    if (size > READ_BYTES_MAX) throw new FsError('EFBIG', 'readFile', String(p), `${size} bytes; read it in ranges with read()`);
    return this.fs.readFile(target);
  }

  /** Up to `length` bytes from `offset` (fewer at the end of the file). */
  read(p: unknown, offset: unknown, length: unknown): Uint8Array {
    const target = path(p);
    const fh = this.fs.open(target, 0);
    try {
      return this.fs.read(fh, integer(offset, 'offset', 0, Number.MAX_SAFE_INTEGER), integer(length, 'length', 0, READ_BYTES_MAX));
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
  write(p: unknown, data: unknown, offset: unknown, opts?: unknown): number {
    const { create } = options(opts, 'write options', ['create']);
    const target = path(p);
    const content = bytes(data);
    const at = integer(offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
    return this.withHandle(target, flag(create, 'create') ? O_WRONLY | O_CREAT : O_WRONLY, 0o644, (fh) => this.fs.write(fh, content, at));
  }

  truncate(p: unknown, size: unknown): void {
    const target = path(p);
    const length = integer(size, 'size', 0, Number.MAX_SAFE_INTEGER);
    this.withHandle(target, O_WRONLY, 0, (fh) => this.fs.ftruncate(fh, length));
  }

  /** mkdir; `{recursive: true}` creates missing parents and accepts an existing directory. */
  mkdir(p: unknown, opts?: unknown): void {
    const { recursive, mode } = options(opts, 'mkdir options', ['recursive', 'mode']);
    const target = toBytes(path(p));
    const perm = integer(mode, 'mode', 0, 0o7777, 0o755);
    if (!flag(recursive, 'recursive')) return void this.change(() => this.fs.mkdir(target, perm));
    this.change(() => this.fs.mkdirp(target, perm));
  }

  /** rm; `{recursive: true}` removes a directory and everything in it, `{force: true}` ignores ENOENT. */
  rm(p: unknown, opts?: unknown): void {
    const { recursive, force } = options(opts, 'rm options', ['recursive', 'force']);
    const target = toBytes(path(p));
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
    this.ws.store.sync();
    const page = this.ws.store.log.after(cursor, max + 1);
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
    const unsubscribe = this.ws.store.onCommit(() => void send());
    const stop = () => {
      unsubscribe();
      this.logWatchers.delete(stop);
      callback[Symbol.dispose]();
    };
    this.logWatchers.add(stop);
    void send();
  }

  // ---- stats ----

  stats(): unknown {
    return this.ws.stats();
  }

  // ---- exec ----

  /** Runs a command to the end; its output, capped at EXEC_LOG_MAX_BYTES per exec. */
  async exec(command: unknown, opts?: unknown): Promise<ExecOutput> {
    const { id } = this.execStart(command, opts);
    await this.ws.execs.wait(id);
    return this.ws.execs.output(id);
  }

  /** Starts a command; `onEvent` (optional) receives its output and exit events as they happen. */
  execStart(command: unknown, opts?: unknown, onEvent?: RpcStub<(event: ExecEvent) => void>): ExecStatus {
    if (typeof command !== 'string' || command.length === 0) throw bad('command must be a non-empty string');
    const o = options(opts, 'exec options', ['cwd', 'env', 'stdin', 'openStdin', 'timeoutMs', 'curatedEnv', 'pty']);
    if (this.ws.mountPoint === null) throw new FsError('ENOTSUP', 'exec', undefined, 'the workspace is not mounted (FUSE_MOUNT=none)');
    const cwd = this.execCwd(o.cwd);
    if (o.env !== undefined && (typeof o.env !== 'object' || o.env === null || Array.isArray(o.env))) throw bad('env must be an object of strings');
    const extra = (o.env ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(extra)) {
      if (typeof value !== 'string' || key === '' || key.includes('=') || key.includes('\0') || value.includes('\0')) throw bad(`env ${JSON.stringify(key)} must be a string without '=' or NUL in the name`);
    }
    const base = flag(o.curatedEnv, 'curatedEnv')
      ? Object.fromEntries(CURATED_ENV.filter((k) => this.ws.env[k] !== undefined).map((k) => [k, this.ws.env[k]!]))
      : Object.fromEntries(Object.entries(this.ws.env).filter((e): e is [string, string] => e[1] !== undefined));
    const pty = o.pty === undefined || o.pty === false ? undefined
      : o.pty === true ? { cols: 80, rows: 24 }
      : (() => {
        const size = options(o.pty, 'pty', ['cols', 'rows']);
        return { cols: integer(size.cols, 'pty.cols', 1, 1000, 80), rows: integer(size.rows, 'pty.rows', 1, 1000, 24) };
      })();
    const status = this.ws.execs.start({
      command, cwd, env: { ...base, ...(extra as Record<string, string>) },
      stdin: o.stdin === undefined ? undefined : bytes(o.stdin, 'stdin'),
      openStdin: flag(o.openStdin, 'openStdin'),
      timeoutMs: o.timeoutMs === undefined ? undefined : integer(o.timeoutMs, 'timeoutMs', 1, 2 ** 31 - 1),
      pty,
    });
    if (onEvent !== undefined) void this.execAttach(status.id, 0, onEvent);
    return status;
  }

  /** The real directory for a workspace cwd, checked through the store (never the mount). */
  private execCwd(value: unknown): string {
    const mount = this.ws.mountPoint!;
    if (value === undefined) return mount;
    if (typeof value !== 'string' || value === '') throw bad('cwd must be a non-empty string');
    const real = resolve(mount, value);
    const inWorkspace = relative(mount, real);
    if (inWorkspace.startsWith('..') || isAbsolute(inWorkspace)) throw bad(`cwd must be inside the mount (${mount}); got ${JSON.stringify(value)}`);
    if (this.fs.stat(`/${inWorkspace}`).type !== 'dir') throw new FsError('ENOTDIR', 'exec', value);
    return real;
  }

  /**
   * Sends the exec's events from `seq` on, then each new one, in order; resolves with its final
   * status. A client that falls more than STREAM_BYTES_MAX behind is cut off (EAGAIN, naming the
   * seq to re-attach from), so a slow reader cannot make the daemon hold unbounded output.
   */
  async execAttach(id: unknown, seq: unknown, onEvent: RpcStub<(event: ExecEvent) => void>): Promise<ExecStatus> {
    if (typeof onEvent !== 'function') throw bad('execAttach wants a callback');
    const from = integer(seq, 'seq', 0, Number.MAX_SAFE_INTEGER, 0);
    const callback = onEvent.dup();
    let delivered: Promise<unknown> = Promise.resolve();
    let pendingBytes = 0;
    let resumeAt = from;
    let behind: ExecError | null = null;
    let cutOff = () => {};
    const stream = this.ws.execs.attach(id, from, (event) => {
      if (behind) return;
      const size = (event.data?.length ?? 0) + 64;
      if (pendingBytes + size > STREAM_BYTES_MAX) {
        behind = new ExecError('EAGAIN', `the client fell behind; re-attach from seq ${resumeAt}`);
        return cutOff();
      }
      pendingBytes += size;
      delivered = delivered.then(() => callback(event)).then(() => {
        pendingBytes -= size;
        resumeAt = event.seq + 1;
      });
    });
    const detach = () => {
      stream.detach();
      this.detachers.delete(detach);
    };
    this.detachers.add(detach);
    const ended = new Promise<void>((resolve) => (cutOff = resolve));
    try {
      const status = await Promise.race([stream.done, ended.then(() => null)]);
      await delivered;
      if (behind || status === null) throw behind ?? new ExecError('EAGAIN', `re-attach from seq ${resumeAt}`);
      return status;
    } finally {
      detach();
      callback[Symbol.dispose]();
    }
  }

  /** Events from `seq` on that are kept now, and the exec's status (for polling over /api). */
  execRead(id: unknown, seq?: unknown): { events: ExecEvent[]; status: ExecStatus } {
    return this.ws.execs.read(id, integer(seq, 'seq', 0, Number.MAX_SAFE_INTEGER, 0));
  }

  execWait(id: unknown): Promise<ExecStatus> {
    return this.ws.execs.wait(id);
  }

  execStatus(id: unknown): ExecStatus {
    return this.ws.execs.status(id);
  }

  execList(): ExecStatus[] {
    return this.ws.execs.list();
  }

  /** Writes to the input of an exec started with openStdin or pty; null ends the input. */
  execWrite(id: unknown, data: unknown): void {
    this.ws.execs.write(id, data === null ? null : bytes(data));
  }

  execResize(id: unknown, cols: unknown, rows: unknown): void {
    this.ws.execs.resize(id, integer(cols, 'cols', 1, 1000), integer(rows, 'rows', 1, 1000));
  }

  execKill(id: unknown, signal?: unknown): void {
    const name = signal ?? 'SIGTERM';
    if (!(SIGNALS as readonly unknown[]).includes(name)) throw bad(`signal must be one of ${SIGNALS.join(', ')}`);
    this.ws.execs.signal(id, name as NodeJS.Signals);
  }

  override close(): void {
    super.close();
    for (const stop of [...this.logWatchers]) stop();
    for (const detach of [...this.detachers]) detach();
  }
}
