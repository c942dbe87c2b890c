// Structured logs with pino: one JSON object per line with `timestamp`, `level`, `module`, `event`
// and `context` (Loki and jq read them as they are), pretty-printed when stderr is a terminal.
// Secrets are redacted twice: known keys by pino's redaction, and anything that looks like an
// nsec, a macaroon, an NWC secret or a session cookie by a scrubber over every string.
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface LogOptions {
  readonly level?: LogLevel;
  /** json: always JSON; pretty: human lines; auto (default): pretty on a terminal, JSON otherwise. */
  readonly format?: 'json' | 'pretty' | 'auto';
  /** Where lines go (default stderr; stdout carries the listener lines). */
  readonly destination?: NodeJS.WritableStream;
}

/** Keys whose values never reach a log (at any depth pino's paths reach). */
const SECRET_KEYS = ['nsec', 'secret', 'secretKey', 'sk', 'masterSecret', 'macaroon', 'preimage', 'cookie', 'authorization', 'password', 'connectionUri', 'nwc', 'seed'];
const REDACT_PATHS = [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `context.${k}`), ...SECRET_KEYS.map((k) => `context.*.${k}`), 'context.headers.cookie', 'context.headers.authorization'];

/** Strings that are secrets wherever they appear (messages, nested values, error texts). */
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/nsec1[02-9ac-hj-np-z]{20,}/g, 'nsec1[redacted]'],
  [/(nostr\+walletconnect:\/\/[^\s"']*?[?&]secret=)[0-9a-fA-F]+/g, '$1[redacted]'],
  [/(timmy_session=)[A-Za-z0-9_-]+/g, '$1[redacted]'],
  [/(Nostr )[A-Za-z0-9+/=_-]{40,}/g, '$1[redacted]'],
  // Macaroons are long hex (or base64) blobs; a 64-hex id or key stays, anything from 100 on goes.
  [/\b[0-9a-fA-F]{100,}\b/g, '[redacted hex]'],
];

export function scrub(s: string): string {
  let out = s;
  for (const [re, to] of SECRET_PATTERNS) out = out.replace(re, to);
  return out;
}

function scrubDeep(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return scrub(v);
  if (depth > 6 || v === null || typeof v !== 'object') return v;
  if (v instanceof Error) return { type: v.name, message: scrub(v.message) };
  if (Array.isArray(v)) return v.map((x) => scrubDeep(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = scrubDeep(x, depth + 1);
  return out;
}

export function createLogger(o: LogOptions = {}): Logger {
  const dest = o.destination ?? process.stderr;
  const tty = (dest as NodeJS.WriteStream).isTTY === true;
  const usePretty = o.format === 'pretty' || (o.format !== 'json' && tty);
  const opts: pino.LoggerOptions = {
    // TIMMY_LOG_LEVEL wins over the config (the test runner quiets instances with it).
    level: (process.env.TIMMY_LOG_LEVEL as LogLevel | undefined) ?? o.level ?? 'info',
    base: null,
    messageKey: 'event',
    timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
    formatters: {
      level: (label) => ({ level: label }),
      log: (obj) => scrubDeep(obj) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        // The event name is scrubbed too (it may quote an error message).
        method.apply(this, args.map((a) => (typeof a === 'string' ? scrub(a) : a)) as Parameters<typeof method>);
      },
    },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  const stream = usePretty ? pretty({ destination: dest as NodeJS.WritableStream & { write: (s: string) => boolean }, colorize: tty, messageKey: 'event', timestampKey: 'timestamp', ignore: 'pid,hostname', sync: true }) : dest;
  return pino(opts, stream as pino.DestinationStream);
}

/** A module's logger: `log.info('job.delivered', { job, agent })` → {module, event, context}. */
export interface ModuleLog {
  debug(event: string, context?: Record<string, unknown>): void;
  info(event: string, context?: Record<string, unknown>): void;
  warn(event: string, context?: Record<string, unknown>): void;
  error(event: string, context?: Record<string, unknown>): void;
}

export function moduleLog(root: Logger, module: string): ModuleLog {
  const l = root.child({ module });
  const at = (level: 'debug' | 'info' | 'warn' | 'error') => (event: string, context?: Record<string, unknown>) =>
    context && Object.keys(context).length > 0 ? l[level]({ context }, event) : l[level](event);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
