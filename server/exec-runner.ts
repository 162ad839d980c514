// Runs shell commands for wsd. A command may run anywhere in the mount, but the daemon itself
// serves that mount: a child spawned with its cwd inside it would make the kernel call back into
// this event loop while spawn waits, so every child starts in / and the shell `cd`s. Output is
// kept as numbered events (capped per exec) so a client can re-attach and read from any seq.
// Which exec a process belongs to is found by walking its /proc parent chain, so ops the mount
// makes for it can carry the exec id and command.
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { processKey, procStat } from '../mount/process-info.ts';
import { constants } from 'node:os';
import { spawn as spawnPty, type IPty } from 'node-pty';
import { ulid } from 'ulid';

export type ExecEventType = 'stdout' | 'stderr' | 'exit';

export interface ExecEvent {
  seq: number;
  type: ExecEventType;
  data?: Uint8Array;
  exitCode?: number | null;
  signal?: string | null;
  timedOut?: boolean;
}

export interface ExecStatus {
  id: string;
  command: string;
  /** the directory the shell changed into */
  cwd: string;
  pid: number;
  pty: boolean;
  running: boolean;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  startedAt: number;
  endedAt: number | null;
  /** the next event's seq; events before `firstSeq` were dropped by the log cap */
  nextSeq: number;
  firstSeq: number;
}

export interface SpawnRequest {
  command: string;
  /** absolute directory for the shell to cd into */
  cwd: string;
  env: Record<string, string>;
  stdin?: Uint8Array;
  openStdin?: boolean;
  timeoutMs?: number;
  pty?: { cols: number; rows: number };
}

export interface ExecOutput {
  status: ExecStatus;
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** output bytes dropped by the log cap */
  droppedBytes: number;
}

type Listener = (event: ExecEvent) => void;

const KILL_GRACE_MS = 2_000;
/** after the shell exits, how long to wait for background processes holding its pipes */
const DRAIN_MS = 200;
/** finished execs kept for re-attach, at most this many and this many logs' worth of bytes */
const FINISHED_KEPT = 64;
const FINISHED_LOGS_KEPT = 4;
const PTY_LINGER_S = 0.1;
/** pids remembered for attribution before the cache starts over */
const OWNERS_MAX = 4096;
const SHELL = '/bin/bash';
/**
 * Node's stdio pipes are socket pairs, and Debian's bash reads ~/.bashrc when its input is a
 * socket (as if run by rshd): --norc keeps a command's environment what it was given.
 */
const SHELL_ARGS = ['--norc', '-c'];

export class ExecError extends Error {
  override name = 'ExecError';
  readonly code: string;

  constructor(code: 'ENOENT' | 'EINVAL' | 'ESRCH' | 'EAGAIN', message: string) {
    super(message);
    this.code = code;
  }
}

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

class Exec {
  readonly status: ExecStatus;
  private readonly events: ExecEvent[] = [];
  keptBytes = 0;
  /** the shell has exited (its output may still be draining): signals would reach nobody's */
  exited = false;
  droppedBytes = 0;
  private readonly listeners = new Set<Listener>();
  private readonly waiters: Array<(status: ExecStatus) => void> = [];
  private readonly maxBytes: number;
  input: ((data: Uint8Array | null) => void) | null = null;
  kill: (signal: NodeJS.Signals) => void = () => {};
  resize: ((cols: number, rows: number) => void) | null = null;

  constructor(status: ExecStatus, maxBytes: number) {
    this.status = status;
    this.maxBytes = maxBytes;
  }

  emit(type: ExecEventType, fields: Omit<ExecEvent, 'seq' | 'type'>): void {
    const event: ExecEvent = { seq: this.status.nextSeq++, type, ...fields };
    this.events.push(event);
    this.keptBytes += event.data?.length ?? 0;
    // The cap drops whole events from the front; the exit event is never dropped.
    while (this.keptBytes > this.maxBytes && this.events.length > 1) {
      const dropped = this.events.shift()!;
      this.keptBytes -= dropped.data?.length ?? 0;
      this.droppedBytes += dropped.data?.length ?? 0;
      this.status.firstSeq = this.events[0]!.seq;
    }
    for (const listener of this.listeners) listener(event);
  }

