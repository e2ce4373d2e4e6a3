import {
  cutoffOfCycleId,
  cutoffOfWorkflowId,
  cycleIdFor,
  cycleWorkflowId,
  cycleWorkflowIdPrefix,
  isWholeSecond,
} from './cycle';

describe('settlement-cycle ids', () => {
  const cutoff = new Date('2026-11-29T10:05:00Z');

  it('derive from the cut-off alone, sorting by time', () => {
    expect(cycleIdFor(cutoff)).toBe('20261129T100500Z');
    expect(cycleIdFor(new Date('2026-11-29T09:59:59Z')) < cycleIdFor(cutoff)).toBe(true);
    expect(cutoffOfCycleId('20261129T100500Z')).toEqual(cutoff);
    for (const bad of ['20261329T100500Z', '2026-11-29T10:05:00Z', '20261129T100500', ''])
      expect(cutoffOfCycleId(bad)).toBeUndefined();
  });

  it('match the id Temporal gives the Schedule run of that cut-off (prefix + RFC 3339 second)', () => {
    const id = cycleWorkflowId('transactions', cutoff);
    expect(id).toBe(`${cycleWorkflowIdPrefix('transactions')}-2026-11-29T10:05:00Z`);
    expect(cutoffOfWorkflowId(id)).toEqual(cutoff);
    expect(cutoffOfWorkflowId('cycle-transactions')).toBeUndefined();
  });

  it('accept only whole seconds', () => {
    expect(isWholeSecond(cutoff)).toBe(true);
    expect(isWholeSecond(new Date('2026-11-29T10:05:00.5Z'))).toBe(false);
  });
});
