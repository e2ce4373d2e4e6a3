import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { knownVariables } from './config';
import { renderConfigurationMarkdown, renderEnvExample, variableDocs } from './reference';

const root = path.resolve(__dirname, '../../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

describe('the generated configuration reference', () => {
  const docs = variableDocs(read('libs/config/src/config.ts'));

  it('documents every variable the apps read, LOG_LEVEL included', () => {
    expect(docs.map((d) => d.name).sort()).toEqual([...new Set(knownVariables())].sort());
    expect(docs.find((d) => d.name === 'LOG_LEVEL')).toMatchObject({ default: 'info' });
    expect(docs.find((d) => d.name === 'KAFKA_BROKERS')).toMatchObject({
      default: '127.0.0.1:9092',
    });
  });

  it('is current in docs/configuration.md and .env.example (else: npm run config:docs)', () => {
    expect(read('docs/configuration.md')).toBe(renderConfigurationMarkdown(docs));
    expect(read('.env.example')).toBe(renderEnvExample(docs));
  });
});
