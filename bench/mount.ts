// bench mount: the same shell workloads on three filesystems mounted in the same run: tmpfs
// (the physical limit), a minimal in-memory fuse-native filesystem with ledgerfs' mount options
// (what fuse-native itself costs) and a fresh ledgerfs store. Every change ledgerfs makes goes
// through its log; the question is how close that gets to the fuse-native floor.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
  stop(): Promise<void>;
}

async function tmpfsTarget(dir: string): Promise<Target> {
  const mnt = join(dir, 'tmpfs');
  mkdirSync(mnt);
  sh(`mount -t tmpfs -o size=2g tmpfs ${mnt}`, dir, {});
  return { name: 'tmpfs', dir: mnt, stop: async () => void sh(`umount ${mnt}`, dir, {}) };
}

async function memfsTarget(dir: string): Promise<Target> {
  const mnt = join(dir, 'memfs');
  mkdirSync(mnt);
  const child = spawn(process.execPath, [join(import.meta.dirname, `memfs${extname(import.meta.filename)}`), mnt], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('mounted') && resolve());
    child.once('exit', (code) => reject(new Error(`memfs exited ${code}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { name: 'fuse-native floor', dir: mnt, stop: async () => { child.kill('SIGTERM'); await exited; await forceUnmount(mnt); } };
}

async function ledgerfsTarget(): Promise<Target> {
  const m = await mountFresh('ledgerfs-bench-');
  return { name: 'ledgerfs', dir: m.mnt, stop: async () => { await m.stop(); rmSync(m.dir, { recursive: true, force: true }); } };
}

export async function benchMount(): Promise<{ results: Record<string, Record<string, number>>; table: string[][] }> {
  const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-bench-mount-'));
  const targets: Target[] = [];
  try {
    const F = fixtures(dir);
    targets.push(await tmpfsTarget(dir), await memfsTarget(dir), await ledgerfsTarget());
    const seconds = new Map<string, number[]>();
    for (const scenario of SCENARIOS) seconds.set(scenario.name, targets.map((t) => sh(scenario.run, t.dir, { F })));
    const results: Record<string, Record<string, number>> = {};
    const table = [['scenario', 'tmpfs s', 'floor s', 'ledgerfs s', 'floor/tmpfs', 'ledgerfs/tmpfs', 'ledgerfs/floor']];
    for (const [name, [tmpfs, floor, ledgerfs]] of seconds as Map<string, [number, number, number]>) {
      const s = (seconds: number) => Number(seconds.toFixed(4));
      results[name] = { tmpfs_s: s(tmpfs), floor_s: s(floor), ledgerfs_s: s(ledgerfs), floor_vs_tmpfs: round(floor / tmpfs), vs_tmpfs: round(ledgerfs / tmpfs), vs_floor: round(ledgerfs / floor) };
      table.push([name, tmpfs.toFixed(3), floor.toFixed(3), ledgerfs.toFixed(3), `${(floor / tmpfs).toFixed(2)}x`, `${(ledgerfs / tmpfs).toFixed(2)}x`, `${(ledgerfs / floor).toFixed(2)}x`]);
    }
    return { results, table };
  } finally {
    for (const target of targets.reverse()) await target.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

