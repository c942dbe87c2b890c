// Reading the Prometheus text exposition (format 0.0.4) in tests: every line is a comment or a
// sample `name{label="value",...} value`; anything else is reported as bad.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  /** `# TYPE` per metric family. */
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
  /** Lines that are neither a comment nor a sample. */
  readonly bad: readonly string[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (NaN|[+-]Inf|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?: -?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

function parseLabels(s: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < s.length) {
    const m = LABEL.exec(s);
    if (!m) return undefined;
    out[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  }
  return out;
}

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const bad: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (t) types.set(t[1]!, t[2]!);
      else if (!/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line)) bad.push(line);
      continue;
    }
    const m = SAMPLE.exec(line);
    const labels = m ? parseLabels(m[2] ?? '') : undefined;
    if (!m || !labels) {
      bad.push(line);
      continue;
    }
    samples.push({ name: m[1]!, labels, value: Number(m[3]!.replace('Inf', 'Infinity')) });
  }
  return { types, samples, bad };
}

/** The family a sample or a PromQL series name belongs to (`x_bucket` of histogram `x` -> `x`). */
export function familyOf(name: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(name)) return name;
  const m = /^(.*)_(bucket|sum|count|total|created)$/.exec(name);
  if (m && types.has(m[1]!)) return m[1]!;
  return undefined;
}

/** Sum of the samples named `name` whose labels include `labels`. */
export function valueOf(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  return e.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

/** Whether any sample is named `name` with these labels. */
export function has(e: Exposition, name: string, labels: Record<string, string> = {}): boolean {
  return e.samples.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}
