import fs from 'node:fs';
import path from 'node:path';
import { BUNDLE_PATH_ENV } from './environment';

export default async function teardown(): Promise<void> {
  await globalThis.workflowTestEnvironment?.teardown();
  const bundle = process.env[BUNDLE_PATH_ENV];
  if (bundle) fs.rmSync(path.dirname(bundle), { recursive: true, force: true });
}
