// wsd's RPC surface, the same on /ws and /api: the sync surface (so a wsd is an upstream for
// another replica), the path-level filesystem, the op log, stats and exec. A peer reaches
// exactly WORKSPACE_METHODS (workspaceSession), nothing else of the object. Every argument is
// checked before anything changes; a call that fails changes nothing (each mutating call is
// one store transaction).
import type { RpcStub, RpcTarget } from 'capnweb';
import { constants } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { PATH_BYTES_MAX, type Op, type VersionVector } from '../log/index.ts';
import { FileSystem, FsError, pathText, toBytes, type Attr, type Store } from '../projections/index.ts';
import { ExecError, type ExecEvent, type ExecOutput, type ExecRunner, type ExecStatus } from './exec-runner.ts';
import { rpcSession, type Session } from './rpc-surface.ts';
import { checkVersionVector, RpcInputError, SYNC_METHODS, SyncService } from './sync-service.ts';

/** wsd's surface, exactly (README "wsd"): the sync calls, then files, log, stats and exec. */
export const WORKSPACE_METHODS = [
  ...SYNC_METHODS,
  'stat', 'lstat', 'exists', 'readdir', 'readFile', 'read', 'writeFile', 'write', 'truncate', 'mkdir', 'rm', 'unlink', 'rmdir',
  'rename', 'symlink', 'readlink', 'link', 'chmod', 'utimes', 'getxattr', 'setxattr', 'listxattr', 'removexattr',
  'log', 'subscribeLog',
  'stats',
  'exec', 'execStart', 'execAttach', 'execRead', 'execWait', 'execStatus', 'execList', 'execWrite', 'execResize', 'execKill',
] as const;

/** What a client holds: the surface's methods, typed. */
export type WorkspaceApi = RpcTarget & Pick<WorkspaceService, (typeof WORKSPACE_METHODS)[number]>;

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
const SLASH = 0x2f;

export const CURATED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'TERM', 'TZ', 'TMPDIR'];
const LOG_PAGE_MAX = 4096;
const READ_BYTES_MAX = 64 * 1024 * 1024;
/** exec output sent to a client and not yet acknowledged, before it is cut off */
const STREAM_BYTES_MAX = 8 * 1024 * 1024;
const SIGNALS = ['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGSTOP', 'SIGCONT'] as const;

const bad = (message: string) => new RpcInputError(message);

/** A string's UTF-8; one with a lone surrogate would silently become U+FFFD, so it is refused. */
function encoded(value: string, what: string): Uint8Array {
  try {
    return toBytes(value);
  } catch {
    throw bad(`${what} is not valid Unicode (a lone surrogate)`);
  }
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw bad(`${what} must be a string`);
  encoded(value, what);
  return value;
}

/** A path as bytes; PATH_MAX bounds it, as the kernel bounds what a process passes. */
function path(value: unknown, what = 'path'): Uint8Array {
  if (!(value instanceof Uint8Array) && typeof value !== 'string') throw bad(`${what} must be a string or Uint8Array`);
  const bytes = typeof value === 'string' ? encoded(value, what) : value;
  if (bytes.length === 0) throw bad(`${what} is empty`);
  if (bytes.length > PATH_BYTES_MAX) throw new FsError('ENAMETOOLONG', what, `${pathText(bytes.subarray(0, 64))}…`, `${bytes.length} bytes; at most ${PATH_BYTES_MAX}`);
  return bytes;
}

function bytes(value: unknown, what = 'data'): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return encoded(value, what);
  throw bad(`${what} must be a Uint8Array or string`);
}

