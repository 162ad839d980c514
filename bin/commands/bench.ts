import { printTable, report } from '../../bench/report.ts';
import { UsageError } from './common.ts';

export async function runBench([which]: string[], values: { json?: string | boolean; ops?: string | boolean; reps?: string | boolean }): Promise<number> {
  if (which === 'api') {
    const reps = values.reps === undefined ? 3 : Number(values.reps);
    if (!Number.isInteger(reps) || reps < 1) throw new UsageError('--reps wants an integer >= 1');
    const { benchApi } = await import('../../bench/api.ts');
    const { results, table } = benchApi({ reps });
    if (values.json) process.stdout.write(`${JSON.stringify({ bench: 'api', node: process.version, reps, results })}\n`);
    else printTable(table);
    return 0;
  }
  if (which === 'mount') {
    const { benchMount } = await import('../../bench/mount.ts');
    const { results, table, memory, memoryTable } = await benchMount();
    if (values.json) process.stdout.write(`${JSON.stringify({ bench: 'mount', node: process.version, results, memory })}\n`);
    else {
      printTable(table);
      process.stdout.write('\n');
      printTable(memoryTable);
    }
    return 0;
  }
  if (which !== 'log' && which !== 'sync' && which !== 'history') throw new UsageError(`bench wants one of: api, history, log, mount, sync (got ${which ?? 'nothing'})`);
  const ops = values.ops === undefined ? 100_000 : Number(values.ops);
  if (!Number.isInteger(ops) || ops < 5000) throw new UsageError('--ops wants an integer >= 5000');
  const { rows, extra } = which === 'log'
    ? (await import('../../bench/log.ts')).benchLog({ ops })
    : which === 'history'
      ? (await import('../../bench/history.ts')).benchHistory({ ops })
      : await (await import('../../bench/sync.ts')).benchSync({ ops });
  report(which, rows, extra, Boolean(values.json));
  return 0;
}
