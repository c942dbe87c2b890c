// The websocket transport of the relay: HTTP (NIP-11 on the same port) plus `ws`. The socket layer
// does no parsing: it hands text frames to the core, which hands them to the ingest workers.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EmbeddedRelay } from './relay.js';
import { relayInfo } from './nip11.js';

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': '*',
  'access-control-allow-methods': 'GET, OPTIONS',
};

export interface RelayServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function serveRelay(relay: EmbeddedRelay, opts: { host: string; port: number; version: string }): Promise<RelayServer> {
  const info = JSON.stringify(relayInfo(relay.cfg, opts.version));
  const server = http.createServer((req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, CORS).end();
      return;
    }
    if ((req.headers.accept ?? '').includes('application/nostr+json')) {
      res.writeHead(200, { ...CORS, 'content-type': 'application/nostr+json' }).end(info);
      return;
    }
    res.writeHead(200, { ...CORS, 'content-type': 'text/plain; charset=utf-8' }).end('This is a Nostr relay (Timmy). Connect with a Nostr client over websocket.\n');
  });
  const core = relay.core;
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    // Frames up to 4x the message limit are read and answered with a clear error; only absurd
    // frames make `ws` drop the connection.
    maxPayload: Math.max(4 * relay.cfg.maxMessageLength, 4 * 1024 * 1024),
  });

  server.on('upgrade', (req, socket, head) => {
    // NIP-01: one endpoint. Paths do not change behaviour here, so only "/" is accepted.
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/' && path !== '') {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\n\r\nthe relay is at /\n');
      return;
    }
    const ip = req.socket.remoteAddress ?? 'unknown';
    const refused = core.admit(ip);
    if (refused) {
      socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\r\n${refused}\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws, ip, req.headers.host ?? ''));
  });

  const alive = new WeakSet<WebSocket>();
  function attach(ws: WebSocket, ip: string, host: string): void {
    alive.add(ws);
    // ws keeps its socket private; corking it batches the frames of one history answer into one write.
    const sock = (ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    const conn = core.handleConnection(
      {
        send: (m) => ws.send(m),
        close: (code, reason) => ws.close(code, reason),
        bufferedAmount: () => ws.bufferedAmount,
        // The close frame queues behind output the client is not reading: give it a second,
        // then destroy the socket so the queued bytes are freed.
        terminate: (code, reason) => {
          ws.close(code, reason);
          setTimeout(() => ws.terminate(), 1000).unref();
        },
        cork: () => sock?.cork(),
        uncork: () => sock?.uncork(),
      },
      ip,
      host,
    );
    ws.on('message', (data, isBinary) => {
      if (isBinary) return void core.handleMessage(conn, (data as Buffer).toString('utf8'));
      core.handleMessage(conn, (data as Buffer).toString('utf8'));
    });
    ws.on('pong', () => alive.add(ws));
    ws.on('close', () => core.handleDisconnect(conn));
    ws.on('error', () => core.handleDisconnect(conn));
  }

  // Drop connections that stopped answering pings (half-open TCP after a client vanished).
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, 60_000);
  heartbeat.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const hostForUrl = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `ws://${hostForUrl}:${addr.port}`,
    port: addr.port,
    async close() {
      clearInterval(heartbeat);
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const ws of wss.clients) ws.close(1001, 'relay shutting down');
      // Clients get a moment to answer the close handshake; the rest are cut.
      await Promise.race([new Promise((r) => setTimeout(r, 500)), Promise.all([...wss.clients].map((ws) => new Promise((r) => ws.once('close', r))))]);
      for (const ws of wss.clients) ws.terminate();
      server.closeAllConnections();
      await closed;
    },
  };
}
