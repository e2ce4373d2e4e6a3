import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NoopSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** Where spans go: the process's provider registered with the OpenTelemetry API. */
export interface Tracing {
  resource: Resource;
  spanProcessor: SpanProcessor;
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/**
 * Turns tracing on for this process when an OTLP endpoint is configured
 * (OTEL_EXPORTER_OTLP_ENDPOINT, spans sent over OTLP/HTTP to `<endpoint>/v1/traces` in
 * batches) or an exporter is given (tests: in memory, span by span). Otherwise tracing stays
 * off: the API's no-op tracer, nothing recorded, nothing sent. Once per process.
 */
export function startTracing(
  service: string,
  options: { endpoint?: string; exporter?: SpanExporter },
): Tracing | undefined {
  if (active) return active;
  const exporter =
    options.exporter ??
    (options.endpoint
      ? new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` })
      : undefined);
  if (!exporter) return undefined;
  const resource = Resource.default().merge(
    new Resource({ 'service.name': `settlement-${service}` }),
  );
  const spanProcessor = options.exporter
    ? new SimpleSpanProcessor(exporter)
    : new BatchSpanProcessor(exporter);
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // The global provider, AsyncLocalStorage context and W3C trace-context propagation.
  provider.register();
  active = {
    resource,
    spanProcessor,
    shutdown: async () => {
      await provider.shutdown();
      active = undefined;
    },
  };
  return active;
}

/** Sends the spans still queued and turns tracing off (at shutdown; a no-op when off). */
export async function stopTracing(): Promise<void> {
  await active?.shutdown();
}

/** Whether startTracing turned tracing on in this process. */
export function tracingActive(): boolean {
  return active !== undefined;
}

/** The running tracing, or what the worker's workflow sink needs when tracing is off. */
export function workflowSpanSink(): { spanProcessor: SpanProcessor; resource: Resource } {
  return active ?? { spanProcessor: new NoopSpanProcessor(), resource: Resource.default() };
}

const tracer = () => trace.getTracer('settlement');

/**
 * Runs `fn` in a span of its own (the child of the active span, or of `parent`), recording a
 * failure on it. With tracing off this costs a no-op span.
 */
export function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: () => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, parent, async (span) => {
    try {
      return await fn();
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * The trace context a producer put in a Kafka message's headers (W3C `traceparent` and
 * `tracestate`), or the root context when it put none.
 */
export function contextFromHeaders(
  headers: Record<string, string | undefined> | undefined,
): Context {
  if (!headers?.traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, headers);
}
