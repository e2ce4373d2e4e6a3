/**
 * npm run config:docs - writes docs/configuration.md and .env.example from the config
 * schemas (libs/config/src/reference.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  renderConfigurationMarkdown,
  renderEnvExample,
  variableDocs,
} from '../libs/config/src/reference';

const root = path.resolve(
  __dirname,
  __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..',
);
const docs = variableDocs(readFileSync(path.join(root, 'libs/config/src/config.ts'), 'utf8'));
writeFileSync(path.join(root, 'docs/configuration.md'), renderConfigurationMarkdown(docs));
writeFileSync(path.join(root, '.env.example'), renderEnvExample(docs));
process.stdout.write(`docs/configuration.md and .env.example: ${docs.length} variables\n`);
