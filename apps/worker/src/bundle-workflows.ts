/**
 * Build step (`npm run build`, also in the image): bundles the workflow code once into
 * dist/workflow-bundle.js and, with the tracing interceptors, dist/workflow-bundle-traced.js;
 * the worker loads one at start instead of running webpack.
 */
import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import {
  WORKFLOW_BUNDLE_PATHS,
  WORKFLOW_INTERCEPTOR_MODULES,
  WORKFLOWS_PATH,
} from './workflow-bundle';

async function bundle(to: string, workflowInterceptorModules: string[]): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules,
    logger: new DefaultLogger('WARN'),
  });
  writeFileSync(to, code);
  process.stderr.write(`workflow bundle: ${to} (${code.length} bytes)\n`);
}

async function main(): Promise<void> {
  await bundle(WORKFLOW_BUNDLE_PATHS.plain, []);
  await bundle(WORKFLOW_BUNDLE_PATHS.traced, WORKFLOW_INTERCEPTOR_MODULES);
}

main().catch((err: unknown) => {
  process.stderr.write(`workflow bundle failed: ${String(err)}\n`);
  process.exit(1);
});
