// bench mount: the same shell workloads on five filesystems mounted in the same run: tmpfs
// (the physical limit), a minimal in-memory fuse-native filesystem mounted with the best options
// fuse-native allows, again with ledgerfs's own (what fuse-native itself costs, and what the
// option choice costs), again committing to SQLite before answering each request that changes
// something (what ledgerfs's durability costs before any op, projection or log is written), and
// a fresh ledgerfs store. Every change ledgerfs makes goes through its log; the question is how
// close that gets to the floors. The resident memory of each FUSE process is read from /proc
// before and after every workload: its peak, and how much one workload grew it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { forceUnmount } from '../mount/index.ts';
import { mountFresh } from '../spec/harness/mounted.ts';
import { round } from './report.ts';

const GIT = 'git -c user.name=bench -c user.email=bench@ledgerfs.invalid -c init.defaultBranch=main';

interface Scenario {
  name: string;
  /** a bash command run in the mounted directory D; fixtures are in F */
  run: string;
}

const SCENARIOS: Scenario[] = [
  { name: 'create_1000', run: 'mkdir c && cd c && for i in $(seq 1000); do : > f$i; done' },
  { name: 'stat_1000', run: 'cd c && for i in $(seq 1000); do [ -e f$i ]; done' },
  { name: 'rm_1000', run: 'rm -f c/f*' },
  { name: 'mkdir_10x10x10', run: 'mkdir -p t/{0..9}/{0..9}/{0..9}' },
  { name: 'find_tree', run: 'find t > /dev/null' },
  { name: 'rm_rf_tree', run: 'rm -rf t' },
  { name: 'write_64m', run: 'dd if=$F/random of=big bs=1M status=none' },
  { name: 'read_64m', run: 'cat big > /dev/null' },
  { name: 'copy_64m', run: 'cp big big2' },
  { name: 'overwrite_64m', run: 'dd if=$F/random of=big bs=1M conv=notrunc status=none' },
  { name: 'git_init_commit_100', run: `mkdir g && cd g && ${GIT} init -q && for i in $(seq 100); do echo $i > f$i; done && ${GIT} add . && ${GIT} commit -qm x` },
  { name: 'git_clone', run: `${GIT} clone -q $F/repo clone` },
  { name: 'git_status', run: `cd clone && ${GIT} status --porcelain > /dev/null` },
  { name: 'tar_extract', run: 'mkdir x && tar -C x -xf $F/tree.tar' },
  { name: 'npm_install', run: 'mkdir n && cd n && echo \'{"dependencies":{"is-number":"7.0.0","ms":"2.1.3"}}\' > package.json && npm install --prefer-offline --no-audit --no-fund --ignore-scripts --loglevel=error > /dev/null' },
];

