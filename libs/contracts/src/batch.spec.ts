import { publishStepFor } from './batch';

describe('publishStepFor (does the settleBatch workflow still run publishOutcomes?)', () => {
  it('no: the settle activity published everything', () => {
    expect(publishStepFor('b1', { published: true })).toBeUndefined();
  });

  it('yes, for results of older activity versions (recorded histories replay the old path)', () => {
    expect(publishStepFor('b1', {})).toEqual({ batchId: 'b1' });
  });

  it('yes, when publishing in the settle activity failed', () => {
    expect(publishStepFor('b1', { published: false })).toEqual({ batchId: 'b1' });
  });

  it('yes, and passes on the rows the settle activity sent, so they are only marked', () => {
    expect(publishStepFor('b1', { published: false, sentOutboxRows: ['7', '8'] })).toEqual({
      batchId: 'b1',
      sent: ['7', '8'],
    });
  });
});
