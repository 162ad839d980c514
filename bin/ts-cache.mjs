// Type-stripped sources kept between runs. Node 22 strips the types of every .ts file each time it
// loads one, and loading its stripper alone takes about 50 ms: a third of a short command's time.
// The launcher registers this hook when it runs the sources of a checkout; one cache file per
// source file, rewritten when the source changes.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';

const SOURCE_MARK = '\n//# ledgerfs-source ';

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** Strips without Node's experimental-feature warning (type stripping itself gives none). */
function strip(source) {
  const emitWarning = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return nodeModule.stripTypeScriptTypes(source, { mode: 'strip' });
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** Serves .ts files outside node_modules from `dir`; does nothing where Node lacks the hooks or `dir` cannot be made. */
export function cacheStrippedSources(dir) {
  if (!nodeModule.registerHooks || !nodeModule.stripTypeScriptTypes) return;
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    return;
  }
  nodeModule.registerHooks({
    load(url, context, nextLoad) {
      if (!url.startsWith('file:') || !url.endsWith('.ts') || url.includes('/node_modules/')) return nextLoad(url, context);
      const source = readFileSync(fileURLToPath(url), 'utf8');
      const mark = `${SOURCE_MARK}${sha256(source)}\n`;
      const file = join(dir, `${sha256(url)}.js`);
      let code = null;
      try {
        code = readFileSync(file, 'utf8');
      } catch {
        // not cached yet
      }
      if (code === null || !code.endsWith(mark)) {
        try {
          // Stripping keeps every line and column in place, so stack traces stay right.
          code = `${strip(source)}${mark}`;
        } catch {
          return nextLoad(url, context); // Node reports the syntax error as usual
        }
        try {
          writeFileSync(`${file}.${process.pid}`, code);
          renameSync(`${file}.${process.pid}`, file);
        } catch {
          // a read-only cache still serves what it has
        }
      }
      return { format: 'module', source: code, shortCircuit: true };
    },
  });
}