function sh(command: string, cwd: string, env: Record<string, string>): number {
  const start = process.hrtime.bigint();
  const result = spawnSync('bash', ['-euo', 'pipefail', '-c', command], { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} failed in ${cwd}: ${result.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function fixtures(dir: string): string {
  const F = join(dir, 'fixtures');
  mkdirSync(F);
  const tree = join(import.meta.dirname, '../node_modules/fast-check');
  sh(`head -c 67108864 /dev/urandom > random && tar -C ${tree}/.. -cf tree.tar fast-check`, F, {});
  sh(`mkdir repo && cd repo && ${GIT} init -q && tar -xf ../tree.tar && ${GIT} add . && ${GIT} commit -qm tree`, F, {});
  return F;
}

interface Target {
  name: string;
  dir: string;
  /** the process serving the mount, when it is one */
  pid?: number;
  stop(): Promise<void>;
}

/** A process's resident and peak resident memory in MiB (VmRSS, VmHWM). */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)![1]) / 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

async function tmpfsTarget(dir: string): Promise<Target> {
  const mnt = join(dir, 'tmpfs');
  mkdirSync(mnt);
  sh(`mount -t tmpfs -o size=2g tmpfs ${mnt}`, dir, {});
  return { name: 'tmpfs', dir: mnt, stop: async () => void sh(`umount ${mnt}`, dir, {}) };
}

export type Floor = 'best' | 'options' | 'commit';
const FLOOR_NAMES: Record<Floor, string> = { best: 'floor, best options', options: 'floor, ledgerfs options', commit: 'floor + commit per request' };

export async function memfsTarget(dir: string, floor: Floor): Promise<Target> {
  const mnt = join(dir, `memfs-${floor}`);
  mkdirSync(mnt);
  const args = floor === 'best' ? ['best'] : floor === 'commit' ? ['commit', join(dir, 'commit-floor.db')] : [];
  const child = spawn(process.execPath, [join(import.meta.dirname, `memfs${extname(import.meta.filename)}`), mnt, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('mounted') && resolve());
    child.once('exit', (code) => reject(new Error(`memfs exited ${code}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { name: FLOOR_NAMES[floor], dir: mnt, pid: child.pid!, stop: async () => { child.kill('SIGTERM'); await exited; await forceUnmount(mnt); } };
}

async function ledgerfsTarget(): Promise<Target> {
  const m = await mountFresh('ledgerfs-bench-');
  return { name: 'ledgerfs', dir: m.mnt, pid: m.pid, stop: async () => { await m.stop(); rmSync(m.dir, { recursive: true, force: true }); } };
}

export interface MountBench {
  results: Record<string, Record<string, number>>;
  table: string[][];
  /** MiB per FUSE process: peak resident, and the most one workload grew it */
  memory: Record<string, { peak_mib: number; growth_mib_max: number; growth_at: string }>;
  memoryTable: string[][];
}

export async function benchMount(): Promise<MountBench> {
  const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-bench-mount-'));
  const targets: Target[] = [];
  try {
    const F = fixtures(dir);
    targets.push(await tmpfsTarget(dir), await memfsTarget(dir, 'best'), await memfsTarget(dir, 'options'), await memfsTarget(dir, 'commit'), await ledgerfsTarget());
    const seconds = new Map<string, number[]>();
    const growth = targets.map(() => ({ mib: 0, at: '' }));
    for (const scenario of SCENARIOS) {
      seconds.set(scenario.name, targets.map((t, i) => {
        const before = t.pid === undefined ? 0 : memory(t.pid).rss;
        const s = sh(scenario.run, t.dir, { F });
        const grew = t.pid === undefined ? 0 : memory(t.pid).rss - before;
        if (grew > growth[i]!.mib) growth[i] = { mib: grew, at: scenario.name };
        return s;
      }));
    }
    const results: Record<string, Record<string, number>> = {};
    const table = [['scenario', 'tmpfs s', 'best floor s', 'floor s', 'commit floor s', 'ledgerfs s', 'ledgerfs/best floor', 'ledgerfs/floor', 'ledgerfs/commit floor', 'commit floor/best floor']];
    for (const [name, [tmpfs, best, floor, commit, ledgerfs]] of seconds as Map<string, [number, number, number, number, number]>) {
      const s = (seconds: number) => Number(seconds.toFixed(4));
      results[name] = {
        tmpfs_s: s(tmpfs), best_floor_s: s(best), floor_s: s(floor), commit_floor_s: s(commit), ledgerfs_s: s(ledgerfs),
        vs_tmpfs: round(ledgerfs / tmpfs), vs_best_floor: round(ledgerfs / best), vs_floor: round(ledgerfs / floor), vs_commit_floor: round(ledgerfs / commit),
        commit_floor_vs_best_floor: round(commit / best),
      };
      const x = (ratio: number) => `${ratio.toFixed(2)}x`;
      table.push([name, tmpfs.toFixed(3), best.toFixed(3), floor.toFixed(3), commit.toFixed(3), ledgerfs.toFixed(3), x(ledgerfs / best), x(ledgerfs / floor), x(ledgerfs / commit), x(commit / best)]);
    }
    const mem: MountBench['memory'] = {};
    targets.forEach((t, i) => {
      if (t.pid !== undefined) mem[t.name] = { peak_mib: Math.round(memory(t.pid).peak), growth_mib_max: Math.round(growth[i]!.mib), growth_at: growth[i]!.at };
    });
    const memoryTable = [['process', 'peak RSS MiB', 'most one workload grew it MiB', 'workload']];
    for (const [name, m] of Object.entries(mem)) memoryTable.push([name, String(m.peak_mib), String(m.growth_mib_max), m.growth_at]);
    return { results, table, memory: mem, memoryTable };
  } finally {
    for (const target of targets.reverse()) await target.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

