import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { openStore } from '../../open-store.ts';
import { needArg } from './common.ts';

export function runInit([db]: string[]): number {
  const file = resolve(needArg(db, '<db>'));
  if (existsSync(file)) throw new Error(`${file} already exists`);
  const store = openStore({ file });
  process.stdout.write(`created ${file}\norigin ${store.origin}\n`);
  store.close();
  return 0;
}
