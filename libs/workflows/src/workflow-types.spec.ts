import { WORKFLOW_TYPES } from '../../contracts/src/names';
import * as workflows from './index';

// The typed starts (libs/temporal) name a workflow by WORKFLOW_TYPES and take its function's
// type: the name must be the function the worker's bundle exports under that name.
describe('WORKFLOW_TYPES', () => {
  it('names exported workflow functions, each by its own name', () => {
    const exported = workflows as Record<string, unknown>;
    for (const [key, name] of Object.entries(WORKFLOW_TYPES)) {
      expect(name).toBe(key);
      expect(typeof exported[name]).toBe('function');
      expect((exported[name] as { name: string }).name).toBe(name);
    }
  });
});
