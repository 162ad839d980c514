import { benchLog } from '../../bench/log.ts';
import { benchMount } from '../../bench/mount.ts';
import { printTable, report } from '../../bench/report.ts';
import { UsageError } from './common.ts';

export async function runBench([which]: string[], values: { json?: string | boolean; ops?: string | boolean }): Promise<number> {
  if (which === 'mount') {
    const { results, table } = await benchMount();
    if (values.json) process.stdout.write(`${JSON.stringify({ bench: 'mount', node: process.version, results })}\n`);
    else printTable(table);
    return 0;
  }
  if (which !== 'log') throw new UsageError(`bench wants one of: log, mount (got ${which ?? 'nothing'})`);
  const ops = values.ops === undefined ? 100_000 : Number(values.ops);
  if (!Number.isInteger(ops) || ops < 1000) throw new UsageError('--ops wants an integer >= 1000');
  const { rows, extra } = benchLog({ ops });
  report('log', rows, extra, Boolean(values.json));
  return 0;
}
