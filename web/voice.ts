// The voice endpoints: POST /voice/transcribe (audio → JSON transcript), POST /voice/speak (JSON
// text → audio/wav), GET /voice/info, and the websocket /voice/stream (PCM in, partial and final
// transcripts out). Transcribing and speaking cost CPU seconds, so they need a user like every
// other write (session cookie or NIP-98) and are limited per user and in total; /voice/info is
// public (the dashboard hides its voice button by it, before any login).
// Without a voice service every endpoint answers 503 with a JSON reason.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { VoiceError } from '../voice/engine.js';
import type { WebContext } from './context.js';
import type { WebVoice } from './deps.js';
import { HttpError, sendJson, type Ctx, type Router } from './http.js';

export const VOICE_STREAM_PATH = '/voice/stream';
/** At once, all users together: each recognition takes a core or two. */
export const MAX_VOICE_JOBS = 4;
/** At once, per user (requests and stream sessions each). */
export const MAX_VOICE_JOBS_PER_USER = 2;
/** Requests per user per minute. */
export const VOICE_REQUESTS_PER_MINUTE = 30;
const MAX_FRAME_BYTES = 1024 * 1024;
const STREAM_IDLE_MS = 60_000;

export interface VoiceRoutes {
  /** For the HTTP server's 'upgrade' event: true when the request was ours (answered or upgraded). */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): void;
}

/** Counts work per user and in total; a minute's window of request counts per user. */
class VoiceLimits {
  private running = 0;
  private readonly perUser = new Map<string, number>();
  private readonly recent = new Map<string, number[]>();

  /** Takes a slot or throws 429; call the returned function when done. */
  take(user: string): () => void {
    const now = Date.now();
    const times = (this.recent.get(user) ?? []).filter((t) => now - t < 60_000);
    if (times.length >= VOICE_REQUESTS_PER_MINUTE) throw new HttpError(429, `rate-limited: at most ${VOICE_REQUESTS_PER_MINUTE} voice requests a minute`);
    if (this.running >= MAX_VOICE_JOBS) throw new HttpError(429, 'rate-limited: the voice service is busy, try again shortly');
    const mine = this.perUser.get(user) ?? 0;
    if (mine >= MAX_VOICE_JOBS_PER_USER) throw new HttpError(429, `rate-limited: at most ${MAX_VOICE_JOBS_PER_USER} voice requests at once`);
    times.push(now);
    this.recent.set(user, times);
    if (this.recent.size > 10_000) for (const [u, ts] of this.recent) if (ts.every((t) => now - t >= 60_000)) this.recent.delete(u);
    this.running++;
    this.perUser.set(user, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      const n = (this.perUser.get(user) ?? 1) - 1;
      if (n <= 0) this.perUser.delete(user);
      else this.perUser.set(user, n);
    };
  }
}

function readBytes(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) return Promise.reject(new HttpError(413, `audio larger than ${Math.round(max / 1024 / 1024)} MB`));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new HttpError(413, `audio larger than ${Math.round(max / 1024 / 1024)} MB`));
        req.resume();
      } else parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/** A VoiceError as an HttpError with its status (the edge translates, STYLE rule 5). */
function httpOf(err: unknown): unknown {
  return err instanceof VoiceError ? new HttpError(err.status, err.message) : err;
}

/** Aborted when the client goes away before the answer is written. */
function abortOnClose(c: Ctx): AbortSignal {
  const ac = new AbortController();
  c.res.once('close', () => {
    if (!c.res.writableFinished) ac.abort(new VoiceError('the client went away', 400));
  });
  return ac.signal;
}

