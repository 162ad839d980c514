// replay: materialise the tree as it was at an op or a time into a real directory.
import { chmodSync, chownSync, existsSync, linkSync, lutimesSync, mkdirSync, openSync, readdirSync, symlinkSync, utimesSync, writeSync, closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import cliProgress from 'cli-progress';
import { CHUNK_BYTES } from '../../log/index.ts';
import { openHistory, resolvePosition, type FileSystem } from '../../projections/index.ts';
import { needArg, openExisting } from './common.ts';

const READ_BYTES = 8 * CHUNK_BYTES;

export function runReplay([db]: string[], values: { at?: string | boolean; out?: string | boolean }): number {
  const at = needArg(typeof values.at === 'string' ? values.at : undefined, '--at <op|time>');
  const out = resolve(needArg(typeof values.out === 'string' ? values.out : undefined, '--out <dir>'));
  if (existsSync(out) && readdirSync(out).length > 0) throw new Error(`${out} is not empty`);
  const store = openExisting(db, { readonly: true });
  const bar = new cliProgress.SingleBar({ format: 'replay [{bar}] {value}/{total} {stage}', noTTYOutput: false, stream: process.stderr }, cliProgress.Presets.shades_classic);
  try {
    const until = resolvePosition(store, at).ts;
    bar.start(store.log.count(), 0, { stage: 'ops' });
    const view = openHistory(store, until, (done) => bar.update(done));
    try {
      bar.setTotal(view.ops);
      mkdirSync(out, { recursive: true });
      const written = materialize(view.fs, out, (n) => bar.update(n, { stage: 'files' }));
      bar.stop();
      process.stdout.write(`replayed ${view.ops} ops up to ${until}; wrote ${written.files} files, ${written.dirs} dirs, ${written.links} symlinks, ${written.hardlinks} hard links to ${out}\n`);
      for (const skipped of written.skipped) process.stderr.write(`ledgerfs: skipped ${skipped}\n`);
      return 0;
    } finally {
      view.close();
    }
  } finally {
    bar.stop();
    store.close();
  }
}

/** Writes the view's tree under `out`; owners are kept when running as root. */
function materialize(fs: FileSystem, out: string, onProgress: (done: number) => void) {
  const counts = { files: 0, dirs: 0, links: 0, hardlinks: 0, skipped: [] as string[] };
  const firstPath = new Map<number, string>();
  const dirs: Array<[string, number]> = [];
  const asRoot = process.getuid?.() === 0;
  let done = 0;
  const visit = (ino: number, path: string) => {
    const attr = fs.lstat(ino);
    if (attr.type !== 'dir' && attr.nlink > 1) {
      const seen = firstPath.get(ino);
      if (seen) {
        linkSync(seen, path);
        counts.hardlinks++;
        return;
      }
      firstPath.set(ino, path);
    }
    switch (attr.type) {
      case 'dir':
        if (path !== out) mkdirSync(path);
        for (const entry of fs.readdir(ino)) visit(entry.ino, join(path, Buffer.from(entry.name).toString('utf8')));
        dirs.push([path, ino]);
        counts.dirs++;
        break;
      case 'file': {
        const fd = openSync(path, 'w', attr.mode & 0o7777);
        try {
          const fh = fs.open(ino, 0);
          try {
            for (let at = 0; at < attr.size; at += READ_BYTES) writeSync(fd, fs.read(fh, at, READ_BYTES));
          } finally {
            fs.release(fh);
          }
        } finally {
          closeSync(fd);
        }
        counts.files++;
        break;
      }
      case 'symlink':
        symlinkSync(Buffer.from(fs.readlink(ino)), path);
        counts.links++;
        break;
      case 'fifo':
        if (spawnSync('mkfifo', ['-m', (attr.mode & 0o777).toString(8), path]).status !== 0) counts.skipped.push(`${path} (mkfifo failed)`);
        break;
      default:
        counts.skipped.push(`${path} (${attr.type})`);
        return;
    }
    if (attr.type === 'symlink') {
      lutimesSync(path, attr.atime[0] + attr.atime[1] / 1e9, attr.mtime[0] + attr.mtime[1] / 1e9);
    } else if (attr.type !== 'dir') {
      chmodSync(path, attr.mode & 0o7777);
      utimesSync(path, attr.atime[0] + attr.atime[1] / 1e9, attr.mtime[0] + attr.mtime[1] / 1e9);
    }
    if (asRoot && attr.type !== 'symlink') chownSync(path, attr.uid, attr.gid);
    onProgress(++done);
  };
  visit(1, out);
  // Directory modes and times last: writing into a directory changes its mtime.
  for (const [path, ino] of dirs) {
    const attr = fs.lstat(ino);
    chmodSync(path, attr.mode & 0o7777);
    utimesSync(path, attr.atime[0] + attr.atime[1] / 1e9, attr.mtime[0] + attr.mtime[1] / 1e9);
  }
  return counts;
}
