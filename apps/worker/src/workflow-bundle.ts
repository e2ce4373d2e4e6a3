import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** Where the workflow code starts; the same relative path holds in src/ and dist/. */
export const WORKFLOWS_PATH = require.resolve('../../../libs/workflows/src');

/**
 * Bundled into the traced bundle only: OpenTelemetry spans of each workflow run, its
 * activities scheduled with the trace context in their headers. The interceptors add no
 * commands, so a history replays the same with either bundle.
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];

/**
 * The workflow bundles `npm run build` writes (bundle-workflows.ts): loading one instead of
 * bundling with webpack at start-up is what makes a cold start (scale from zero) fast. The
 * plain one is what runs unless tracing is on: every new workflow evaluates its bundle, and
 * OpenTelemetry's modules doubled that cost (half the workflow thread's CPU, profiled).
 */
export const WORKFLOW_BUNDLE_PATHS = {
  plain: path.resolve(__dirname, '../../../workflow-bundle.js'),
  traced: path.resolve(__dirname, '../../../workflow-bundle-traced.js'),
} as const;

/** The prebuilt bundle for `Worker.create`, or a clear error naming the file and the fix. */
export function workflowBundle(codePath: string = WORKFLOW_BUNDLE_PATHS.plain): {
  codePath: string;
} {
  if (!existsSync(codePath)) {
    throw new Error(
      `the prebuilt workflow bundle ${codePath} is missing: build it with \`npm run build\``,
    );
  }
  return { codePath };
}
