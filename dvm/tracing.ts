// Traces of jobs (docs/operations.md, "Traces"). Only @opentelemetry/api: without an SDK (tracing
// off, the default) every call here is a no-op that allocates a non-recording span and keeps nothing.
// main/obs/tracing.ts starts the SDK when OTEL_EXPORTER_OTLP_ENDPOINT is set.
//
// One `timmy.job` span per job, from the request event to a terminal state; the job's phases are
// its children: timmy.ingest, timmy.quote, timmy.payment, timmy.auction, timmy.inputs, timmy.skill,
// timmy.publish, timmy.payment.release / timmy.payment.refund. A job runs in several async steps
// and may wait for days (approval, payment), so the root span is kept by job id while the job is in
// progress in this process. A job resumed after a restart gets a new root (timmy.job.resumed).
//
// Work inside a skill nests under timmy.skill through the active context: timmy.llm in
// agents/llm/router.ts. Voice (speech to text, text to speech) and memory (recall, store) do not
// exist yet: their clients should open `timmy.voice` and `timmy.memory` spans the same way, with
// inSpan() below, and they will attach under the skill that calls them.
import { context, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import type { JobState } from './jobs/states.js';

/** The tracer, looked up per span so that a provider registered (or replaced) later is used. */
const tracer = () => trace.getTracer('timmy');

export function recordError(span: Span, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  span.recordException(e);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
}

/**
 * Runs `f` in a new span, active inside `f` so nested spans attach to it; ends it when `f` settles.
 * A rejection is recorded on the span (status ERROR) and passed on.
 */
export function inSpan<T>(name: string, attributes: Attributes, f: (span: Span) => T | Promise<T>, parent: Context = context.active()): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, parent, async (span) => {
    try {
      const v = await f(span);
      span.setStatus({ code: SpanStatusCode.OK });
      return v;
    } catch (err) {
      recordError(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

interface Root {
  readonly span: Span;
  failed: boolean;
}

/** The root spans of the jobs in progress in this process. */
export class JobTraces {
  private readonly roots = new Map<string, Root>();

  /** The job's root span; started now if it has none here (a new request, or a job resumed after a restart). */
  private root(id: string, kind: number, resumed: boolean): Root {
    let r = this.roots.get(id);
    if (r) return r;
    const span = tracer().startSpan('timmy.job', { root: true, attributes: { 'timmy.job.id': id, 'timmy.job.kind': kind, ...(resumed ? { 'timmy.job.resumed': true } : {}) } });
    r = { span, failed: false };
    if (span.isRecording()) this.roots.set(id, r);
    return r;
  }

  /** Starts a new job's root and its `timmy.ingest` child; the caller ends the child once the request is recorded. */
  ingest(id: string, kind: number): { end(): void } {
    const root = this.root(id, kind, false).span;
    const span = tracer().startSpan('timmy.ingest', { attributes: { 'timmy.job.id': id } }, trace.setSpan(context.active(), root));
    return {
      end() {
        span.setStatus({ code: SpanStatusCode.OK });
        span.end();
      },
    };
  }

  /** Runs `f` in a child span of the job's root (see inSpan). */
  span<T>(job: { readonly id: string; readonly kind: number }, name: string, attributes: Attributes, f: (span: Span) => T | Promise<T>): Promise<T> {
    return inSpan(name, attributes, f, trace.setSpan(context.active(), this.root(job.id, job.kind, true).span));
  }

  /** True while the job has a recording root span here. */
  open(id: string): boolean {
    return this.roots.has(id);
  }

  /** Records why the job failed on its root (status ERROR). */
  fail(id: string, err: unknown): void {
    const r = this.roots.get(id);
    if (!r) return;
    r.failed = true;
    recordError(r.span, err);
  }

  /** Ends the job's root at its terminal state: OK when delivered, ERROR when fail() was called. */
  end(id: string, state: JobState): void {
    const r = this.roots.get(id);
    if (!r) return;
    this.roots.delete(id);
    r.span.setAttribute('timmy.job.state', state);
    if (state === 'delivered' && !r.failed) r.span.setStatus({ code: SpanStatusCode.OK });
    r.span.end();
  }

  /** Ends every root still open (the instance stops; a restart resumes the jobs under new roots). */
  endAll(why: string): void {
    for (const r of this.roots.values()) {
      r.span.setAttribute('timmy.job.suspended', true);
      r.span.addEvent(why);
      r.span.end();
    }
    this.roots.clear();
  }
}
