// The Worker in front of the Durable Object replicas: `/workspaces/<name>/ws` (capnweb over a
// WebSocket) and `/workspaces/<name>/api` (capnweb HTTP batch) go to the object named <name>,
// after `Authorization: Bearer <LEDGERFS_TOKEN>` is checked; `/health` answers without a token.
// Without LEDGERFS_TOKEN set (a Worker secret) every workspace route is refused.
import { text, WorkspaceObject } from './durable-object.ts';

export { WorkspaceObject };

/** The part of a Durable Object namespace binding the Worker uses. */
interface Namespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

export interface Env {
  WORKSPACES: Namespace;
  LEDGERFS_TOKEN?: string;
  /** optional: chunk bytes go to this R2 bucket (see log/r2-chunks.ts) */
  CHUNKS?: unknown;
}

/** A workspace name: what a directory or a DNS label would take. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ROUTE = /^\/workspaces\/([^/]+)\/(ws|api)$/;

const decodeName = (raw: string): string | null => {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
};

const digest = async (text: string) => new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));

/** Compares digests of the two tokens, so the time taken says nothing about the guess. */
async function authorized(request: Request, token: string): Promise<boolean> {
  const match = /^bearer +(.+)$/i.exec(request.headers.get('authorization') ?? '');
  const [got, want] = await Promise.all([digest(match?.[1] ?? ''), digest(token)]);
  let diff = 0;
  for (let i = 0; i < want.length; i++) diff |= got[i]! ^ want[i]!;
  return diff === 0 && match !== null;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === '/health') return text(200, 'ok\n');
    const route = ROUTE.exec(pathname);
    if (!route) return text(404, 'not found: workspaces are at /workspaces/<name>/ws and /workspaces/<name>/api\n');
    if (!env.LEDGERFS_TOKEN) return text(503, 'this Worker has no LEDGERFS_TOKEN secret: set one (wrangler secret put LEDGERFS_TOKEN)\n');
    if (!(await authorized(request, env.LEDGERFS_TOKEN))) return text(401, 'unauthorized\n', { 'www-authenticate': 'Bearer' });
    const name = decodeName(route[1]!);
    if (name === null || !NAME.test(name)) return text(400, `bad workspace name ${JSON.stringify(name ?? route[1])}: 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit\n`);
    return env.WORKSPACES.get(env.WORKSPACES.idFromName(name)).fetch(request);
  },
};
