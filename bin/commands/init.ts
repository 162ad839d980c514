import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Store } from '../../projections/index.ts';
import { needArg } from './common.ts';

export function runInit([db]: string[]): number {
  const file = resolve(needArg(db, '<db>'));
  if (existsSync(file)) throw new Error(`${file} already exists`);
  const store = Store.open({ file });
  process.stdout.write(`created ${file}\norigin ${store.origin}\n`);
  store.close();
  return 0;
}
