#!/usr/bin/env node
// ledgerfs: command-line tools over a store file (init, log, show, diff, blame, changes, verify,
// replay, compact, mount, bench),
// and the Worker + Durable Object replicas run locally (worker).
// The daemon that serves a replica over HTTP, mounts it and runs commands is bin/wsd.ts.
import { parseArgs } from 'node:util';

const USAGE = `usage: ledgerfs <command> [options]

  init <db>                          create a store file (a new replica with its own origin)
  log <db> [--path P] [--actor A] [--since P] [--until P] [--limit N | --tail N] [--reverse] [--json]
                                     ops in timestamp order with who made them; --path follows a
                                     file through renames, --actor is an exec id, pid or part of a command
  show <db> <op> [--stat] [--json]   one op, its actor and the content diff it made
  diff <db> <from> [<to>] [--stat | --name-only] [--json]
                                     files added, removed, moved and changed between positions
  blame <db> <path> [--at P] [--json]
                                     each line of a text file with the op, time and actor that wrote it
  changes <db> --actor A [--stat | --name-only] [--json]
                                     what one command changed: its files and their diffs
  verify <db>                        rebuild the projections from the log and compare; check chunks
  replay <db> --at <position> --out <dir>
                                     write the tree as it was at an op (ORIGIN:seq) or time
  compact <db> --at <position> [--json]
                                     replace the log up to an op or time with a checkpoint
  mount <db> <mountpoint> [--mode auto|fuse|shim|none] [--at <position>]
                                     serve the store at a directory until SIGTERM/SIGINT
                                     (kernel FUSE, or the shim without it; default FUSE_MOUNT or auto);
                                     --at mounts the past read-only (kernel FUSE)
  fork <db> --at <position> <new.db> [--json]
                                     a new replica whose log is the prefix up to the position
  worker [--dir D] [--port N] [--host H] [--name W] [--json]
                                     run the Worker + Durable Object replicas locally (workerd via
                                     miniflare), storage in D (default .ledgerfs-worker), port 8787
  bench log [--json] [--ops N]       measure the op log (append, batched append, rebuild)
  bench mount [--json]               shell workloads on tmpfs, a fuse-native floor and ledgerfs
  bench sync [--json] [--ops N]      a fresh replica catching up over a loopback WebSocket
  bench history [--json] [--ops N]   log, blame, show, diff and verify on a store with a 1,000-version file

Positions: ORIGIN:seq (or a unique tail of the origin, as log prints it), a bare seq of this
store's own origin, epoch ms, an ISO date (2026-01-31T12:00), or a relative time (90s, 10m, 2h, 3d).
A pager runs when stdout is a terminal (PAGER, default less; PAGER=cat for none).
`;

type Command = (positionals: string[], values: Record<string, string | boolean | undefined>) => Promise<number> | number;

/** Each command loads only what it uses (mount pulls in fuse-native, bench the benchmarks). */
const COMMANDS: Record<string, () => Promise<Command>> = {
  init: async () => (await import('./commands/init.ts')).runInit,
  log: async () => (await import('./commands/log.ts')).runLog,
  show: async () => (await import('./commands/show.ts')).runShow,
  diff: async () => (await import('./commands/diff.ts')).runDiff,
  blame: async () => (await import('./commands/blame.ts')).runBlame,
  changes: async () => (await import('./commands/changes.ts')).runChanges,
  verify: async () => (await import('./commands/verify.ts')).runVerify,
  replay: async () => (await import('./commands/replay.ts')).runReplay,
  compact: async () => (await import('./commands/compact.ts')).runCompact,
  fork: async () => (await import('./commands/fork.ts')).runFork,
  mount: async () => (await import('./commands/mount.ts')).runMount,
  worker: async () => (await import('./commands/worker.ts')).runWorker,
  bench: async () => (await import('./commands/bench.ts')).runBench,
};

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      path: { type: 'string' }, actor: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' },
      since: { type: 'string' }, until: { type: 'string' }, tail: { type: 'string' }, reverse: { type: 'boolean' },
      stat: { type: 'boolean' }, 'name-only': { type: 'boolean' },
      at: { type: 'string' }, out: { type: 'string' }, ops: { type: 'string' }, debug: { type: 'boolean' }, mode: { type: 'string' },
      dir: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const [name, ...rest] = positionals;
  if (values.help || !name) {
    process.stdout.write(USAGE);
    return name || values.help ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`ledgerfs: unknown command '${name}'\n${USAGE}`);
    return 2;
  }
  return (await load())(rest, values);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: Error & { code?: string }) => {
    process.stderr.write(`ledgerfs: ${error.message}\n`);
    process.exitCode = error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || error.code === 'EUSAGE' || error.name === 'PositionError' ? 2 : 1;
  },
);
