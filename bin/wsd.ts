#!/usr/bin/env node
// wsd: the workspace daemon. Configured by the environment (see README "wsd"); prints one JSON
// line when ready and one when stopped; SIGTERM, SIGINT or SIGHUP, or its parent exiting (npm
// start, npx), shut it down in order and exit 0.
import { spawnSync } from 'node:child_process';
import { StoreFileError } from '../index.ts';
import { stopRequest } from './stop-request.ts';
import { ConfigError, readConfig } from '../server/config.ts';
import { startWsd } from '../server/wsd.ts';

/** Longer than any orderly shutdown step: a stuck one must not keep a container alive. */
const SHUTDOWN_MS_MAX = 30_000;
/** Secrets for the daemon only: commands never inherit them. */
const SECRETS = ['WSD_TOKEN', 'UPSTREAM_TOKEN'];

const say = (event: Record<string, unknown>) => new Promise<void>((done) => process.stdout.write(`${JSON.stringify(event)}\n`, () => done()));

async function main(): Promise<number> {
  // From the first moment: a signal during startup waits for it, then shuts down in order;
  // further signals change nothing (the watchdog bounds a shutdown).
  let stopping: string | null = null;
  const stop = stopRequest().stopped.then((why) => (stopping = why));
  let config;
  try {
    config = readConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`wsd: ${error.message}\n`);
    return 2;
  }
  // A bug that escapes must not leave a dead mount ("Transport endpoint is not connected").
  const crash = (error: unknown) => {
    process.stderr.write(`wsd: fatal: ${(error as Error)?.stack ?? String(error)}\n`);
    if (config.mountMode !== 'none') spawnSync('fusermount', ['-uz', config.mountPoint]);
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  const env = { ...process.env };
  for (const name of SECRETS) {
    delete env[name];
    delete process.env[name];
  }
  let wsd;
  try {
    wsd = await startWsd(config, env);
  } catch (error) {
    if (error instanceof StoreFileError) process.stderr.write(`wsd: WSD_DB: ${error.message}\n`);
    else if (error instanceof ConfigError) process.stderr.write(`wsd: ${error.message}\n`);
    else throw error;
    return 2;
  }
  if (!stopping) await say({ event: 'ready', ...wsd.info() });
  const signal = await stop;
  setTimeout(() => {
    process.stderr.write(`wsd: shutdown took longer than ${SHUTDOWN_MS_MAX / 1000} s, exiting\n`);
    process.exit(1);
  }, SHUTDOWN_MS_MAX).unref();
  await wsd.close();
  await say({ event: 'stopped', signal });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`wsd: ${error.message}\n`);
    process.exit(1);
  },
);
