// The timeline page as a user gets it: `ledgerfs timeline` on the store of a real kernel FUSE mount
// that shell commands changed (printf, sed -i, mv, touch, rm), and on a store where two replicas
// edited one file and made one name concurrently; each page opened in headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core): the lanes name the commands, a click on a command
// or an op shows its files and diffs, conflicts are marked, names and commands stay text, and the
// page fetches nothing. Screenshots go to LEDGERFS_SCREENSHOTS when set (else a temp dir).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncOnce } from '../client/index.ts';
import { FileSystem, openStore } from '../index.ts';
import { SyncService } from '../server/sync-service.ts';
import { mountFresh, removeDir, type Mounted } from '../spec/harness/mounted.ts';
import { CLI } from '../spec/harness/cli.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const A = '01JD3Q4Z5X6Y7Z8A9B0C1D2E3A';
const B = '01JD3Q4Z5X6Y7Z8A9B0C1D2E3B';
/** A file name and a command line that would be markup if the page wrote them as HTML. */
const TRICKY_NAME = '<img src=x onerror=alert(1)>.txt';
const TRICKY_COMMAND = '</script><script>alert(2)</script> && echo B';

const dir = mkdtempSync(join(tmpdir(), 'ledgerfs-timeline-'));
const shots = process.env.LEDGERFS_SCREENSHOTS ?? join(dir, 'shots');
let m: Mounted;
let browser: BrowserContext;

function timeline(db: string, out: string) {
  const started = performance.now();
  const result = spawnSync(process.execPath, [CLI, 'timeline', db, '--out', out, '--json'], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return { ...(JSON.parse(result.stdout) as { bytes: number; ops: number; lanes: number; conflicts: number; cut: { ops: boolean; diffs: boolean } }), ms: performance.now() - started };
}

/** Opens a page file; what it fetched (anything but itself), the errors it threw and the dialogs it opened are collected. */
async function open(file: string): Promise<{ page: Page; fetched: string[]; problems: string[] }> {
  const page = await browser.newPage();
  const fetched: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => { if (request.url() !== `file://${file}`) fetched.push(request.url()); });
  page.on('pageerror', (error) => problems.push(`error: ${error.message}`));
  page.on('dialog', (dialog) => { problems.push(`dialog: ${dialog.message()}`); void dialog.dismiss(); });
  await page.goto(`file://${file}`);
  return { page, fetched, problems };
}

const laneNamed = (page: Page, text: string) => page.locator('.lane-label', { hasText: text });

