// The differential suite: the same random call sequences against @cloudflare/shell's Workspace
// (on better-sqlite3) and ledgerfs's, comparing every result, error code and change event, and
// the whole tree after each call. Calls that meet a deliberate difference (README, "Deliberate
// differences") are skipped on both sides: that is the only thing skipped.
import { Workspace as ShellWorkspace } from '@cloudflare/shell';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shellSqlite } from '../bench/shell-sqlite.ts';
import { openStore, Workspace, type WorkspaceChangeEvent } from '../index.ts';
import { fcParams, RUNS } from './fc.ts';

type Call = { op: string; args: unknown[] };

const DIRS = ['d0', 'd1'];
const FILES = ['f0', 'f1.txt', '.h'];
const LINKS = ['l0'];

const dirPath = fc.constantFrom('', '', '', '/d0', '/d0', '/d1', '/d0/d1', '/d1/d0');
const spelled = (path: string) => fc.constantFrom(path, path.slice(1), `${path}/`, `/./${path}`, `/d0/..${path}`, path.replace(/\//g, '//'));
const pathOf = (last: fc.Arbitrary<string>) => fc.tuple(dirPath, last).map(([dir, name]) => `${dir}/${name}`).chain(spelled);
// a small pool most calls share, so two-path calls (cp, mv, diff) meet what earlier calls made
const POOL = ['/f0', '/d0', '/d0/f0', '/d0/f1.txt', '/d1', '/d1/f0', '/d0/d1', '/d0/d1/f0'];
const anyPath = fc.oneof(
  { arbitrary: fc.constantFrom(...POOL).chain(spelled), weight: 8 },
  { arbitrary: pathOf(fc.constantFrom(...DIRS, ...FILES, ...LINKS)), weight: 4 },
  { arbitrary: fc.constant('/'), weight: 1 },
);
const srcPath = fc.oneof({ arbitrary: fc.constantFrom('/f0', '/d0', '/d0/f0', '/l0'), weight: 3 }, { arbitrary: anyPath, weight: 1 });
const linkPath = pathOf(fc.constantFrom(...LINKS));
const text = fc.oneof(fc.constantFrom('', 'a', 'a\nb\n', 'a\nb\nc\nd\ne\nf\ng\nh\n', 'x\ny'), fc.array(fc.constantFrom('a', 'b', 'c', '\n', 'é'), { maxLength: 24 }).map((cs) => cs.join('')));
const mime = fc.option(fc.constantFrom('text/markdown', 'application/json', 'text/plain'), { nil: undefined });
const target = fc.oneof(anyPath, fc.constantFrom('f0', '../f0', 'd0', '../d1/f1.txt', 'l0', '/nowhere'));
const PATTERNS = ['/**', '/**/*', '/*', '/d0/*', '/d0/**', '/**/*.txt', '/**/f?', '/{d0,d1}/*', '/d?/**', '/**/l0', '/d0/f0', '**/*.txt', '/[d]0/*', '/*/*/*'];

const call: fc.Arbitrary<Call> = fc.oneof(
  { arbitrary: fc.tuple(anyPath, text, mime).map(([p, t, m]) => ({ op: 'writeFile', args: m ? [p, t, m] : [p, t] })), weight: 6 },
  fc.tuple(anyPath, text, mime).map(([p, t, m]) => ({ op: 'writeFileBytes', args: m ? [p, new TextEncoder().encode(t), m] : [p, new TextEncoder().encode(t)] })),
  fc.tuple(anyPath, text).map(([p, t]) => ({ op: 'appendFile', args: [p, t] })),
  anyPath.map((p) => ({ op: 'readFile', args: [p] })),
  anyPath.map((p) => ({ op: 'readFileBytes', args: [p] })),
  anyPath.map((p) => ({ op: 'deleteFile', args: [p] })),
  { arbitrary: fc.tuple(anyPath, fc.boolean()).map(([p, recursive]) => ({ op: 'mkdir', args: [p, { recursive }] })), weight: 3 },
  fc.tuple(anyPath, fc.option(fc.record({ limit: fc.integer({ min: 0, max: 4 }), offset: fc.integer({ min: 0, max: 3 }) }), { nil: undefined }))
    .map(([p, o]) => ({ op: 'readDir', args: o ? [p, o] : [p] })),
  fc.constantFrom(...PATTERNS).map((p) => ({ op: 'glob', args: [p] })),
  fc.tuple(anyPath, fc.boolean(), fc.boolean()).map(([p, recursive, force]) => ({ op: 'rm', args: [p, { recursive, force }] })),
  fc.tuple(srcPath, anyPath, fc.boolean()).map(([a, b, recursive]) => ({ op: 'cp', args: [a, b, { recursive }] })),
  fc.tuple(srcPath, anyPath).map(([a, b]) => ({ op: 'mv', args: [a, b] })),
  anyPath.map((p) => ({ op: 'stat', args: [p] })),
  anyPath.map((p) => ({ op: 'lstat', args: [p] })),
  anyPath.map((p) => ({ op: 'exists', args: [p] })),
  anyPath.map((p) => ({ op: 'fileExists', args: [p] })),
  fc.tuple(target, linkPath).map(([t, p]) => ({ op: 'symlink', args: [t, p] })),
  anyPath.map((p) => ({ op: 'readlink', args: [p] })),
  fc.tuple(srcPath, srcPath).map(([a, b]) => ({ op: 'diff', args: [a, b] })),
  fc.tuple(anyPath, text).map(([p, t]) => ({ op: 'diffContent', args: [p, t] })),
  fc.constant<Call>({ op: 'getWorkspaceInfo', args: [] }),
);

const norm = (path: unknown) => {
  const parts: string[] = [];
  for (const part of String(path).split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '' && part !== '.') parts.push(part);
  }
  return `/${parts.join('/')}`;
};
const within = (path: string, dir: string) => path === dir || dir === '/' || path.startsWith(`${dir}/`);
const base = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/** Why a call meets a deliberate difference, or null: asked of shell's state before the call. */
async function deliberate(shell: ShellWorkspace, db: ReturnType<typeof shellSqlite>['db'], { op, args }: Call): Promise<string | null> {
  const [a, b] = args.map((arg) => (typeof arg === 'string' ? norm(arg) : ''));
  const isDir = async (p: string) => (await shell.stat(p).catch(() => null))?.type === 'directory';
  if ((op === 'writeFile' || op === 'writeFileBytes' || op === 'appendFile') && a !== '/' && (await isDir(a!))) return 'a write onto a directory: shell keeps the content in the directory';
  if (op === 'appendFile') {
    const row = db.prepare('SELECT content_encoding AS e FROM cf_workspace_default WHERE path = ?').get(a) as { e: string } | undefined;
    if (row?.e === 'base64') return 'append to bytes: shell decodes them as text and resets the mime type';
  }
  if (op === 'cp' || op === 'mv') {
    const src = await shell.lstat(a!);
    if (src?.type === 'directory' && (within(b!, a!) || (await shell.lstat(b!)))) return 'a directory into itself, or a merge onto an existing path';
    if (src?.type === 'file' && (await isDir(b!))) return 'a file onto a directory';
    if (src?.type === 'symlink' && !LINKS.includes(base(b!))) return 'symlinks stay at link names, so no path goes through one';
    if (op === 'mv' && a === b) return 'mv onto itself: shell deletes the file';
  }
  if (op === 'symlink' && !LINKS.includes(base(String(b)))) return 'symlinks stay at link names';
  return null;
}

const errorCode = (error: unknown) => {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  const message = error instanceof Error ? error.message : String(error);
  return /^([A-Z0-9]+):/.exec(message)?.[1] ?? `unparsed: ${message}`;
};

/** A result with the times taken out (shell keeps seconds, ledgerfs milliseconds). */
function comparable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(comparable);
  if (value instanceof Uint8Array) return Array.from(value);
  if (value && typeof value === 'object') {
    const { createdAt: _c, updatedAt: _u, ...rest } = value as Record<string, unknown>;
    return rest;
  }
  return value;
}

