import { MockActivityEnvironment } from '@temporalio/testing';
import { heartbeating } from './heartbeat';

describe('heartbeating (under MockActivityEnvironment)', () => {
  it('heartbeats the current details while the work runs, and stops when it ends', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    let sent = 0;
    const result = await env.run(() =>
      heartbeating(
        async () => {
          for (; sent < 5; sent++) await new Promise((r) => setTimeout(r, 25));
          return 'done';
        },
        () => ({ sent }),
        10,
      ),
    );
    expect(result).toBe('done');
    // Details are read at each beat: they grow with the work, never run ahead of it.
    expect(beats.length).toBeGreaterThanOrEqual(3);
    const counts = beats.map((b) => (b as { sent: number }).sent);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts.every((n) => n <= 5)).toBe(true);
    const after = beats.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(beats.length).toBe(after);
  });

  it('stops heartbeating when the work fails, and lets the failure through', async () => {
    const env = new MockActivityEnvironment();
    let beats = 0;
    env.on('heartbeat', () => beats++);
    await expect(
      env.run(() =>
        heartbeating(
          async () => {
            await new Promise((r) => setTimeout(r, 40));
            throw new Error('Kafka is down');
          },
          undefined,
          10,
        ),
      ),
    ).rejects.toThrow('Kafka is down');
    const after = beats;
    expect(after).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(beats).toBe(after);
  });
});
