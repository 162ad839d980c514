// wsd's configuration, read from the environment once at startup. Every value is checked here so
// a misconfigured daemon stops before it mounts or listens, with a message naming the variable.
import { isIP } from 'node:net';
import { isAbsolute, relative, resolve } from 'node:path';
import { parseMountMode, type MountMode } from '../mount/mode.ts';

export interface WsdConfig {
  port: number;
  host: string;
  mountPoint: string;
  mountMode: MountMode;
  /** 'memory' or an absolute file path */
  db: string;
  upstreamUrl: string | null;
  /** sent to the upstream as a bearer token */
  upstreamToken: string | null;
  token: string | null;
  execLogMaxBytes: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly code = 'ECONFIG';
}

const DEFAULT_PORT = 45678;
const DEFAULT_MOUNT_POINT = '/workspace';
const DEFAULT_EXEC_LOG_MAX_BYTES = 16 * 1024 * 1024;

/** Variables older daemons read; silently ignoring them would run with the wrong mount. */
const LEGACY = ['DISABLE_FUSE', 'FUSE_SHIM', 'WSD_FUSE_BACKEND'];

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}; got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Only this machine can reach a loopback address: it is the one place wsd listens without a token. */
function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const v4 = host.startsWith('::ffff:') ? host.slice(7) : host;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return isIP(host) === 6 && /^(0*:)*:?0*1$/.test(host);
}

const inside = (path: string, dir: string) => {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

export function readConfig(env: NodeJS.ProcessEnv): WsdConfig {
  const legacy = LEGACY.filter((name) => env[name] !== undefined);
  if (legacy.length > 0) {
    throw new ConfigError(`${legacy.join(', ')} ${legacy.length > 1 ? 'are' : 'is'} no longer read; set FUSE_MOUNT=auto|fuse|shim|none instead`);
  }
  const mountPoint = env.MOUNT_POINT || DEFAULT_MOUNT_POINT;
  if (!isAbsolute(mountPoint)) throw new ConfigError(`MOUNT_POINT must be an absolute path; got ${JSON.stringify(mountPoint)}`);
  if (resolve(mountPoint) === '/') throw new ConfigError('MOUNT_POINT cannot be /');
  let mountMode: MountMode;
  try {
    mountMode = parseMountMode(env.FUSE_MOUNT || undefined);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const db = env.WSD_DB || 'memory';
  if (db !== 'memory') {
    if (!isAbsolute(db)) throw new ConfigError(`WSD_DB must be 'memory' or an absolute path; got ${JSON.stringify(db)}`);
    if (inside(resolve(db), resolve(mountPoint))) throw new ConfigError(`WSD_DB (${db}) must be outside MOUNT_POINT (${mountPoint})`);
  }
  const upstreamUrl = env.UPSTREAM_URL || null;
  if (upstreamUrl !== null) {
    let url: URL;
    try {
      url = new URL(upstreamUrl);
    } catch {
      throw new ConfigError(`UPSTREAM_URL is not a URL: ${JSON.stringify(upstreamUrl)}`);
    }
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new ConfigError(`UPSTREAM_URL must be a ws:// or wss:// URL (the replica's /ws); got ${JSON.stringify(upstreamUrl)}`);
  }
  const token = env.WSD_TOKEN === undefined ? null : env.WSD_TOKEN;
  if (token === '') throw new ConfigError('WSD_TOKEN is set but empty; unset it to run without auth (on loopback only)');
  // Anyone who reaches the port can run commands as the daemon's user: without a token, only
  // this machine may (a client from another address ran exec('id -un') and got root).
  const host = env.HOST || (token === null ? '127.0.0.1' : '0.0.0.0');
  if (token === null && !isLoopback(host)) throw new ConfigError(`HOST=${host} lets other machines run commands here: set WSD_TOKEN to a secret, or listen on loopback (HOST=127.0.0.1)`);
  return {
    port: integer(env, 'PORT', DEFAULT_PORT, 0, 65535),
    host,
    mountPoint: resolve(mountPoint),
    mountMode,
    db,
    upstreamUrl,
    upstreamToken: env.UPSTREAM_TOKEN || null,
    token,
    execLogMaxBytes: integer(env, 'EXEC_LOG_MAX_BYTES', DEFAULT_EXEC_LOG_MAX_BYTES, 1024, 2 ** 40),
  };
}
