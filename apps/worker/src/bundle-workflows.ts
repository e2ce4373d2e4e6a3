/**
 * Build step (`npm run build`, also in the image): bundles the workflow code once into
 * dist/workflow-bundle.js, which the worker loads at start instead of running webpack.
 */
import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import {
  WORKFLOW_BUNDLE_PATH,
  WORKFLOW_INTERCEPTOR_MODULES,
  WORKFLOWS_PATH,
} from './workflow-bundle';

async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: new DefaultLogger('WARN'),
  });
  writeFileSync(WORKFLOW_BUNDLE_PATH, code);
  process.stderr.write(`workflow bundle: ${WORKFLOW_BUNDLE_PATH} (${code.length} bytes)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`workflow bundle failed: ${String(err)}\n`);
  process.exit(1);
});
