#!/usr/bin/env node
// ledgerfs: command-line tools over a store file (init, log, show, diff, blame, changes, timeline,
// verify, replay, compact, fork, export, import, mount, mcp, bench), and the Worker + Durable Object
// replicas run locally (worker). The daemon that serves a replica over HTTP, mounts it and runs
// commands is bin/wsd.ts. Each command declares its options here, so `ledgerfs help <command>`
// lists every one and an unknown one is a usage error (exit 2).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from './commands/usage.ts';

type Values = Record<string, string | boolean | undefined>;
type Command = (positionals: string[], values: Values) => Promise<number> | number;

interface Option {
  type: 'string' | 'boolean';
  help: string;
}

interface CommandSpec {
  args: string;
  summary: string;
  options: Record<string, Option>;
  /** Each command loads only what it uses (mount pulls in fuse-native, bench the benchmarks). */
  load: () => Promise<Command>;
}

const json: Record<string, Option> = { json: { type: 'boolean', help: 'one JSON line instead of text' } };
const at = (what: string): Record<string, Option> => ({ at: { type: 'string', help: `${what}: a position (see ledgerfs help)` } });
const range: Record<string, Option> = {
  since: { type: 'string', help: 'ops after this position' },
  until: { type: 'string', help: 'ops up to this position' },
};
const listing: Record<string, Option> = {
  stat: { type: 'boolean', help: 'files and line counts only' },
  'name-only': { type: 'boolean', help: 'file names only' },
};

const COMMANDS: Record<string, CommandSpec> = {
  init: { args: '<db>', summary: 'create a store file (a new replica with its own origin)', options: {}, load: async () => (await import('./commands/init.ts')).runInit },
  log: {
    args: '<db>', summary: 'list ops in timestamp order with who made them',
    options: {
      path: { type: 'string', help: 'ops of the file at this path, followed through renames (or anything under a directory)' },
      actor: { type: 'string', help: 'ops made by this exec id, RPC caller, tool call id, actor kind, pid or part of a command' },
      ...range,
      limit: { type: 'string', help: 'the first N ops' },
      tail: { type: 'string', help: 'the last N ops' },
      reverse: { type: 'boolean', help: 'newest first' },
      ...json,
    },
    load: async () => (await import('./commands/log.ts')).runLog,
  },
  show: { args: '<db> <op>', summary: 'one op, its actor and the content diff it made', options: { stat: listing.stat!, ...json }, load: async () => (await import('./commands/show.ts')).runShow },
  diff: { args: '<db> <from> [<to>]', summary: 'files added, removed, moved and changed between two positions, with unified diffs', options: { ...listing, ...json }, load: async () => (await import('./commands/diff.ts')).runDiff },
  blame: { args: '<db> <path>', summary: 'each line of a text file with the op, time and actor that wrote it', options: { ...at('the version to blame (default: now)'), ...json }, load: async () => (await import('./commands/blame.ts')).runBlame },
  changes: {
    args: '<db>', summary: 'what one command changed: its files and their diffs',
    options: { actor: { type: 'string', help: 'the exec id, pid or part of the command (required)' }, ...listing, ...json },
    load: async () => (await import('./commands/changes.ts')).runChanges,
  },
  timeline: {
    args: '<db>', summary: 'one self-contained HTML page: ops over time, a lane per command, conflicts marked, each command\'s and op\'s changed files with diffs',
    options: { out: { type: 'string', help: 'the HTML page to write (required)' }, ...range, ...json },
    load: async () => (await import('./commands/timeline.ts')).runTimeline,
  },
  verify: { args: '<db>', summary: 'rebuild the projections from the log and compare; check chunks (exit 1 on a mismatch)', options: json, load: async () => (await import('./commands/verify.ts')).runVerify },
  replay: {
    args: '<db>', summary: 'write the tree as it was at a position into a directory',
    options: { ...at('the position (required)'), out: { type: 'string', help: 'the directory to write (required)' } },
    load: async () => (await import('./commands/replay.ts')).runReplay,
  },
  compact: {
    args: '<db>', summary: 'replace the log up to a position with a checkpoint, and reclaim the space (stop the wsd or mount serving <db> first)',
    options: { ...at('the cut (default: the newest op an hour old or older)'), ...json },
    load: async () => (await import('./commands/compact.ts')).runCompact,
  },
  fork: { args: '<db> <new.db>', summary: 'a new replica (its own origin) whose log is the prefix up to a position', options: { ...at('the position (required)'), ...json }, load: async () => (await import('./commands/fork.ts')).runFork },
  export: { args: '<db> <file>', summary: 'the workspace up to a position as one portable file: its ops, the chunks they name, its checkpoint', options: { ...at('the position (default: now)'), ...json }, load: async () => (await import('./commands/export.ts')).runExport },
  import: { args: '<file> <new.db>', summary: 'a new store (its own origin) from an export file, every part checked', options: json, load: async () => (await import('./commands/import.ts')).runImport },
  mount: {
    args: '<db> <mountpoint>', summary: 'serve the store at a directory until SIGTERM, SIGINT or SIGHUP',
    options: {
      ...at('mount the past, read-only (kernel FUSE)'),
      mode: { type: 'string', help: 'auto (default, or FUSE_MOUNT), fuse, shim or none' },
      debug: { type: 'boolean', help: "print libfuse's debug output" },
    },
    load: async () => (await import('./commands/mount.ts')).runMount,
  },
  worker: {
    args: '', summary: 'run the Worker + Durable Object replicas locally (workerd via miniflare) until SIGTERM, SIGINT or SIGHUP',
    options: {
      dir: { type: 'string', help: 'storage directory (default .ledgerfs-worker)' },
      port: { type: 'string', help: 'port (default 8787; 0 picks a free one)' },
      host: { type: 'string', help: 'address to listen on (default 127.0.0.1)' },
      name: { type: 'string', help: 'the workspace whose URL is printed (default: default)' },
      ...json,
    },
    load: async () => (await import('./commands/worker.ts')).runWorker,
  },
  mcp: { args: '<db>', summary: 'an MCP server on stdio: the agent tools and the files of the store', options: {}, load: async () => (await import('./commands/mcp.ts')).runMcp },
  bench: {
    args: 'api|history|log|mount|sync', summary: 'benchmarks: the library API beside @cloudflare/shell; log, blame, show, diff and verify at 100k ops; the op log; shell workloads on tmpfs, a fuse-native floor and ledgerfs; a fresh replica catching up from another process and from the Durable Object',
    options: {
      ops: { type: 'string', help: 'ops in the workload (log, sync; default 100000)' },
      reps: { type: 'string', help: 'repetitions of each workload (api; default 3)' },
      ...json,
    },
    load: async () => (await import('./commands/bench.ts')).runBench,
  },
};

