// The HTTP face of a replica: capnweb over a WebSocket on /ws and as HTTP batch on POST /api,
// GET /health, read-only JSON routes (wsd's /__wsd/info and /__wsd/stats) and self-contained
// HTML pages (wsd's /__wsd/timeline). With a token, every route but /health wants
// `Authorization: Bearer <token>`.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { nodeHttpBatchRpcResponse, newWebSocketRpcSession } from 'capnweb';
import { WebSocketServer } from 'ws';
import { MESSAGE_BYTES_MAX } from '../log/index.ts';
import { SELF_CONTAINED_CSP } from '../projections/index.ts';
import type { Session } from './rpc-surface.ts';

export interface HttpServer {
  port: number;
  /** Stops accepting, closes every session, and resolves once the listener is closed. */
  close(): Promise<void>;
}

export interface HttpServerOptions {
  port?: number;
  host?: string;
  /** bearer token required on every route but /health */
  token?: string | null;
  /** one WebSocket session or one HTTP batch (closed when it ends); `caller` names the peer for audit */
  session: (caller: string) => Session;
  /** GET routes that answer JSON */
  json?: Record<string, () => unknown>;
  /** GET routes that answer a self-contained HTML page made for the query (which loads nothing); a BadRequestError is a 400 */
  pages?: Record<string, (query: URLSearchParams) => string>;
  /** routes that answer for themselves (wsd's /mcp), behind the token like the rest */
  handlers?: Record<string, (req: IncomingMessage, res: ServerResponse) => void>;
  /**
   * The largest message (WebSocket frame or /api body) a peer may send. capnweb sends bytes as
   * base64, so a message carries three quarters of this in file bytes. Default 2 MiB.
   */
  messageBytesMax?: number;
}

/** A request the caller got wrong (a bad query): 400, with the message as its one line. */
export class BadRequestError extends Error {}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** A check of `Authorization: Bearer <token>` that takes the same time whatever the guess. */
function authorizer(token: string | null | undefined): (req: IncomingMessage) => boolean {
  if (!token) return () => true;
  const expected = digest(token);
  return (req) => {
    const match = /^bearer +(.+)$/i.exec(req.headers.authorization ?? '');
    return timingSafeEqual(digest(match?.[1] ?? ''), expected) && match !== null;
  };
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

function refuseUpgrade(socket: Duplex, status: string, body: string, headers = ''): void {
  socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${headers}connection: close\r\n\r\n${body}`);
}

/** The target of a request, or null when it does not parse. */
function targetOf(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return null;
  }
}

const callerOf = (transport: string, req: IncomingMessage) => `${transport} ${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const authorized = authorizer(options.token);
  const json = options.json ?? {};
  const messageBytesMax = options.messageBytesMax ?? 2 * MESSAGE_BYTES_MAX;
  const wss = new WebSocketServer({ noServer: true, maxPayload: messageBytesMax });
  const sessions = new Set<Session>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const target = targetOf(req);
    if (target === null) return text(res, 400, 'bad request target\n');
    const path = target.pathname;
    const only = (method: string) => {
      if (req.method === method || (method === 'GET' && req.method === 'HEAD')) return true;
      text(res, 405, 'method not allowed\n', { allow: method === 'GET' ? 'GET, HEAD' : method });
      return false;
    };
    if (path === '/health') {
      if (only('GET')) text(res, 200, 'ok\n');
      return;
    }
    if (!authorized(req)) return text(res, 401, 'unauthorized\n', { 'www-authenticate': 'Bearer' });
    if (path === '/api') {
      if (!only('POST')) return;
      // capnweb reads the whole body: its size must be known, and bounded, first.
      const length = Number(req.headers['content-length']);
      if (req.headers['content-length'] === undefined) return text(res, 411, 'content-length required\n');
      if (!(length <= messageBytesMax)) return text(res, 413, `a batch is at most ${messageBytesMax} bytes\n`);
      const session = options.session(callerOf('http', req));
      nodeHttpBatchRpcResponse(req, res, session.target).finally(() => session.close()).catch((error: Error) => {
        if (!res.headersSent) text(res, 400, `${error.message}\n`);
      });
      return;
    }
    if (path === '/ws') {
      if (only('GET')) text(res, 426, 'upgrade required: /ws speaks capnweb over a WebSocket\n', { upgrade: 'websocket', connection: 'Upgrade' });
      return;
    }
    const handler = options.handlers?.[path];
    if (handler) return handler(req, res);
    const page = options.pages?.[path];
    if (page) {
      if (!only('GET')) return;
      let html: string;
      try {
        html = page(target.searchParams);
      } catch (error) {
        if (error instanceof BadRequestError) return text(res, 400, `${error.message}\n`);
        throw error;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': SELF_CONTAINED_CSP, 'cache-control': 'no-store' });
      res.end(html);
      return;
    }
    const route = path === '/' ? () => ({}) : json[path];
    if (!route) return text(res, 404, 'not found\n');
    if (!only('GET')) return;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(route())}\n`);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (targetOf(req)?.pathname !== '/ws') return refuseUpgrade(socket, '404 Not Found', 'not found\n');
    if (!authorized(req)) return refuseUpgrade(socket, '401 Unauthorized', 'unauthorized\n', 'www-authenticate: Bearer\r\n');
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = options.session(callerOf('ws', req));
      sessions.add(session);
      ws.on('close', () => {
        sessions.delete(session);
        session.close();
      });
      newWebSocketRpcSession(ws as unknown as WebSocket, session.target);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const client of wss.clients) client.terminate();
      for (const session of sessions) session.close();
      sessions.clear();
      server.closeAllConnections();
      await closed;
    },
  };
}
