// The Worker + Durable Object replica on this machine: the bundle built with esbuild (workerd's
// export conditions, as wrangler builds it) and run on workerd through miniflare, with its storage
// persisted in a directory. Node only: used by `ledgerfs worker`, the tests and the benchmarks.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import type { Miniflare } from 'miniflare';

/** esbuild and miniflare are development dependencies: a package install may not have them. */
async function load<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error(`running the Worker locally needs ${name}: npm install --save-dev miniflare@4.20260730.0 esbuild`);
  }
}

/** worker.ts here, worker.js in the built package: esbuild bundles either. */
export const WORKER_ENTRY = join(import.meta.dirname, `worker${extname(import.meta.filename)}`);
/** The runtime's compatibility settings the bundle is tested with (wrangler.jsonc says the same). */
export const COMPATIBILITY_DATE = '2026-07-01';
export const COMPATIBILITY_FLAGS = ['nodejs_compat'];

/** Bundles `entry` (default: the Worker) into one ES module at `outfile`. */
export async function buildWorker(outfile: string, entry = WORKER_ENTRY): Promise<string> {
  const { build } = await load<typeof import('esbuild')>('esbuild');
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
  const { Miniflare: Runtime } = await load<typeof import('miniflare')>('miniflare');
  const miniflare = new Runtime({
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