/** The version in the package's package.json: one folder up from bin/, two from dist/bin/. */
function version(): string {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  }
}

const POSITIONS = `Positions: ORIGIN:seq (or a unique tail of the origin, as log prints it), a bare seq of this
store's own origin, epoch ms, an ISO date (2026-01-31T12:00), or a relative time (90s, 10m, 2h, 3d).
A pager runs when stdout is a terminal (PAGER, default less; PAGER=cat for none).
`;

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, spec]) => `  ${`${name} ${spec.args}`.padEnd(34)} ${spec.summary}`);
  return `usage: ledgerfs <command> [options]   (ledgerfs help <command> lists its options)\n\n${lines.join('\n')}\n\n${POSITIONS}`;
}

function help(name: string): string {
  const spec = COMMANDS[name]!;
  const options = Object.entries({ ...spec.options, help: { type: 'boolean', help: 'this text' } as Option })
    .map(([option, { type, help: text }]) => `  --${option}${type === 'string' ? ' <value>' : ''}`.padEnd(26) + ` ${text}`);
  return `usage: ledgerfs ${name} ${spec.args}\n\n${spec.summary}\n\noptions:\n${options.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v') return void process.stdout.write(`ledgerfs ${version()}\n`), 0;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === 'help') {
    const topic = rest[0];
    if (topic !== undefined && !COMMANDS[topic]) throw new UsageError(`no command '${topic}'; the commands are ${Object.keys(COMMANDS).join(', ')}`);
    process.stdout.write(topic === undefined ? usage() : help(topic));
    return 0;
  }
  const spec = COMMANDS[name];
  if (!spec) throw new UsageError(`unknown command '${name}'; the commands are ${Object.keys(COMMANDS).join(', ')} (ledgerfs help)`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, options: { ...spec.options, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('. ')[0]} (ledgerfs help ${name})`);
  }
  if (parsed.values.help) return void process.stdout.write(help(name)), 0;
  return (await spec.load())(parsed.positionals, parsed.values);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: Error & { code?: string }) => {
    process.stderr.write(`ledgerfs: ${error.message}\n`);
    process.exitCode = error.code === 'EUSAGE' || error.name === 'PositionError' ? 2 : 1;
  },
);
