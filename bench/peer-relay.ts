// The benchmark's peer relay: @nostr-relay/core + @nostr-relay/event-repository-sqlite on a `ws` server,
// wired as the package README shows. Run by bench/relay.ts as a child process.
//
//   node dist/bench/peer-relay.js --db <file.sqlite> [--port 0]
//        [--preload <file.jsonl> [--from N] [--to M] [--preload-mode bulk|upsert] [--preload-only]]
//
// Prints `relay listening on ws://127.0.0.1:<port>` once ready; stops on SIGTERM/SIGINT.
// --preload loads events straight into the repository before listening (no signature checks, like a
// bulk import): `upsert` goes through EventRepositorySqlite.upsert() one event at a time (~1-2K/s);
// `bulk` (default) writes the same rows the repository's upsert writes (events, generic_tags,
// events_fts) with prepared statements in large transactions, for kind-1 events without a d tag or
// delegation, and falls back to upsert() for anything else.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { WebSocketServer, type WebSocket } from 'ws';
import { NostrRelay } from '@nostr-relay/core';
import { createOutgoingNoticeMessage, EventUtils, LogLevel, type Event, type IncomingMessage } from '@nostr-relay/common';
import { EventRepositorySqlite } from '@nostr-relay/event-repository-sqlite';
import { extractSearchableContent } from '@nostr-relay/event-repository-sqlite/dist/search.js';

interface Args {
  port: number;
  db: string;
  preload?: string;
  from: number;
  to: number;
  mode: 'bulk' | 'upsert';
  preloadOnly: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { port: 0, db: '', from: 0, to: Number.MAX_SAFE_INTEGER, mode: 'bulk', preloadOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    if (k === '--port') a.port = Number(v());
    else if (k === '--db') a.db = v();
    else if (k === '--preload') a.preload = v();
    else if (k === '--from') a.from = Number(v());
    else if (k === '--to') a.to = Number(v());
    else if (k === '--preload-mode') {
      const m = v();
      if (m !== 'bulk' && m !== 'upsert') throw new Error('--preload-mode is bulk or upsert');
      a.mode = m;
    } else if (k === '--preload-only') a.preloadOnly = true;
    else throw new Error(`unknown argument ${k}`);
  }
  if (!a.db) throw new Error('--db <file> is required');
  return a;
}

async function* lines(file: string, from: number, to: number): AsyncGenerator<string> {
  const input = createReadStream(file, { highWaterMark: 1 << 20 });
  const rl = createInterface({ input, crlfDelay: Infinity });
  let i = 0;
  try {
    for await (const line of rl) {
      if (i >= to) break;
      if (i++ < from || line.length === 0) continue;
      yield line;
    }
  } finally {
    rl.close();
    input.destroy();
  }
}

async function preload(repo: EventRepositorySqlite, args: Args, file: string): Promise<void> {
  const db = repo.getDatabase();
  // Loading only: durability off while filling, back to the repository's default afterwards.
  const prevSync = db.pragma('synchronous', { simple: true });
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -524288'); // 512 MiB page cache for this loading process only (random-key index inserts)
  const insEvent = db.prepare(
    'INSERT OR IGNORE INTO events (id, pubkey, author, kind, created_at, tags, content, sig, d_tag_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insTag = db.prepare('INSERT OR IGNORE INTO generic_tags (tag, event_id, kind, author, created_at) VALUES (?, ?, ?, ?, ?)');
  const insFts = db.prepare('INSERT INTO events_fts (id, content) VALUES (?, ?)');
  const insertBatch = db.transaction((events: Event[]) => {
    let n = 0;
    for (const e of events) {
      const author = EventUtils.getAuthor(e);
      const r = insEvent.run(e.id, e.pubkey, author, e.kind, e.created_at, JSON.stringify(e.tags), e.content, e.sig, null);
      if (r.changes === 0) continue;
      n++;
      const seen = new Set<string>();
      for (const [name, value] of e.tags) {
        if (name === undefined || value === undefined || !/^[a-zA-Z]$/.test(name)) continue;
        const tag = `${name}:${value}`;
        if (seen.has(tag)) continue;
        seen.add(tag);
        insTag.run(tag, e.id, e.kind, author, e.created_at);
      }
      const searchable = extractSearchableContent(e);
      if (searchable) insFts.run(e.id, searchable);
    }
    return n;
  });
  const t0 = performance.now();
  let lastLog = t0;
  let done = 0;
  let inserted = 0;
  let batch: Event[] = [];
  const total = args.to === Number.MAX_SAFE_INTEGER ? undefined : args.to - args.from;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    if (args.mode === 'bulk') {
      const simple = batch.filter((e) => EventUtils.extractDTagValue(e) === null && !e.tags.some((t) => t[0] === 'delegation'));
      inserted += insertBatch(simple);
      for (const e of batch) if (!simple.includes(e) && !(await repo.upsert(e)).isDuplicate) inserted++;
    } else {
      for (const e of batch) if (!(await repo.upsert(e)).isDuplicate) inserted++;
    }
    done += batch.length;
    batch = [];
    const now = performance.now();
    if (now - lastLog > 5_000) {
      lastLog = now;
      console.log(`preload ${done}${total ? `/${total}` : ''} (${Math.round(done / ((now - t0) / 1000))}/s)`);
    }
  };
  for await (const line of lines(file, args.from, args.to)) {
    batch.push(JSON.parse(line) as Event);
    if (batch.length >= 5_000) await flush();
  }
  await flush();
  db.pragma(`synchronous = ${Number(prevSync)}`);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const secs = (performance.now() - t0) / 1000;
  console.log(`preload done: ${inserted} inserted of ${done} in ${secs.toFixed(1)} s (${Math.round(done / secs)}/s, mode ${args.mode})`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const repo = new EventRepositorySqlite(args.db);
  await repo.init();
  if (args.preload) await preload(repo, args, args.preload);
  if (args.preloadOnly) {
    await repo.destroy();
    return;
  }

  const relay = new NostrRelay(repo, { logLevel: LogLevel.WARN });
  const wss = new WebSocketServer({ host: '127.0.0.1', port: args.port });

  wss.on('connection', (ws: WebSocket, req) => {
    relay.handleConnection(ws, req.socket.remoteAddress);
    ws.on('message', (data) => {
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        ws.send(JSON.stringify(createOutgoingNoticeMessage('invalid: message is not JSON')));
        return;
      }
      if (!Array.isArray(msg) || typeof msg[0] !== 'string') {
        ws.send(JSON.stringify(createOutgoingNoticeMessage('invalid: message is not a JSON array')));
        return;
      }
      relay.handleMessage(ws, msg as IncomingMessage).catch((err: unknown) => {
        ws.send(JSON.stringify(createOutgoingNoticeMessage(`error: ${err instanceof Error ? err.message : String(err)}`)));
      });
    });
    ws.on('close', () => relay.handleDisconnect(ws));
    ws.on('error', (err) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(createOutgoingNoticeMessage(err.message)));
    });
  });

  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const addr = wss.address();
  const port = typeof addr === 'object' && addr ? addr.port : args.port;
  console.log(`relay listening on ws://127.0.0.1:${port}`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    for (const c of wss.clients) c.terminate();
    wss.close(() => {
      void relay
        .destroy()
        .then(() => repo.destroy())
        .finally(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(`peer-relay: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
