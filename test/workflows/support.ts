import { randomBytes } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import {
  createActivities,
  type ActivityDeps,
  type SettlementActivities,
} from '@settlement/activities';
import { BUNDLE_PATH_ENV, SERVER_ADDRESS_ENV } from './environment';

/**
 * The workflow tier: the production workflows on a real Temporal server (the shared dev
 * server of this tier), their activities stubbed, so a test drives the control flow
 * (retries, timers, cancellation, continue-as-new) in seconds without Kafka or PostgreSQL.
 */
export async function connectTestEnvironment(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const address = process.env[SERVER_ADDRESS_ENV];
  if (!address)
    throw new Error(`${SERVER_ADDRESS_ENV} is unset: run with jest.workflows.config.js`);
  return TestWorkflowEnvironment.createFromExistingServer({ address });
}

let runtimeInstalled = false;
/** Workers log errors only: the tests fail activities on purpose, and a passing run prints test names. */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  } catch {
    // Installed already by the global setup (the same process when jest runs in band).
  }
}

export const uniqueTaskQueue = (label: string) => `wf-${label}-${randomBytes(4).toString('hex')}`;

/** Stubs for the activities a test uses; calling any other one fails the workflow at once. */
export type ActivityStubs = Partial<SettlementActivities>;

/**
 * Every activity the worker registers, by name (createActivities only captures its deps, so
 * none is touched), each failing without retry: an activity a workflow starts to call but a
 * test did not stub shows up as a failure naming it, not as a test that hangs on retries.
 */
const unstubbed = (): ActivityStubs =>
  Object.fromEntries(
    Object.keys(createActivities({} as ActivityDeps)).map((name) => [
      name,
      async () => {
        throw ApplicationFailure.nonRetryable(`activity ${name} is not stubbed in this test`);
      },
    ]),
  );

/** Runs `fn` while a worker serves the workflows with the stubbed activities. */
export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  activities: ActivityStubs,
  fn: () => Promise<T>,
): Promise<T> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: process.env[BUNDLE_PATH_ENV]! },
    activities: { ...unstubbed(), ...activities },
  });
  return worker.runUntil(fn);
}
