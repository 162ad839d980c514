// Output of the history commands: lines to stdout, or through a pager ($PAGER, else less) when
// stdout is a terminal; a reader that goes away (`| head`) ends the command quietly, exit 0.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

export interface Output {
  line(text: string): void;
  /** waits for the pager to exit */
  end(): Promise<void>;
}

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

export function openOutput(options: { pager?: boolean } = {}): Output {
  const pager = options.pager !== false && process.stdout.isTTY ? (process.env.PAGER ?? 'less') : '';
  if (!pager || pager === 'cat') return { line: (text) => void process.stdout.write(`${text}\n`), end: async () => {} };
  // -F quits when the output fits the screen, -R keeps colours, -X leaves it on the screen.
  const child = spawn(pager, { shell: true, stdio: ['pipe', 'inherit', 'inherit'], env: { LESS: 'FRX', ...process.env } });
  const done = new Promise<void>((resolve) => child.on('close', () => resolve()));
  child.stdin.on('error', () => {}); // the user quit the pager early
  return {
    line: (text) => void child.stdin.write(`${text}\n`),
    end: async () => {
      child.stdin.end();
      await done;
    },
  };
}

/** A progress bar on stderr when it is a terminal, for scans of `total` items; none otherwise. */
export function progress(label: string, total: number): { update(done: number): void; stop(): void } {
  if (!process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  // Loaded only for a terminal: its modules would cost every piped run startup time.
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
  const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {value}/{total}`, stream: process.stderr, clearOnComplete: true }, cliProgress.Presets.shades_classic);
  bar.start(total, 0);
  return { update: (done) => bar.update(done), stop: () => bar.stop() };
}

/** Local time to the second, as the human forms show it. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}
