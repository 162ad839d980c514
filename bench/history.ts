// bench history: a store of `ops` ops (default 100k) in which one text file has 1,000 versions,
// the rest a filesystem-shaped mix; then the history commands as a user runs them, each a fresh
// process as `npx ledgerfs` starts it (bin/ledgerfs.mjs: the figure includes starting Node and
// loading its modules, shown as the floor `log --limit 0`): log --limit 100, log --tail 100,
// log --path, blame, show, diff between two versions of the file, and verify; and the same
// queries in process, on an open store.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSystem, History, openStore, resolvePosition } from '../index.ts';
import { workload } from './log.ts';
import type { BenchRow } from './report.ts';

const VERSIONS = 1000;
const LINES = 100;
const CLI = join(import.meta.dirname, '..', 'bin', 'ledgerfs.mjs');

export function benchHistory({ ops }: { ops: number }): { rows: BenchRow[]; extra: Record<string, unknown> } {
  const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-bench-history-'));
  try {
    const db = join(dir, 'history.db');
    const store = openStore({ file: db });
    const fs = FileSystem.live(store, { kind: 'exec', id: 'bench', command: 'bench history' });
    const lines = Array.from({ length: LINES }, (_, i) => `line ${i}`);
    const seqs: number[] = [];
    const filler = workload(store, ops);
    fs.mkdir('/src');
    // Interleave: the file's versions spread over the whole log, as an agent's edits would be.
    const fillerPerVersion = Math.floor((ops - 2 * VERSIONS) / VERSIONS);
    for (let v = 0; v < VERSIONS; v++) {
      lines[v % LINES] = `line ${v % LINES} edited in version ${v}`;
      store.transaction(() => fs.writeFile('/src/main.py', lines.join('\n')));
      seqs.push(store.log.seqOf(store.origin));
      store.transaction(() => {
        for (let i = 0; i < fillerPerVersion; i++) {
          const body = filler.next();
          if (body.done) break;
          store.commit(body.value, { kind: 'exec', id: 'bench', command: 'filler' });
        }
      });
    }
    const total = store.log.count();
    store.close();
    const time = (name: string, ...args: string[]): BenchRow => {
      const start = performance.now();
      const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, PAGER: 'cat' }, maxBuffer: 1 << 28 });
      const ms = performance.now() - start;
      if (result.status !== 0) throw new Error(`ledgerfs ${args.join(' ')} failed: ${result.stderr}`);
      return { name, value: ms, unit: 'ms', note: `${result.stdout.split('\n').length - 1} lines` };
    };
    const last = seqs[seqs.length - 1]!;
    const mid = seqs[VERSIONS - 2]!;
    const inProcess = openStore({ file: db, readonly: true, existing: true });
    const history = new History(inProcess);
    const at = (text: string) => resolvePosition(inProcess, text);
    const measure = (name: string, fn: () => number): BenchRow => {
      const start = performance.now();
      const n = fn();
      return { name: `${name} (in process)`, value: performance.now() - start, unit: 'ms', note: `${n} items` };
    };
    const local = [
      measure('blame', () => history.blame('/src/main.py').lines.length),
      measure('show', () => history.show(at(String(last)), { patch: true }).changes.length),
      measure('diff', () => history.diff(at(String(mid)), at(String(last)), { patch: true }).changes.length),
      measure('history page', () => history.fileHistory('/src/main.py').entries.length),
    ];
    history.close();
    inProcess.close();
    const rows = [
      ...local,
      time('open a store, no work (floor)', 'log', db, '--limit', '0'),
      time('log --limit 100', 'log', db, '--limit', '100'),
      time('log --tail 100', 'log', db, '--tail', '100'),
      time('log --path (1,000 versions)', 'log', db, '--path', '/src/main.py'),
      time('blame (1,000 versions)', 'blame', db, '/src/main.py'),
      time('show (last version)', 'show', db, String(last)),
      time('diff (two versions apart)', 'diff', db, String(mid), String(last)),
      time('verify', 'verify', db),
    ];
    return { rows, extra: { ops: total, versions: VERSIONS, lines: LINES } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
