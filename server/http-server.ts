// The HTTP face of a replica: capnweb over a WebSocket on /ws and as HTTP batch on POST /api,
// GET /health, and read-only JSON routes (wsd's /__wsd/info and /__wsd/stats). With a token,
// every route but /health wants `Authorization: Bearer <token>`.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { nodeHttpBatchRpcResponse, newWebSocketRpcSession, type RpcTarget } from 'capnweb';
import { WebSocketServer } from 'ws';
import { MESSAGE_BYTES_MAX } from '../log/index.ts';

export interface HttpServer {
  port: number;
  /** Stops accepting, closes every session, and resolves once the listener is closed. */
  close(): Promise<void>;
}

/** An RPC target for one session, closed when the session ends. */
export type Session = RpcTarget & { close(): void };

export interface HttpServerOptions {
  port?: number;
  host?: string;
  /** bearer token required on every route but /health */
  token?: string | null;
  /** a target for one WebSocket session or one HTTP batch; `caller` names the peer for audit */
  session: (caller: string) => Session;
  /** GET routes that answer JSON */
  json?: Record<string, () => unknown>;
  /** the largest message a peer may send; capnweb's text encoding adds a third to bytes */
  messageBytesMax?: number;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** A check of `Authorization: Bearer <token>` that takes the same time whatever the guess. */
function authorizer(token: string | null | undefined): (req: IncomingMessage) => boolean {
  if (!token) return () => true;
  const expected = digest(token);
  return (req) => {
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
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

const callerOf = (transport: string, req: IncomingMessage) => `${transport} ${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const authorized = authorizer(options.token);
  const json = options.json ?? {};
  const wss = new WebSocketServer({ noServer: true, maxPayload: 2 * (options.messageBytesMax ?? MESSAGE_BYTES_MAX) });
  const sessions = new Set<Session>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const only = (method: string) => {
      if (req.method === method || (method === 'GET' && req.method === 'HEAD')) return true;
      text(res, 405, 'method not allowed\n', { allow: method });
      return false;
    };
    if (path === '/health') {
      if (only('GET')) text(res, 200, 'ok\n');
      return;
    }
    if (!authorized(req)) return text(res, 401, 'unauthorized\n', { 'www-authenticate': 'Bearer' });
    if (path === '/api') {
      if (!only('POST')) return;
      const session = options.session(callerOf('http', req));
      nodeHttpBatchRpcResponse(req, res, session).finally(() => session.close()).catch((error: Error) => {
        if (!res.headersSent) text(res, 400, `${error.message}\n`);
      });
      return;
    }
    if (path === '/ws') {
      if (only('GET')) text(res, 426, 'upgrade required: /ws speaks capnweb over a WebSocket\n', { upgrade: 'websocket' });
      return;
    }
    const route = path === '/' ? () => ({}) : json[path];
    if (!route) return text(res, 404, 'not found\n');
    if (!only('GET')) return;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(route())}\n`);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/ws') return refuseUpgrade(socket, '404 Not Found', 'not found\n');
    if (!authorized(req)) return refuseUpgrade(socket, '401 Unauthorized', 'unauthorized\n', 'www-authenticate: Bearer\r\n');
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = options.session(callerOf('ws', req));
      sessions.add(session);
      ws.on('close', () => {
        sessions.delete(session);
        session.close();
      });
      newWebSocketRpcSession(ws as unknown as WebSocket, session);
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
