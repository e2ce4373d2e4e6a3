// Jest globalSetup of the workflow tier: starts the dev server and bundles the workflows once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import {
  BUNDLE_PATH_ENV,
  SERVER_ADDRESS_ENV,
  temporalCliPath,
  WORKFLOW_SEARCH_ATTRIBUTES,
  WORKFLOWS_PATH,
} from './environment';

declare global {
  var workflowTestEnvironment: TestWorkflowEnvironment | undefined;
}

export default async function setup(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      searchAttributes: WORKFLOW_SEARCH_ATTRIBUTES,
    },
  });
  globalThis.workflowTestEnvironment = env;
  process.env[SERVER_ADDRESS_ENV] = env.address;
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: new DefaultLogger('WARN'),
  });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'workflow-tests-')), 'bundle.js');
  fs.writeFileSync(file, code);
  process.env[BUNDLE_PATH_ENV] = file;
}