  since(seq: number): ExecEvent[] {
    const start = Math.max(0, seq - this.status.firstSeq);
    return this.events.slice(start);
  }

  listen(listener: Listener): () => void {
    if (!this.status.running) return () => {};
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  finish(exitCode: number | null, signal: string | null): void {
    this.status.running = false;
    this.status.exitCode = exitCode;
    this.status.signal = signal;
    this.status.endedAt = Date.now();
    this.input = null;
    this.resize = null;
    this.emit('exit', { exitCode, signal, timedOut: this.status.timedOut });
    this.listeners.clear();
    for (const resolve of this.waiters.splice(0)) resolve({ ...this.status });
  }

  done(): Promise<ExecStatus> {
    if (!this.status.running) return Promise.resolve({ ...this.status });
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

export interface ExecRunnerOptions {
  logMaxBytes: number;
  /**
   * Brings the mount and the store in step (the shim's pass): before a command starts, so it
   * sees what RPC calls wrote, and before it reports its exit, so its writes are in the store.
   */
  settle?: () => void;
}

export class ExecRunner {
  private readonly execs = new Map<string, Exec>();
  /** running execs by the pid of their shell */
  private readonly byPid = new Map<number, Exec>();
  /** process key (pid@start) -> exec (or null), for processes seen since execs last started or ended */
  private readonly owners = new Map<string, Exec | null>();
  private readonly options: ExecRunnerOptions;

  constructor(options: ExecRunnerOptions) {
    this.options = options;
  }

  start(request: SpawnRequest): ExecStatus {
    const id = `exec_${ulid()}`;
    const script = `cd -- ${quote(request.cwd)} || exit 126\n${request.command}`;
    const env = { ...request.env, WSD_EXEC_ID: id };
    const status: ExecStatus = {
      id, command: request.command, cwd: request.cwd, pid: 0, pty: !!request.pty, running: true, exitCode: null, signal: null,
      timedOut: false, startedAt: Date.now(), endedAt: null, nextSeq: 0, firstSeq: 0,
    };
    const exec = new Exec(status, this.options.logMaxBytes);
    this.options.settle?.();
    if (request.pty) this.startPty(exec, script, env, request);
    else this.startPipes(exec, script, env, request);
    this.execs.set(id, exec);
    this.byPid.set(status.pid, exec);
    this.owners.clear();
    if (request.timeoutMs !== undefined) {
      const timer = setTimeout(() => {
        if (exec.exited) return;
        status.timedOut = true;
        exec.kill('SIGTERM');
        const killer = setTimeout(() => exec.kill('SIGKILL'), KILL_GRACE_MS);
        void exec.done().then(() => clearTimeout(killer));
      }, request.timeoutMs);
      void exec.done().then(() => clearTimeout(timer));
    }
    return { ...status };
  }

  private startPipes(exec: Exec, script: string, env: Record<string, string>, request: SpawnRequest): void {
    // detached: the shell leads a new process group, so a timeout or kill reaches its children.
    const child: ChildProcess = spawnChild(SHELL, [...SHELL_ARGS, script], { cwd: '/', env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    exec.status.pid = child.pid ?? 0;
    exec.kill = (signal) => {
      if (exec.exited) return;
      try {
        process.kill(-exec.status.pid, signal);
      } catch {
        // the group is gone
      }
    };
    child.stdout!.on('data', (data: Buffer) => exec.emit('stdout', { data: new Uint8Array(data) }));
    child.stderr!.on('data', (data: Buffer) => exec.emit('stderr', { data: new Uint8Array(data) }));
    child.stdin!.on('error', () => {}); // a command that exits without reading its input
    if (request.stdin) child.stdin!.write(request.stdin);
    if (request.openStdin) exec.input = (data) => (data ? child.stdin!.write(data) : child.stdin!.end());
    else child.stdin!.end();
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.once('error', (error) => {
      exec.emit('stderr', { data: new TextEncoder().encode(`wsd: cannot run ${SHELL}: ${error.message}\n`) });
      if (!exec.exited) {
        exec.exited = true;
        this.finish(exec, 127, null);
      }
    });
    child.once('exit', (code, signal) => {
      exec.exited = true;
      // Background processes may keep the pipes open: give them a moment, then stop reading.
      const drained = new Promise<void>((resolve) => setTimeout(resolve, DRAIN_MS).unref());
      void Promise.race([closed, drained]).then(() => {
        child.stdout!.destroy();
        child.stderr!.destroy();
        this.finish(exec, code, signal);
      });
    });
  }

  private startPty(exec: Exec, script: string, env: Record<string, string>, request: SpawnRequest): void {
    // Linux drops what a terminal still buffers once the last process on it exits: the shell
    // lingers a moment on exit (an EXIT trap keeps the exit status) so the output is read first.
    const term: IPty = spawnPty(SHELL, [...SHELL_ARGS, `trap 'sleep ${PTY_LINGER_S}' EXIT\n${script}`], { cwd: '/', env: { TERM: 'xterm-256color', ...env }, cols: request.pty!.cols, rows: request.pty!.rows, encoding: null });
    exec.status.pid = term.pid;
    exec.kill = (signal) => {
      if (exec.exited) return;
      try {
        process.kill(-term.pid, signal);
      } catch {
        // the session is gone
      }
    };
    term.onData((data: string | Buffer) => exec.emit('stdout', { data: typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data) }));
    if (request.stdin) term.write(Buffer.from(request.stdin));
    // A terminal has no end of input: end of input is the EOF character at the start of a line.
    exec.input = (data) => term.write(data ? Buffer.from(data) : '\x04');
    exec.resize = (cols, rows) => {
      try {
        term.resize(cols, rows);
      } catch {
        // The terminal closed before its exit was reported.
        throw new ExecError('ESRCH', `exec ${exec.status.id} has finished`);
      }
    };
    term.onExit(({ exitCode, signal }) => {
      exec.exited = true;
      // node-pty reports the signal number; name it as child_process does.
      const name = signal ? (Object.entries(constants.signals).find(([, n]) => n === signal)?.[0] ?? String(signal)) : null;
      // node-pty reports the exit once the terminal's output has ended.
      this.finish(exec, name ? null : exitCode, name);
    });
  }

  private finish(exec: Exec, exitCode: number | null, signal: string | null): void {
    try {
      this.options.settle?.();
    } catch (error) {
      // Runs from a process event: a throw here would end the daemon.
      process.stderr.write(`wsd: settling after ${exec.status.id}: ${(error as Error).message}\n`);
    }
    this.byPid.delete(exec.status.pid);
    this.owners.clear();
    exec.finish(exitCode, signal);
    this.evictFinished();
  }

  /** Drops the oldest finished execs beyond the count and byte budgets. */
  private evictFinished(): void {
    const finished = [...this.execs.values()].filter((e) => !e.status.running);
    let bytes = finished.reduce((sum, e) => sum + e.keptBytes, 0);
    for (let i = 0; i < finished.length && (finished.length - i > FINISHED_KEPT || bytes > FINISHED_LOGS_KEPT * this.options.logMaxBytes); i++) {
      this.execs.delete(finished[i]!.status.id);
      bytes -= finished[i]!.keptBytes;
    }
  }

  private get(id: unknown): Exec {
    const exec = typeof id === 'string' ? this.execs.get(id) : undefined;
    if (!exec) throw new ExecError('ENOENT', `no exec ${JSON.stringify(id)} (finished execs are kept for the last ${FINISHED_KEPT})`);
    return exec;
  }

  status(id: unknown): ExecStatus {
    return { ...this.get(id).status };
  }

  list(): ExecStatus[] {
    return [...this.execs.values()].map((e) => ({ ...e.status }));
  }

  /** Events from `seq` on (from the oldest kept, if the cap dropped earlier ones). */
  read(id: unknown, seq: number): { events: ExecEvent[]; status: ExecStatus } {
    const exec = this.get(id);
    return { events: exec.since(seq), status: { ...exec.status } };
  }

  /**
   * Calls `onEvent` with the kept events from `seq`, then each new one, until the exec ends or
   * `detach` is called.
   */
  attach(id: unknown, seq: number, onEvent: Listener): { done: Promise<ExecStatus>; detach: () => void } {
    const exec = this.get(id);
    for (const event of exec.since(seq)) onEvent(event);
    return { done: exec.done(), detach: exec.listen(onEvent) };
  }

  wait(id: unknown): Promise<ExecStatus> {
    return this.get(id).done();
  }

  /** All kept output of a finished exec, concatenated per stream. */
  output(id: unknown): ExecOutput {
    const exec = this.get(id);
    const join = (type: ExecEventType) => Buffer.concat(exec.since(0).filter((e) => e.type === type).map((e) => e.data!));
    return { status: { ...exec.status }, stdout: new Uint8Array(join('stdout')), stderr: new Uint8Array(join('stderr')), droppedBytes: exec.droppedBytes };
  }

  /** Writes to a running exec's input; null ends it. */
  write(id: unknown, data: Uint8Array | null): void {
    const exec = this.get(id);
    if (!exec.input) throw new ExecError('EINVAL', `exec ${exec.status.id} ${exec.status.running ? 'was not started with openStdin or pty' : 'has finished'}`);
    exec.input(data);
  }

  resize(id: unknown, cols: number, rows: number): void {
    const exec = this.get(id);
    if (!exec.resize) throw new ExecError('EINVAL', `exec ${exec.status.id} ${exec.status.running ? 'has no terminal' : 'has finished'}`);
    exec.resize(cols, rows);
  }

  signal(id: unknown, signal: NodeJS.Signals): void {
    const exec = this.get(id);
    if (!exec.status.running) throw new ExecError('ESRCH', `exec ${exec.status.id} has finished`);
    exec.kill(signal);
  }

  /** The running exec a process belongs to (it or an ancestor is the exec's shell), if any. */
  ownerOf(pid: number): ExecStatus | null {
    if (this.byPid.size === 0) return null;
    const path: string[] = [];
    let owner: Exec | null = null;
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      const key = processKey(p);
      if (!key) break;
      const known = this.owners.get(key);
      if (known !== undefined) {
        owner = known;
        break;
      }
      path.push(key);
      const exec = this.byPid.get(p);
      if (exec) {
        owner = exec;
        break;
      }
      const stat = procStat(p);
      if (!stat) break;
      p = stat.ppid;
    }
    if (this.owners.size + path.length > OWNERS_MAX) this.owners.clear();
    for (const key of path) this.owners.set(key, owner);
    return owner?.status ?? null;
  }

  /** The only running exec, or null when none or several run (attribution without a pid). */
  soleRunning(): ExecStatus | null {
    return this.byPid.size === 1 ? [...this.byPid.values()][0]!.status : null;
  }

  /** Stops every running exec: SIGTERM, then SIGKILL after a grace period. */
  async stopAll(): Promise<void> {
    const running = [...this.byPid.values()];
    for (const exec of running) exec.kill('SIGTERM');
    const killer = setTimeout(() => running.forEach((exec) => exec.kill('SIGKILL')), KILL_GRACE_MS);
    await Promise.all(running.map((exec) => exec.done()));
    clearTimeout(killer);
  }
}
