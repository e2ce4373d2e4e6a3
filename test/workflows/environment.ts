// The workflow tier's Temporal: one dev server (the stack's cached Temporal CLI binary, no
// download, no Kafka or PostgreSQL) and one workflow bundle, made once per run by the global
// setup and shared with the test files through the environment.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
// Relative: jest's globalSetup does not map the @settlement aliases.
import { CYCLE_SEARCH_ATTRIBUTES, SEARCH_ATTRIBUTES } from '../../libs/contracts/src';

export const SERVER_ADDRESS_ENV = 'WORKFLOW_TESTS_TEMPORAL_ADDRESS';
export const BUNDLE_PATH_ENV = 'WORKFLOW_TESTS_BUNDLE';
export const WORKFLOWS_PATH = path.resolve(__dirname, '../../libs/workflows/src');

/** The binary scripts/stack/up.sh builds and caches (scripts/stack/lib.sh names the same path). */
export function temporalCliPath(): string {
  const cache = process.env.SETTLEMENT_CACHE ?? path.join(os.homedir(), '.cache/settlement-stack');
  const version = process.env.STACK_TEMPORAL_CLI_VERSION ?? '1.5.1';
  const cached = path.join(cache, `temporal-cli-${version}`, 'bin', 'temporal');
  if (fs.existsSync(cached)) return cached;
  throw new Error(
    `the Temporal CLI is not in ${cached}: run \`npm run stack:up\` once (it builds and caches it)`,
  );
}

/** Every search attribute the workflows upsert: the dev server refuses unknown ones. */
export const WORKFLOW_SEARCH_ATTRIBUTES = [
  ...Object.values(SEARCH_ATTRIBUTES),
  defineSearchAttributeKey(CYCLE_SEARCH_ATTRIBUTES.cutoff, SearchAttributeType.DATETIME),
  defineSearchAttributeKey(CYCLE_SEARCH_ATTRIBUTES.windowStart, SearchAttributeType.DATETIME),
  defineSearchAttributeKey(CYCLE_SEARCH_ATTRIBUTES.status, SearchAttributeType.KEYWORD),
  defineSearchAttributeKey(CYCLE_SEARCH_ATTRIBUTES.transactions, SearchAttributeType.INT),
  defineSearchAttributeKey(CYCLE_SEARCH_ATTRIBUTES.totals, SearchAttributeType.KEYWORD_LIST),
];
