import type { Producer } from 'kafkajs';
import { LoadGenerator, VALID_ONLY } from './generator';
import { publish } from './load';

/** Records what publish hands over; the Kafka side is the integration tests'. */
function recordingProducer() {
  const sends: { key: string | null; value: string }[][] = [];
  const producer = {
    send: async ({ messages }: { messages: { key: string | null; value: string }[] }) => {
      sends.push(messages);
      return [];
    },
  } as unknown as Producer;
  return { producer, sends };
}

describe('publish', () => {
  const gen = () => new LoadGenerator({ runId: 'p', accounts: 10, seed: 3, mix: VALID_ONLY });

  it('records the produce time of every message by default', async () => {
    const { producer, sends } = recordingProducer();
    const producedAt = new Map<string, number>();
    const g = gen();
    const { sent } = await publish(producer, () => g.next(), {
      topic: 't',
      count: 25,
      chunk: 7,
      producedAt,
    });
    expect(sent).toBe(25);
    expect(sends.map((s) => s.length)).toEqual([7, 7, 7, 4]);
    expect(producedAt.size).toBe(25);
  });

  it('records every n-th message only when sampling, counted across sends', async () => {
    const { producer, sends } = recordingProducer();
    const producedAt = new Map<string, number>();
    const g = gen();
    await publish(producer, () => g.next(), {
      topic: 't',
      count: 25,
      chunk: 7,
      producedAt,
      sampleEvery: 10,
    });
    const ids = sends.flat().map((m) => (JSON.parse(m.value) as { id: string }).id);
    expect([...producedAt.keys()]).toEqual([ids[0], ids[10], ids[20]]);
  });
});
