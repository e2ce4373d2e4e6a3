// Static guard: the domain core imports no framework and no Node module, except node:crypto
// in content-hash.ts; the crypto-free entry never reaches content-hash.ts.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = __dirname;
const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'));
const importsOf = (file: string) =>
  [...readFileSync(join(dir, file), 'utf8').matchAll(/(?:from|import|require\()\s*'([^']+)'/g)].map(
    (m) => m[1],
  );

describe('purity of @settlement/ledger', () => {
  it.each(sources)('%s imports only relative files (or node:crypto for hashing)', (file) => {
    for (const spec of importsOf(file)) {
      if (file === 'content-hash.ts' && spec === 'node:crypto') continue;
      expect(spec).toMatch(/^\.\//);
    }
  });

  it('workflow-safe.ts cannot reach content-hash.ts', () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of importsOf(file)) if (spec.startsWith('./')) visit(`${spec.slice(2)}.ts`);
    };
    visit('workflow-safe.ts');
    expect(seen.has('content-hash.ts')).toBe(false);
    expect(seen.size).toBeGreaterThan(5);
  });

  it('no source converts amounts with Number() or parseInt/parseFloat', () => {
    for (const file of sources) {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(text).not.toMatch(/parseInt|parseFloat/);
      if (file !== 'timestamp.ts') expect(text).not.toMatch(/\bNumber\(/);
    }
  });
});
