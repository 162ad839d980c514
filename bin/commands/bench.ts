import { benchLog } from '../../bench/log.ts';
import { report } from '../../bench/report.ts';
import { UsageError } from './common.ts';

export function runBench([which]: string[], values: { json?: string | boolean; ops?: string | boolean }): number {
  if (which !== 'log') throw new UsageError(`bench wants one of: log (got ${which ?? 'nothing'})`);
  const ops = values.ops === undefined ? 100_000 : Number(values.ops);
  if (!Number.isInteger(ops) || ops < 1000) throw new UsageError('--ops wants an integer >= 1000');
  const { rows, extra } = benchLog({ ops });
  report('log', rows, extra, Boolean(values.json));
  return 0;
}
