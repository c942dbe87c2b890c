// Download progress for people: bytes, percent, rate, ETA. On a terminal one line is rewritten
// in place (\r); into a file or a pipe (CI logs, tests) a line every few seconds, so a log of a
// 500 MB download stays short and still shows it is alive.

export interface ProgressSink {
  /** `bytes` so far (including what a resumed .part already had); `total` when the server said. */
  update(bytes: number, total?: number): void;
  /** The last line: `note` says how it ended ("done", "resumed at …", "failed: …"). */
  end(note: string): void;
}

export type ProgressFactory = (label: string) => ProgressSink;

export interface ProgressOptions {
  readonly out?: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  /** Default: whether `out` is a TTY. */
  readonly tty?: boolean;
  /** Lines when not on a TTY, at most this often (default 5000 ms). */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One progress line, e.g. "whisper-tiny onnx/encoder_model.onnx  12 MB / 31 MB  38%  5.1 MB/s  ETA 4s". */
export function progressLine(label: string, bytes: number, total: number | undefined, rate: number): string {
  const parts = [label, total !== undefined ? `${formatBytes(bytes)} / ${formatBytes(total)}` : formatBytes(bytes)];
  if (total) parts.push(`${Math.min(100, Math.floor((bytes / total) * 100))}%`);
  if (rate > 0) parts.push(`${formatBytes(rate)}/s`);
  if (total && rate > 0 && bytes < total) parts.push(`ETA ${formatDuration((total - bytes) / rate)}`);
  return parts.join('  ');
}

export function stderrProgress(o: ProgressOptions = {}): ProgressFactory {
  const out = o.out ?? process.stderr;
  const tty = o.tty ?? Boolean(out.isTTY);
  const interval = tty ? 100 : (o.intervalMs ?? 5000);
  const now = o.now ?? Date.now;
  return (label) => {
    const started = now();
    let base: number | undefined; // bytes at the first update: a resume's head start is not "rate"
    // On a TTY the line shows at once; in a log the first line waits one interval, so a small file is one line.
    let last = tty ? -Infinity : started;
    let bytes = 0;
    let total: number | undefined;
    let width = 0;
    const line = (): string => {
      const secs = (now() - started) / 1000;
      const rate = base !== undefined && secs > 0 ? (bytes - base) / secs : 0;
      return progressLine(label, bytes, total, rate);
    };
    const write = (s: string, final: boolean): void => {
      if (tty) {
        // A line longer than the terminal wraps, and \r would then rewrite only its last part.
        if (out.columns && s.length >= out.columns) s = s.slice(0, out.columns - 1);
        out.write(`\r${s}${' '.repeat(Math.max(0, width - s.length))}${final ? '\n' : ''}`);
        width = s.length;
      } else {
        out.write(`${s}\n`);
      }
    };
    return {
      update(b, t) {
        bytes = b;
        if (t !== undefined) total = t;
        if (base === undefined) base = b;
        const at = now();
        if (at - last >= interval) {
          last = at;
          write(line(), false);
        }
      },
      end(note) {
        write(`${line()}  ${note}`, true);
      },
    };
  };
}

/** For library callers that want no output. */
export const silentProgress: ProgressFactory = () => ({ update() {}, end() {} });
