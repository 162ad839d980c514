// How a long-running command (wsd, ledgerfs mount, ledgerfs worker) learns to stop: SIGTERM,
// SIGINT or SIGHUP, or its parent going away. The last is for wrappers that do not pass a
// signal on: `npm start` and `npx wsd` run the daemon as a child, and SIGTERM to npm's pid stops
// npm alone, which would leave the daemon running with its mount.
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
/** How often the parent is checked (a stopped daemon unmounts within this and its shutdown). */
const PARENT_POLL_MS = 500;

export interface StopRequest {
  /** Resolves with the signal's name, or 'parent exited', the first time either happens. */
  stopped: Promise<string>;
  /** Removes other handlers of these signals (a library's that would exit at once), keeping ours. */
  ownSignals(): void;
}

/** Listens from now on: call it first thing, so a signal during startup is not lost. */
export function stopRequest(): StopRequest {
  let stop!: (why: string) => void;
  const stopped = new Promise<string>((done) => (stop = done));
  const handlers = new Map(SIGNALS.map((name) => [name, () => stop(name)]));
  for (const [name, handler] of handlers) process.on(name, handler);
  // Started by init or a supervisor that reaps it (parent 1, or none): nothing to watch.
  const parent = process.ppid;
  if (parent > 1) setInterval(() => process.ppid !== parent && stop('parent exited'), PARENT_POLL_MS).unref();
  return {
    stopped,
    ownSignals: () => {
      for (const [name, handler] of handlers) for (const other of process.listeners(name)) if (other !== handler) process.off(name, other);
    },
  };
}