/** shell's glob can match the root ('/*' does): ledgerfs's never returns it. */
const withoutRoot = (op: string, result: unknown) => (op === 'glob' ? (result as Array<{ path: string }>).filter((e) => e.path !== '/') : result);

async function outcome(workspace: Record<string, (...args: unknown[]) => Promise<unknown>>, { op, args }: Call): Promise<unknown> {
  try {
    return { ok: comparable(withoutRoot(op, await workspace[op]!(...args))) };
  } catch (error) {
    return { error: errorCode(error) };
  }
}

async function tree(workspace: ShellWorkspace | Workspace): Promise<unknown> {
  const entries = withoutRoot('glob', await workspace.glob('/**')) as Array<{ path: string; type: string }>;
  const contents = await Promise.all(entries.filter((e) => e.type === 'file').map(async (e) => [e.path, await workspace.readFile(e.path)]));
  return { entries: comparable(entries), contents };
}

describe('Workspace against @cloudflare/shell', () => {
  it('gives the same results, errors, events and trees for the same calls', async () => {
    await fc.assert(fc.asyncProperty(fc.array(call, { minLength: 8, maxLength: 40 }), async (calls) => {
      const sql = shellSqlite(':memory:');
      const store = openStore();
      const shellEvents: WorkspaceChangeEvent[] = [];
      const ourEvents: WorkspaceChangeEvent[] = [];
      const shell = new ShellWorkspace({ sql: sql.backend, onChange: (e) => shellEvents.push(e) });
      const ours = new Workspace({ sql: store, onChange: (e) => ourEvents.push(e) });
      try {
        await shell.exists('/'); // shell creates its table on first use
        for (const [i, c] of calls.entries()) {
          if (await deliberate(shell, sql.db, c)) continue;
          shellEvents.length = 0;
          ourEvents.length = 0;
          const expected = await outcome(shell as never, c);
          const got = await outcome(ours as never, c);
          const where = `call ${i}: ${c.op}(${JSON.stringify(c.args)})`;
          expect(got, where).toEqual(expected);
          const directoryMove = c.op === 'mv' && shellEvents.some((e) => e.entryType === 'directory');
          if (!directoryMove) expect(ourEvents, `${where} events`).toEqual(shellEvents);
          expect(await tree(ours), `${where} tree`).toEqual(await tree(shell));
        }
        expect(store.verify().ok).toBe(true);
      } finally {
        sql.close();
        store.close();
      }
    }), fcParams({ numRuns: Math.max(1, Math.floor(RUNS / 5)) }));
  });
});
