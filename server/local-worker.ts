// The Worker + Durable Object replica on this machine: the bundle built with esbuild (workerd's
// export conditions, as wrangler builds it) and run on workerd through miniflare, with its storage
// persisted in a directory. Node only: used by `ledgerfs worker`, the tests and the benchmarks.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

export const WORKER_ENTRY = join(import.meta.dirname, 'worker.ts');
/** The runtime's compatibility settings the bundle is tested with (wrangler.jsonc says the same). */
export const COMPATIBILITY_DATE = '2026-07-01';
export const COMPATIBILITY_FLAGS = ['nodejs_compat'];

/** Bundles `entry` (default: the Worker) into one ES module at `outfile`. */
export async function buildWorker(outfile: string, entry = WORKER_ENTRY): Promise<string> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2023',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*', 'node:*'],
    logLevel: 'warning',
  });
  return outfile;
}

export interface LocalWorkerOptions {
  /** Directory for the Durable Objects' (and R2's) storage; none: in memory, gone at dispose. */
  persist?: string;
  /** The LEDGERFS_TOKEN secret; default: a random one. */
  token?: string;
  port?: number;
  host?: string;
  /** Bind an R2 bucket (CHUNKS) for chunk bytes. */
  r2?: boolean;
  /** A bundle to run instead of building the Worker (the tests' harness workers). */
  script?: string;
  /** Durable Object classes of `script`, by binding name (default: WORKSPACES -> WorkspaceObject). */
  objects?: Record<string, string>;
}

export interface LocalWorker {
  url: URL;
  token: string;
  /** `ws://…/workspaces/<name>/ws` */
  wsUrl(name: string): string;
  miniflare: Miniflare;
  dispose(): Promise<void>;
}

export async function startLocalWorker(options: LocalWorkerOptions = {}): Promise<LocalWorker> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const build = options.script ? null : mkdtempSync(join(tmpdir(), 'ledgerfs-worker-'));
  const script = options.script ?? await buildWorker(join(build!, 'worker.js'));
  if (options.persist) mkdirSync(options.persist, { recursive: true });
  const objects = options.objects ?? { WORKSPACES: 'WorkspaceObject' };
  const miniflare = new Miniflare({
    modules: true,
    scriptPath: script,
    modulesRoot: dirname(script),
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: COMPATIBILITY_FLAGS,
    durableObjects: Object.fromEntries(Object.entries(objects).map(([binding, className]) => [binding, { className, useSQLite: true }])),
    durableObjectsPersist: options.persist ? join(options.persist, 'objects') : false,
    r2Buckets: options.r2 ? ['CHUNKS'] : [],
    r2Persist: options.persist ? join(options.persist, 'r2') : false,
    bindings: { LEDGERFS_TOKEN: token },
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
  });
  const url = await miniflare.ready;
  return {
    url,
    token,
    wsUrl: (name) => new URL(`/workspaces/${encodeURIComponent(name)}/ws`, url).href.replace(/^http/, 'ws'),
    miniflare,
    dispose: async () => {
      await miniflare.dispose();
      if (build) rmSync(build, { recursive: true, force: true });
    },
  };
}