function execId(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw bad('an exec id is a non-empty string');
  return value;
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
    const target = path(p);
    const perm = integer(mode, 'mode', 0, 0o7777, 0o755);
    if (!flag(recursive, 'recursive')) return void this.change(() => this.fs.mkdir(target, perm));
    this.change(() => {
      for (let end = target.indexOf(SLASH, 1); ; end = target.indexOf(SLASH, end + 1)) {
        const prefix = end < 0 ? target : target.subarray(0, end);
        if (prefix.some((b) => b !== SLASH)) {
          if (!this.fs.exists(prefix)) this.fs.mkdir(prefix, perm);
          else if (this.fs.stat(prefix).type !== 'dir') throw new FsError('ENOTDIR', 'mkdir', pathText(prefix));
        }
        if (end < 0) break;
      }
    });
  }

  /** rm; `{recursive: true}` removes a directory and everything in it, `{force: true}` ignores ENOENT. */
  rm(p: unknown, opts?: unknown): void {
    const { recursive, force } = options(opts, 'rm options', ['recursive', 'force']);
    const target = path(p);
    const deep = flag(recursive, 'recursive');
    if (flag(force, 'force') && !this.fs.exists(target)) return;
    const remove = (at: Uint8Array) => {
      if (this.fs.lstat(at).type !== 'dir') return this.fs.unlink(at);
      if (!deep) throw new FsError('EISDIR', 'rm', pathText(at), 'use {recursive: true}');
      for (const { name } of this.fs.readdir(at)) remove(Buffer.concat([at, Buffer.from([SLASH]), name]));
      this.fs.rmdir(at);
    };
    this.change(() => remove(target));
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
    const line = text(command, 'command');
    if (line.length === 0) throw bad('command must be a non-empty string');
    if (onEvent !== undefined && typeof onEvent !== 'function') throw bad('onEvent must be a callback');
    const o = options(opts, 'exec options', ['cwd', 'env', 'stdin', 'openStdin', 'timeoutMs', 'curatedEnv', 'pty']);
    if (this.ws.mountPoint === null) throw new FsError('ENOTSUP', 'exec', undefined, 'the workspace is not mounted (FUSE_MOUNT=none)');
    const cwd = this.execCwd(o.cwd);
    if (o.env !== undefined && (typeof o.env !== 'object' || o.env === null || Array.isArray(o.env))) throw bad('env must be an object of strings');
    const extra = (o.env ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(extra)) {
      if (typeof value !== 'string' || key === '' || key.includes('=') || key.includes('\0') || value.includes('\0')) throw bad(`env ${JSON.stringify(key)} must be a string without '=' or NUL in the name`);
      text(key, 'an env name');
      text(value, `env ${JSON.stringify(key)}`);
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
      command: line, cwd, env: { ...base, ...(extra as Record<string, string>) },
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
    const dir = text(value, 'cwd');
    if (dir === '') throw bad('cwd must be a non-empty string');
    const real = resolve(mount, dir);
    const inWorkspace = relative(mount, real);
    if (inWorkspace.startsWith('..') || isAbsolute(inWorkspace)) throw bad(`cwd must be inside the mount (${mount}); got ${JSON.stringify(value)}`);
    if (this.fs.stat(`/${inWorkspace}`).type !== 'dir') throw new FsError('ENOTDIR', 'exec', dir);
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
    const stream = this.ws.execs.attach(execId(id), from, (event) => {
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
    return this.ws.execs.read(execId(id), integer(seq, 'seq', 0, Number.MAX_SAFE_INTEGER, 0));
  }

  execWait(id: unknown): Promise<ExecStatus> {
    return this.ws.execs.wait(execId(id));
  }

  execStatus(id: unknown): ExecStatus {
    return this.ws.execs.status(execId(id));
  }

  execList(): ExecStatus[] {
    return this.ws.execs.list();
  }

  /** Writes to the input of an exec started with openStdin or pty; null ends the input. */
  execWrite(id: unknown, data: unknown): void {
    this.ws.execs.write(execId(id), data === null ? null : bytes(data));
  }

  execResize(id: unknown, cols: unknown, rows: unknown): void {
    this.ws.execs.resize(execId(id), integer(cols, 'cols', 1, 1000), integer(rows, 'rows', 1, 1000));
  }

  execKill(id: unknown, signal?: unknown): void {
    const name = signal ?? 'SIGTERM';
    if (!(SIGNALS as readonly unknown[]).includes(name)) throw bad(`signal must be one of ${SIGNALS.join(', ')}`);
    this.ws.execs.signal(execId(id), name as NodeJS.Signals);
  }

  override close(): void {
    super.close();
    for (const stop of [...this.logWatchers]) stop();
    for (const detach of [...this.detachers]) detach();
  }
}

/** A capnweb session of wsd's surface; its ops are attributed to `caller`. */
export function workspaceSession(workspace: Workspace, caller: string): Session {
  return rpcSession(new WorkspaceService(workspace, caller), WORKSPACE_METHODS);
}
