// OpenTelemetry traces (docs/operations.md, "Traces"): off unless OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set. Then the NodeSDK sends our own spans (dvm/tracing.ts,
// agents/llm/router.ts) over OTLP/HTTP; no auto-instrumentation, no OTel metrics or logs (metrics are
// Prometheus at /metrics). The exporter reads the standard OTEL_EXPORTER_OTLP_* variables (headers,
// timeout, certificates) from process.env; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override
// the resource. The SDK is imported only when tracing is on: it takes about 0.4 s to load.
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { VERSION } from '../version.js';

export interface Tracing {
  /** Where spans go, for the start-up note: the OTLP traces URL, or "the given exporter". */
  readonly target: string;
  /** Flushes the spans not yet sent (at most SHUTDOWN_MS) and unregisters the global tracer. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Export here, synchronously as each span ends, instead of OTLP (tests: InMemorySpanExporter). */
  exporter?: SpanExporter;
}

const SHUTDOWN_MS = 5000;

/** The traces URL the OTLP/HTTP exporter will use, as it derives it, or undefined when tracing is off. */
export function tracesUrl(env: NodeJS.ProcessEnv): string | undefined {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (specific) return specific;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!base) return undefined;
  return base.endsWith('/') ? `${base}v1/traces` : `${base}/v1/traces`;
}

/** The URL for a log line: user and password (if anyone put them there) left out. */
function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

export async function startTracing(env: NodeJS.ProcessEnv, o: TracingOptions = {}): Promise<Tracing | undefined> {
  const url = tracesUrl(env);
  if (!o.exporter && (url === undefined || /^(true|1)$/i.test(env.OTEL_SDK_DISABLED?.trim() ?? ''))) return undefined;
  const [{ NodeSDK }, { defaultResource, resourceFromAttributes }, { SimpleSpanProcessor }, { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION }, api] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/semantic-conventions'),
    import('@opentelemetry/api'),
  ]);
  const exporting = o.exporter
    ? { spanProcessors: [new SimpleSpanProcessor(o.exporter)] }
    : { traceExporter: new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter() };
  const sdk = new NodeSDK({
    // Detected attributes (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, host, process) win over these.
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'timmy', [ATTR_SERVICE_VERSION]: VERSION })),
    instrumentations: [],
    // Traces only: without these the SDK would also start OTLP metric and log exporters.
    metricReaders: [],
    logRecordProcessors: [],
    ...exporting,
  });
  sdk.start();
  let done: Promise<void> | undefined;
  return {
    target: o.exporter ? 'the given exporter' : withoutCredentials(url!),
    shutdown() {
      done ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((r) => (timer = setTimeout(r, SHUTDOWN_MS).unref()));
        await Promise.race([sdk.shutdown().catch(() => undefined), late]);
        clearTimeout(timer);
        api.trace.disable();
        api.context.disable();
        api.propagation.disable();
      })();
      return done;
    },
  };
}
