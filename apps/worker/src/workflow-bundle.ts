import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** Where the workflow code starts; the same relative path holds in src/ and dist/. */
export const WORKFLOWS_PATH = require.resolve('../../../libs/workflows/src');

/**
 * Bundled with the workflows: OpenTelemetry spans of each workflow run, its activities
 * scheduled with the trace context in their headers. With tracing off the spans go to a no-op
 * sink (temporal-worker.service.ts); the bundle is the same either way.
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];

/**
 * The workflow bundle `npm run build` writes (bundle-workflows.ts): loading it instead of
 * bundling with webpack at start-up is what makes a cold start (scale from zero) fast.
 */
export const WORKFLOW_BUNDLE_PATH = path.resolve(__dirname, '../../../workflow-bundle.js');

/** The prebuilt bundle for `Worker.create`, or a clear error naming the file and the fix. */
export function workflowBundle(codePath = WORKFLOW_BUNDLE_PATH): { codePath: string } {
  if (!existsSync(codePath)) {
    throw new Error(
      `the prebuilt workflow bundle ${codePath} is missing: build it with \`npm run build\``,
    );
  }
  return { codePath };
}