export function registerVoice(r: Router, ctx: WebContext): VoiceRoutes {
  const { deps, auth } = ctx;
  const limits = new VoiceLimits();
  const off = () => `voice is not available: ${deps.voiceOff ?? 'the voice service is not running'}`;
  const voiceOr503 = (): WebVoice => {
    if (!deps.voice) throw new HttpError(503, off());
    return deps.voice;
  };

  r.get('/voice/info', (c) => {
    if (!deps.voice) return sendJson(c.res, 200, { available: false, reason: off() });
    sendJson(c.res, 200, deps.voice.info());
  });

  r.post('/voice/transcribe', async (c) => {
    const voice = voiceOr503();
    const info = voice.info();
    if (!info.stt.available) throw new HttpError(503, `speech-to-text is not available: ${info.stt.detail}`);
    // Checked before the body is read: an anonymous upload is refused without reading 25 MB.
    // (A NIP-98 payload tag is not checked against binary audio; the event id is single-use.)
    const user = auth.require(c.req);
    const release = limits.take(user.pubkey);
    try {
      const body = await readBytes(c.req, info.limits.maxBytes);
      const language = c.url.searchParams.get('language') ?? undefined;
      const t = await voice.transcribe(body, c.req.headers['content-type'], { signal: abortOnClose(c), ...(language ? { language } : {}) }).catch((e: unknown) => {
        throw httpOf(e);
      });
      sendJson(c.res, 200, { text: t.text, segments: t.segments, engine: t.engine, language: t.language ?? null });
    } finally {
      release();
    }
  });

  r.post('/voice/speak', async (c) => {
    const voice = voiceOr503();
    const tts = voice.info().tts;
    if (!tts.available) throw new HttpError(503, `text-to-speech is not available: ${tts.detail}`);
    const raw = await c.body();
    const user = auth.require(c.req, raw);
    const release = limits.take(user.pubkey);
    try {
      const b = await c.json<{ text?: unknown; language?: unknown; voice?: unknown }>();
      if (typeof b !== 'object' || b === null || typeof b.text !== 'string') throw new HttpError(400, 'send JSON {"text": "…", "language"?: "en", "voice"?: "…"}');
      if (b.language !== undefined && typeof b.language !== 'string') throw new HttpError(400, 'language must be a string');
      if (b.voice !== undefined && typeof b.voice !== 'string') throw new HttpError(400, 'voice must be a string');
      const wav = await voice
        .speak(b.text, { signal: abortOnClose(c), ...(b.language ? { language: b.language } : {}), ...(b.voice ? { voice: b.voice } : {}) })
        .catch((e: unknown) => {
          throw httpOf(e);
        });
      c.res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(wav.length), 'cache-control': 'no-store' }).end(wav);
    } finally {
      release();
    }
  });

  // The websocket: upgraded by hand (noServer) so it shares the dashboard's port and auth.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const refuse = (socket: Duplex, status: number, error: string) => {
    const body = JSON.stringify({ error });
    const reason = ({ 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 429: 'Too Many Requests', 503: 'Service Unavailable' } as Record<number, string>)[status] ?? 'Error';
    socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  };

  return {
    upgrade(req, socket, head) {
      let path: string;
      try {
        path = new URL(req.url ?? '/', 'http://localhost').pathname;
      } catch {
        return false;
      }
      if (path !== VOICE_STREAM_PATH) return false;
      socket.on('error', () => socket.destroy());
      let release: () => void;
      let voice: WebVoice;
      try {
        voice = voiceOr503();
        const info = voice.info();
        if (!info.stt.available) throw new HttpError(503, `speech-to-text is not available: ${info.stt.detail}`);
        const user = auth.require(req);
        // A browser sends its cookies on a websocket from any page: only our own pages may use them.
        const origin = req.headers.origin;
        if (user.via === 'session' && origin !== undefined && origin !== new URL(auth.requestUrl(req)).origin) throw new HttpError(403, 'cross-origin websocket refused');
        release = limits.take(user.pubkey);
      } catch (err) {
        refuse(socket, err instanceof HttpError ? err.status : 500, (err as Error).message);
        return true;
      }
      wss.handleUpgrade(req, socket, head, (ws) => runSession(ws, voice, release));
      return true;
    },
    close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

type Session = ReturnType<WebVoice['stream']>;

/** One /voice/stream connection: an optional start frame, PCM frames, stop → final, close. */
function runSession(ws: WebSocket, voice: WebVoice, release: () => void): void {
  let session: Session | undefined;
  let finished = false;
  const send = (m: unknown) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };
  const fail = (err: unknown, code = 1011) => {
    if (finished) return;
    finished = true;
    send({ type: 'error', error: (err as Error).message, status: err instanceof VoiceError || err instanceof HttpError ? err.status : 500 });
    session?.close();
    ws.close(code, 'error');
  };
  const open = (o: { sampleRate?: number; encoding?: 's16le' | 'f32le'; language?: string }) => {
    session = voice.stream({ ...o, onPartial: (p) => send({ type: 'partial', text: p.text, segment: p.segment }) });
    send({ type: 'ready', sampleRate: o.sampleRate ?? 16000, encoding: o.encoding ?? 's16le' });
  };
  let idle = setTimeout(() => fail(new VoiceError('no audio for 60 s', 400), 1008), STREAM_IDLE_MS);
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (finished) return;
    clearTimeout(idle);
    idle = setTimeout(() => fail(new VoiceError('no audio for 60 s', 400), 1008), STREAM_IDLE_MS);
    try {
      if (isBinary) {
        if (!session) open({});
        session!.push(toBytes(data));
        return;
      }
      let m: { type?: unknown; sampleRate?: unknown; encoding?: unknown; language?: unknown };
      try {
        m = JSON.parse(toBytes(data).toString('utf8')) as typeof m;
      } catch {
        throw new VoiceError('text frames must be JSON: {"type":"start"|"stop"}', 400);
      }
      if (m?.type === 'start') {
        if (session) throw new VoiceError('the stream has already started', 400);
        if (m.sampleRate !== undefined && typeof m.sampleRate !== 'number') throw new VoiceError('sampleRate must be a number', 400);
        if (m.encoding !== undefined && m.encoding !== 's16le' && m.encoding !== 'f32le') throw new VoiceError('encoding must be "s16le" or "f32le"', 400);
        if (m.language !== undefined && typeof m.language !== 'string') throw new VoiceError('language must be a string', 400);
        open({ ...(m.sampleRate !== undefined ? { sampleRate: m.sampleRate } : {}), ...(m.encoding ? { encoding: m.encoding } : {}), ...(m.language ? { language: m.language } : {}) });
      } else if (m?.type === 'stop') {
        clearTimeout(idle);
        finished = true;
        const s = session ?? (open({}), session!);
        s.stop().then(
          (t) => {
            send({ type: 'final', text: t.text, segments: t.segments, engine: t.engine, language: t.language ?? null });
            ws.close(1000, 'done');
          },
          (err: unknown) => {
            finished = false;
            fail(err);
          },
        );
      } else throw new VoiceError('unknown message type (start, stop)', 400);
    } catch (err) {
      fail(err, 1008);
    }
  });
  ws.on('close', () => {
    clearTimeout(idle);
    release();
    // Stops recognition still running for a client that is gone (harmless after the final).
    session?.close();
    finished = true;
  });
  ws.on('error', () => ws.terminate());
}

function toBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
