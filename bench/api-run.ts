// One `bench api` measurement in its own process: `api-run.ts <contender> <workload> <dir>`
// opens a fresh store in <dir>, prepares, runs a warm-up of the same calls on other paths,
// collects the garbage that left (so no workload pays for another's), then times the workload
// and prints {ms, rssPeakBytes} as one JSON line.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { resourceUsage } from 'node:process';
import { openContender, type Api, type Contender, type WorkloadName } from './api-contenders.ts';

const FILES = 1000;
const SMALL = randomBytes(100);
const MEDIUM_BYTES = 64 * 1024;
const BIG_BYTES = 64 * 1024 * 1024;
const READDIRS = 50;
const WARMUP_FILES = 100;

const names = (dir: string, n: number) => Array.from({ length: n }, (_, i) => `${dir}/f${i}`);
const tree = (root: string) => Array.from({ length: 1000 }, (_, i) => `${root}/${Math.floor(i / 100)}/${Math.floor(i / 10) % 10}/${i % 10}`);

async function writeAll(api: Api, dir: string, n: number, data: Uint8Array): Promise<void> {
  await api.mkdirRecursive(dir);
  for (const path of names(dir, n)) await api.write(path, data);
}

interface Workload {
  /** made before the clock starts; `dir` is the workload's own, `warm` the warm-up's */
  setup?(api: Api, dir: string): Promise<void>;
  run(api: Api, dir: string, n: number): Promise<void>;
  /** the reopen workload closes and opens the store itself */
  reopen?: boolean;
}

const WORKLOADS: Record<WorkloadName, Workload> = {
  write: { run: (api, dir, n) => writeAll(api, dir, n, SMALL) },
  stat: { setup: (api, dir) => writeAll(api, dir, FILES, SMALL), run: async (api, dir, n) => { for (const p of names(dir, n)) await api.stat(p); } },
  read: { setup: (api, dir) => writeAll(api, dir, FILES, SMALL), run: async (api, dir, n) => { for (const p of names(dir, n)) await api.read(p); } },
  readdir_x50: { setup: (api, dir) => writeAll(api, dir, FILES, SMALL), run: async (api, dir, n) => { for (let i = 0; i < Math.ceil((READDIRS * n) / FILES); i++) await api.readdir(dir); } },
  rename: { setup: (api, dir) => writeAll(api, dir, FILES, SMALL), run: async (api, dir, n) => { for (const p of names(dir, n)) await api.rename(p, `${p}.moved`); } },
  delete: { setup: (api, dir) => writeAll(api, dir, FILES, SMALL), run: async (api, dir, n) => { for (const p of names(dir, n)) await api.remove(p); } },
  mkdir_10x10x10: {
    run: async (api, dir, n) => {
      await api.mkdir(dir);
      const made = new Set([dir]);
      for (const leaf of tree(dir).slice(0, n)) {
        const parts = leaf.split('/');
        for (let depth = parts.length - 3; depth <= parts.length; depth++) {
          const at = parts.slice(0, depth).join('/');
          if (!made.has(at)) await api.mkdir(at);
          made.add(at);
        }
      }
    },
  },
  mkdir_recursive_1000: { run: async (api, dir, n) => { for (const leaf of tree(dir).slice(0, n)) await api.mkdirRecursive(leaf); } },
  write_64m: { run: async (api, dir, n) => { await api.mkdir(dir); await api.write(`${dir}/big`, randomBytes(n === FILES ? BIG_BYTES : MEDIUM_BYTES)); } },
  read_64m: {
    setup: async (api, dir) => { await api.mkdir(dir); await api.write(`${dir}/big`, randomBytes(BIG_BYTES)); },
    run: async (api, dir) => { await api.read(`${dir}/big`); },
  },
  write_1000x64k: { run: (api, dir, n) => writeAll(api, dir, n, randomBytes(MEDIUM_BYTES)) },
  reopen_stat: { reopen: true, setup: (api, dir) => writeAll(api, dir, FILES, SMALL), run: async (api, dir, n) => { for (const p of names(dir, n)) await api.stat(p); } },
};

async function measure(contender: Contender, workload: WorkloadName, dir: string): Promise<{ ms: number; rssPeakBytes: number }> {
  const spec = WORKLOADS[workload]!;
  const file = join(dir, 'store.db');
  let api = openContender(contender, file);
  await spec.setup?.(api, '/w');
  // warm-up: the same calls, a tenth as many, on other paths (read_64m re-reads its file)
  await spec.setup?.(api, '/warm');
  await spec.run(api, '/warm', WARMUP_FILES);
  if (spec.reopen) api.close();
  globalThis.gc?.();
  const start = process.hrtime.bigint();
  if (spec.reopen) api = openContender(contender, file);
  await spec.run(api, '/w', FILES);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  api.close();
  return { ms, rssPeakBytes: resourceUsage().maxRSS * 1024 };
}

const [contender, workload, dir] = process.argv.slice(2);
console.warn = () => {}; // shell warns on every inline file over 1.5 MB
process.stdout.write(`${JSON.stringify(await measure(contender as Contender, workload as WorkloadName, dir!))}\n`);
