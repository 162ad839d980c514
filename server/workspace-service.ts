// wsd's RPC surface, the same on /ws and /api: the sync, filesystem and log surfaces (inherited:
// a wsd is an upstream for another replica), stats and exec. A peer reaches exactly
// WORKSPACE_METHODS (workspaceSession), nothing else of the object. Every argument is checked
// before anything changes.
import type { RpcStub, RpcTarget } from 'capnweb';
import { isAbsolute, relative, resolve } from 'node:path';
import { FsError, type FileSystem, type Store } from '../projections/index.ts';
import { ExecError, type ExecEvent, type ExecOutput, type ExecRunner, type ExecStatus } from './exec-runner.ts';
import { bad, bytes, FILESYSTEM_METHODS, FilesystemService, flag, integer, options, text } from './filesystem-service.ts';
import { rpcSession, type Session } from './rpc-surface.ts';
import { SYNC_METHODS } from './sync-service.ts';

/** wsd's surface, exactly (README "wsd"): the sync calls, then files, log, stats and exec. */
export const WORKSPACE_METHODS = [
  ...SYNC_METHODS,
  ...FILESYSTEM_METHODS,
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

export const CURATED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'TERM', 'TZ', 'TMPDIR'];
/** exec output sent to a client and not yet acknowledged, before it is cut off */
const STREAM_BYTES_MAX = 8 * 1024 * 1024;
const SIGNALS = ['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGSTOP', 'SIGCONT'] as const;

export class WorkspaceService extends FilesystemService {
  private readonly ws: Workspace;
  /** exec streams of this session, detached when it ends */
  private readonly detachers = new Set<() => void>();

  constructor(workspace: Workspace, caller: string) {
    super(workspace.store, workspace.fs, { kind: 'rpc', id: caller });
    this.ws = workspace;
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
    for (const detach of [...this.detachers]) detach();
  }
}

function execId(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw bad('an exec id is a non-empty string');
  return value;
}

/** A capnweb session of wsd's surface; its ops are attributed to `caller`. */
export function workspaceSession(workspace: Workspace, caller: string): Session {
  return rpcSession(new WorkspaceService(workspace, caller), WORKSPACE_METHODS);
}
