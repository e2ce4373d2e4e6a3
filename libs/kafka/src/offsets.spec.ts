import { offsetsAtTime } from './offsets';

describe('offsetsAtTime', () => {
  const admin = {
    fetchTopicOffsetsByTimestamp: jest.fn(async (_topic: string, ms?: number) => [
      { partition: 0, offset: String(ms) },
    ]),
    fetchTopicOffsets: jest.fn(async () => [{ partition: 0, offset: '9', high: '9', low: '3' }]),
  };

  it('asks Kafka for the offsets at a time at or after the epoch', async () => {
    await expect(offsetsAtTime(admin, 't', 0)).resolves.toEqual([{ partition: 0, offset: '0' }]);
    await expect(offsetsAtTime(admin, 't', 1.5)).resolves.toEqual([{ partition: 0, offset: '1' }]);
  });

  it('answers the log start for a time before the epoch, never sending it to Kafka', async () => {
    admin.fetchTopicOffsetsByTimestamp.mockClear();
    for (const ms of [-1, -2, -3, -1000])
      await expect(offsetsAtTime(admin, 't', ms)).resolves.toEqual([{ partition: 0, offset: '3' }]);
    expect(admin.fetchTopicOffsetsByTimestamp).not.toHaveBeenCalled();
  });

  it('refuses what is not a time', async () => {
    await expect(offsetsAtTime(admin, 't', Number.NaN)).rejects.toThrow(/not a time/);
  });
});
