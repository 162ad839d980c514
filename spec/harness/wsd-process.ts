// A real wsd in a child process, as the end-to-end tests drive it: spawned with an environment,
// ready once it prints its ready line, reached over HTTP and capnweb, stopped with a signal.
// reap() kills whatever is left and unmounts, so a failed test leaves no process or mount.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { newHttpBatchRpcSession, newWebSocketRpcSession, type RpcStub } from 'capnweb';
import { WebSocket } from 'ws';
import { forceUnmount } from '../../mount/fuse-mount.ts';
import type { WorkspaceApi } from '../../server/workspace-service.ts';
import type { WsdInfo } from '../../server/wsd.ts';

const WSD = join(import.meta.dirname, '../../bin/wsd.ts');
const READY_MS_MAX = 30_000;

export type WorkspaceStub = RpcStub<WorkspaceApi>;

export interface WsdProcess {
  child: ChildProcess;
  info: WsdInfo;
  /** http://127.0.0.1:port */
  url: string;
  stderr(): string;
  /** a capnweb session over /ws (with the token unless given another; null sends none) */
  connect(token?: string | null): WorkspaceStub;
  /** a capnweb HTTP batch on /api: one batch per stub, as capnweb's batch sessions are */
  batch(token?: string | null): WorkspaceStub;
  fetch(path: string, init?: RequestInit & { token?: string | null }): Promise<Response>;
  /** Sends the signal and resolves with the exit code and the JSON lines printed. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; events: Array<Record<string, unknown>> }>;
}

const spawned = new Map<ChildProcess, string | undefined>();

/** Starts `bin/wsd.ts` with PORT=0 and `env` on top of this process's environment. */
export async function spawnWsd(env: Record<string, string>): Promise<WsdProcess> {
  const child = spawn(process.execPath, [WSD], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  spawned.set(child, env.MOUNT_POINT);
  const events: Array<Record<string, unknown>> = [];
  let errors = '';
  let out = '';
  child.stderr!.on('data', (data: Buffer) => (errors += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<WsdInfo>((resolve, reject) => {
    child.stdout!.on('data', (data: Buffer) => {
      out += data.toString();
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const event = JSON.parse(out.slice(0, nl)) as Record<string, unknown>;
        out = out.slice(nl + 1);
        events.push(event);
        if (event.event === 'ready') resolve(event as unknown as WsdInfo);
      }
    });
    void exited.then((code) => reject(new Error(`wsd exited with ${String(code)} before it was ready: ${errors}`)));
    setTimeout(() => reject(new Error(`wsd not ready after ${READY_MS_MAX} ms: ${errors}`)), READY_MS_MAX).unref();
  });
  const info = await ready;
  const url = `http://127.0.0.1:${String(info.port)}`;
  const bearer = (token: string | null | undefined): Record<string, string> => {
    const value = token === undefined ? env.WSD_TOKEN : token;
    return value ? { authorization: `Bearer ${value}` } : {};
  };
  return {
    child,
    info,
    url,
    stderr: () => errors,
    connect: (token) => newWebSocketRpcSession<WorkspaceApi>(new WebSocket(`ws://127.0.0.1:${String(info.port)}/ws`, { headers: bearer(token) }) as unknown as globalThis.WebSocket),
    batch: (token) => newHttpBatchRpcSession<WorkspaceApi>(new Request(`${url}/api`, { headers: bearer(token) })),
    fetch: (path, init = {}) => fetch(`${url}${path}`, { ...init, headers: { ...bearer(init.token), ...(init.headers as Record<string, string> | undefined) } }),
    stop: async (signal = 'SIGTERM') => {
      child.kill(signal);
      const code = await exited;
      spawned.delete(child);
      return { code, events };
    },
  };
}

/** Kills every wsd still running and unmounts its mount point. */
export async function reap(): Promise<void> {
  for (const [child, mountPoint] of spawned) {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
    if (mountPoint) await forceUnmount(mountPoint);
  }
  spawned.clear();
}
