import * as path from 'node:path';
import { workflowBundle } from './workflow-bundle';

describe('workflowBundle', () => {
  it('names the missing file and the command that builds it', () => {
    const missing = path.join(__dirname, 'no-such-bundle.js');
    expect(() => workflowBundle(missing)).toThrow(missing);
    expect(() => workflowBundle(missing)).toThrow('npm run build');
  });

  it('hands an existing file to the worker as its code path', () => {
    expect(workflowBundle(__filename)).toEqual({ codePath: __filename });
  });
});
