import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkerOptions } from '@temporalio/worker';
import { workflowSpanSink } from '@settlement/observability';

/**
 * What a worker needs for traces across Temporal: each activity runs in a span that is the
 * child of the workflow's (its headers carry the context), and the workflow interceptors in
 * the bundle export their spans through the `exporter` sink. With tracing off the sink
 * drops them and the spans are the API's no-ops.
 */
export function tracingWorkerOptions(): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  const { spanProcessor, resource } = workflowSpanSink();
  return {
    interceptors: {
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: { exporter: makeWorkflowExporter(spanProcessor, resource) },
  };
}
