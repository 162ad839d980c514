// wsd, the workspace daemon of a sandbox container: opens the store, serves HTTP + capnweb,
// mounts the workspace, runs commands in it and syncs with an upstream replica. close() is the
// orderly shutdown: stop accepting, stop commands, unmount (committing open write buffers),
// finish syncing, close the store.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { SyncClient } from '../client/index.ts';
import { WSD_MESSAGE_BYTES_MAX, type Actor } from '../log/index.ts';
import { mountWorkspace, type MountedWorkspace } from '../mount/mode.ts';
import { actorCommand } from '../mount/process-info.ts';
import { FileSystem, openStore } from '../index.ts';
import { Workspace as StoreWorkspace } from '../projections/index.ts';
import { ConfigError, type WsdConfig } from './config.ts';
import { ExecRunner } from './exec-runner.ts';
import { startHttpServer, type HttpServer } from './http-server.ts';
import { mcpHttpHandler } from './mcp.ts';
import { statsReporter } from './stats.ts';
import { timelineRoute } from './timeline-route.ts';
import { workspaceSession, type Workspace } from './workspace-service.ts';

/** Ops commit together within this window (fsync and sync commit at once). */
const COMMIT_DELAY_MS = 10;
/** how long shutdown waits for a last exchange with the upstream */
const FINAL_SYNC_MS = 5_000;

export interface WsdInfo {
  replica: string;
  host: string;
  port: number;
  store: string;
  mountPoint: string;
  backend: MountedWorkspace['backend'] | null;
  mountReady: boolean;
  upstream: string | null;
}

export interface Wsd {
  info(): WsdInfo;
  close(): Promise<void>;
}

/** A pause that keeps the process alive (shutdown waits on it with nothing else pending). */
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts the daemon; `env` is what commands inherit (without the tokens). */
export async function startWsd(config: WsdConfig, env: NodeJS.ProcessEnv): Promise<Wsd> {
  if (config.db !== 'memory') mkdirSync(dirname(config.db), { recursive: true });
  const store = openStore({ file: config.db === 'memory' ? ':memory:' : config.db, commitDelayMs: COMMIT_DELAY_MS });
  const fs = FileSystem.live(store, { kind: 'api' });
  let mounted: MountedWorkspace | null = null;
  const execs = new ExecRunner({ logMaxBytes: config.execLogMaxBytes, settle: () => mounted?.settle() });
  const client = config.upstreamUrl ? new SyncClient(store, config.upstreamUrl, { token: config.upstreamToken }) : null;
  const workspace: Workspace = {
    store, fs, execs, env,
    mountPoint: config.mountMode === 'none' ? null : config.mountPoint,
    stats: statsReporter({ store, fs, client }),
  };
  let server: HttpServer;
  const info = (): WsdInfo => ({
    replica: store.origin,
    host: config.host,
    port: server.port,
    store: config.db === 'memory' ? 'memory' : config.db,
    mountPoint: config.mountPoint,
    backend: mounted?.backend ?? null,
    mountReady: mounted !== null,
    upstream: config.upstreamUrl,
  });
  try {
    server = await startHttpServer({
      port: config.port,
      host: config.host,
      token: config.token,
      session: (caller) => workspaceSession(workspace, caller),
      json: { '/__wsd/info': info, '/__wsd/stats': workspace.stats },
      pages: { '/__wsd/timeline': timelineRoute(store, `wsd ${config.mountPoint}`) },
      // the agent tools over MCP, on the daemon's own filesystem (one set of write buffers)
      handlers: { '/mcp': mcpHttpHandler(new StoreWorkspace({}, { store, fs, r2: null, bucket: null })) },
      messageBytesMax: WSD_MESSAGE_BYTES_MAX,
    });
  } catch (error) {
    store.close();
    if ((error as { code?: string }).code === 'EADDRINUSE') throw new ConfigError(`PORT: ${config.host}:${config.port} is in use: stop what holds it, or set PORT to another (0 picks a free one)`);
    throw error;
  }
  try {
    const attribute = (pid: number | undefined): Actor | null => {
      const exec = pid === undefined ? execs.soleRunning() : execs.ownerOf(pid);
      if (!exec) return null;
      // The exec's own shell is named by its command; its children by their own command lines.
      return { kind: 'exec', id: exec.id, ...(pid === undefined || pid === exec.pid ? { command: actorCommand(exec.command) } : {}) };
    };
    mounted = await mountWorkspace(fs, config.mountPoint, config.mountMode, { attribute });
  } catch (error) {
    await server.close();
    store.close();
    if ((error as { code?: string }).code === 'ENOTEMPTY') throw new ConfigError(`MOUNT_POINT: ${(error as Error).message}`);
    throw error;
  }
  client?.start();

  return {
    info,
    close: async () => {
      await server.close();
      await execs.stopAll();
      await mounted?.close();
      fs.releaseAll();
      if (client) {
        if (client.state().connected) await Promise.race([client.synced(), delay(FINAL_SYNC_MS)]);
        await client.stop();
      }
      store.close();
    },
  };
}
