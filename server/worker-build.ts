// Building the Worker + Durable Object bundle (esbuild, with workerd's export conditions) and
// running it locally on workerd through miniflare. Node only: used by `ledgerfs worker`, the
// tests and the benchmarks; `wrangler deploy` builds the same entry for a real account.
import { build } from 'esbuild';
import { join } from 'node:path';

export const WORKER_ENTRY = join(import.meta.dirname, 'worker.ts');
/** The compatibility date the bundle is tested at (also in wrangler.jsonc). */
export const COMPATIBILITY_DATE = '2026-07-01';
export const COMPATIBILITY_FLAGS = ['nodejs_compat'];

/** The Worker bundle (one ES module), written to `outfile`. */
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