beforeAll(async () => {
  if (!existsSync('/dev/fuse')) throw new Error('/dev/fuse is missing: this test needs kernel FUSE');
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the timeline page test needs Debian's chromium (apt-get install chromium; .ci/run installs it)`);
  mkdirSync(shots, { recursive: true });
  m = await mountFresh('ledgerfs-timeline-mount-');
  browser = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  if (m) {
    await m.stop();
    removeDir(m.dir);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('ledgerfs timeline of a kernel FUSE session', () => {
  it('writes one page whose lanes name the commands; a click on a command or an op shows its files and diffs', async () => {
    // One shell per command, as an agent runs them (bash execs a last command in place: a shell
    // that wrote first would name that command's ops, the command line being read once per process).
    for (const command of ['mkdir -p src', "printf 'hello\\nthere\\n' > src/a.txt", 'sed -i s/hello/world/ src/a.txt', 'mv src/a.txt src/b.txt', `touch '${TRICKY_NAME}'`, 'echo junk > junk.txt', 'rm junk.txt']) {
      m.sh(`cd ${m.mnt} && ${command}`);
    }
    const out = join(dir, 'session.html');
    const made = timeline(m.db, out);
    process.stdout.write(`timeline of the mount session: ${made.ops} ops, ${made.lanes} lanes, ${made.bytes} bytes, ${Math.round(made.ms)} ms (the CLI process)\n`);
    expect(made).toMatchObject({ conflicts: 0, cut: { ops: false, diffs: false } });
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<meta http-equiv="content-security-policy"');
    expect(html).not.toMatch(/<[a-z]+[^>]*\s(src|href)=/i);
    expect(html).not.toContain(TRICKY_NAME);

    const { page, fetched, problems } = await open(out);
    const lanes = await page.locator('.lane-label').allTextContents();
    for (const command of ['mkdir -p src', 'sed -i s/hello/world/ src/a.txt', 'mv src/a.txt src/b.txt', `touch ${TRICKY_NAME}`, 'rm junk.txt']) {
      expect(lanes.some((lane) => lane.includes(command)), `a lane names ${command}: ${lanes.join(' | ')}`).toBe(true);
    }

    await laneNamed(page, 'sed -i').click();
    const detail = page.locator('#detail');
    expect(await detail.locator('.change h3').allTextContents()).toEqual(['M /src/a.txt+1 -1']);
    expect(await detail.locator('pre.diff .del').allTextContents()).toEqual(['-hello']);
    expect(await detail.locator('pre.diff .add').allTextContents()).toEqual(['+world']);
    await page.screenshot({ path: join(shots, 'session-sed.png'), fullPage: true });

    await laneNamed(page, 'mv src/a.txt').click();
    expect(await detail.locator('.change h3').allTextContents()).toEqual(['R /src/a.txt -> /src/b.txt']);

    const rm = await laneNamed(page, 'rm junk.txt').getAttribute('data-lane');
    await page.locator(`.row[data-lane="${rm}"] .op`).first().click();
    expect(await detail.locator('h2').textContent()).toMatch(/^op \d+ · unlink \/junk\.txt$/);
    expect(await detail.locator('.change h3').allTextContents()).toEqual(['D /junk.txt+0 -1']);
    expect(await detail.locator('pre.diff .del').allTextContents()).toEqual(['-junk']);

    await laneNamed(page, 'touch').click();
    expect(await detail.locator('.change h3').allTextContents()).toEqual([`A /${TRICKY_NAME}`]);
    await page.screenshot({ path: join(shots, 'session-touch.png'), fullPage: true });
    expect([fetched, problems]).toEqual([[], []]);
  });
});

describe('ledgerfs timeline of concurrent edits on two replicas', () => {
  it('marks the conflict copy and the duplicate name, keeps a command that looks like markup text, bounds a diff', async () => {
    const db = join(dir, 'replicas.db');
    const replica = (origin: string, file?: string) => {
      const clock = { ms: Date.now() - 60_000, now: () => clock.ms };
      const store = openStore({ file, clock, mintOrigin: () => origin });
      return { store, fs: FileSystem.live(store), clock };
    };
    const a = replica(A, db);
    const b = replica(B);
    const lines = (from: number) => Array.from({ length: 3000 }, (_, i) => `${from + i}\n`).join('');
    a.fs.as({ kind: 'tool', id: 'toolu_1', name: 'write' }).writeFile('/notes.md', 'base\n');
    a.fs.as({ kind: 'tool', id: 'toolu_1', name: 'write' }).writeFile('/big.txt', lines(0));
    await syncOnce(b.store, new SyncService(a.store));
    a.clock.ms += 10;
    a.fs.as({ kind: 'exec', id: 'exec_A', command: 'echo A >> notes.md' }).writeFile('/notes.md', 'base\nfrom A\n');
    a.fs.as({ kind: 'rpc', id: 'ws 10.0.0.1:4444' }).writeFile('/todo.txt', 'A\n');
    a.fs.as({ kind: 'rpc', id: 'ws 10.0.0.1:4444' }).writeFile('/big.txt', lines(10_000));
    b.clock.ms += 20;
    b.fs.as({ kind: 'exec', id: 'exec_B', command: TRICKY_COMMAND }).writeFile('/notes.md', 'base\nfrom B\n');
    b.fs.as({ kind: 'rpc', id: 'ws 10.0.0.2:5555' }).writeFile('/todo.txt', 'B\n');
    await syncOnce(a.store, new SyncService(b.store));
    const names = a.fs.readdir('/').map((entry) => Buffer.from(entry.name).toString()).sort();
    a.store.close();
    b.store.close();
    expect(names).toEqual(['big.txt', `notes.conflict-${A}-5.md`, 'notes.md', `todo.dup-${A}-6.txt`, 'todo.txt']);

    const out = join(dir, 'replicas.html');
    expect(timeline(db, out)).toMatchObject({ conflicts: 2, lanes: 5 });
    const { page, fetched, problems } = await open(out);
    const conflicts = page.locator('#conflicts li');
    expect(await conflicts.allTextContents()).toEqual([
      `Two entries named /todo.txt, placed by ops 6 and 1D2E3B:2; the entry placed first shows as /todo.dup-${A}-6.txt`,
      `Concurrent edits of /notes.md by ops 5 and 1D2E3B:1; the older edit shows as /notes.conflict-${A}-5.md`,
    ]);
    expect(await page.locator('.op.conflict').count()).toBe(4);
    expect(await laneNamed(page, 'on replica 1D2E3B').count()).toBe(2);
    expect(await laneNamed(page, TRICKY_COMMAND).count()).toBe(1);

    await conflicts.nth(1).getByRole('button', { name: '1D2E3B:1' }).click();
    const detail = page.locator('#detail');
    expect(await detail.locator('h2').textContent()).toBe('op 1D2E3B:1 · setContent /notes.md');
    expect(await detail.locator('.conflict-note').textContent()).toContain(`/notes.conflict-${A}-5.md`);
    expect(await detail.locator('pre.diff .add').allTextContents()).toEqual(['+from B']);
    await page.screenshot({ path: join(shots, 'replicas-conflict.png'), fullPage: true });

    // a rewrite of 3,000 lines with 3,000 others is more edit than a page's diff looks for
    await laneNamed(page, 'rpc ws 10.0.0.1:4444').click();
    expect(await detail.locator('.change h3').allTextContents()).toEqual(['A /todo.txt+1 -0', 'M /big.txt']);
    expect(await detail.locator('.change .note').allTextContents()).toEqual(['too many edits']);
    expect(await page.title()).toBe('replicas.db · ledgerfs timeline');
    expect([fetched, problems]).toEqual([[], []]);
  });
});
