// bench api: the library API call for call, ledgerfs (FileSystem and Workspace) beside
// @cloudflare/shell's Workspace, on a file (WAL, synchronous=NORMAL) and in memory. Every
// measurement is a fresh process on a fresh store (bench/api-run.ts), warm-up excluded, and the
// repetitions are interleaved across contenders so drift in the machine hits all of them alike.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTENDERS, runs, WORKLOADS, type Contender, type WorkloadName } from './api-contenders.ts';
import { round } from './report.ts';

interface Sample {
  ms: number;
  rssPeakBytes: number;
}

function runOnce(contender: Contender, workload: WorkloadName): Sample {
  const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-bench-api-'));
  try {
    const child = spawnSync(process.execPath, ['--expose-gc', join(import.meta.dirname, 'api-run.ts'), contender, workload, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (child.status !== 0) throw new Error(`bench api: ${contender} ${workload} exited ${child.status}`);
    return JSON.parse(child.stdout) as Sample;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export interface ApiResult {
  workload: WorkloadName;
  contender: Contender;
  medianMs: number;
  minMs: number;
  maxMs: number;
  rssPeakMiB: number;
}

/** Runs every workload `reps` times per contender, interleaved (reopen_stat: file contenders; the floor: mutations). */
export function benchApi({ reps, only }: { reps: number; only?: readonly WorkloadName[] }): { results: ApiResult[]; table: string[][] } {
  const workloads = only ?? WORKLOADS;
  const samples = new Map<string, Sample[]>();
  for (let rep = 0; rep < reps; rep++) {
    for (const workload of workloads) {
      for (const contender of CONTENDERS) {
        if (!runs(contender, workload)) continue;
        const key = `${workload} ${contender}`;
        samples.set(key, [...(samples.get(key) ?? []), runOnce(contender, workload)]);
      }
    }
  }
  const results: ApiResult[] = [...samples].map(([key, runs]) => {
    const [workload, contender] = key.split(' ') as [WorkloadName, Contender];
    const ms = runs.map((run) => run.ms);
    return { workload, contender, medianMs: round(median(ms)), minMs: round(Math.min(...ms)), maxMs: round(Math.max(...ms)), rssPeakMiB: round(Math.max(...runs.map((r) => r.rssPeakBytes)) / 2 ** 20) };
  });
  const cell = (workload: WorkloadName, contender: Contender) => {
    const r = results.find((x) => x.workload === workload && x.contender === contender);
    return r ? `${fmt(r.medianMs)} (${fmt(r.minMs)}-${fmt(r.maxMs)})` : '—';
  };
  const ratio = (workload: WorkloadName, ours: Contender, theirs: Contender) => {
    const a = results.find((x) => x.workload === workload && x.contender === ours);
    const b = results.find((x) => x.workload === workload && x.contender === theirs);
    return a && b ? `${(a.medianMs / b.medianMs).toFixed(2)}x` : '—';
  };
  const table = [
    ['median ms (min-max)', ...CONTENDERS, 'ws/shell file', 'ws/shell mem', 'floor/shell file', 'floor/shell mem'],
    ...workloads.map((w) => [
      w, ...CONTENDERS.map((c) => cell(w, c)), ratio(w, 'ledgerfs-ws-file', 'shell-file'), ratio(w, 'ledgerfs-ws-memory', 'shell-memory'),
      ratio(w, 'floor-file', 'shell-file'), ratio(w, 'floor-memory', 'shell-memory'),
    ]),
  ];
  return { results, table };
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
