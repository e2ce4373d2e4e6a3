/**
 * npm start: ingest, worker and admin in the foreground from dist/, their JSON
 * logs on this terminal. Ctrl-C (SIGINT) or SIGTERM stops all three cleanly: each gets
 * SIGTERM and drains (ingest hands its batches to Temporal, the worker finishes activities).
 */
import { appLoginEnv, appNames, localEnv, spawnApp, stopAll, type Child } from './apps-runner';

async function main(): Promise<void> {
  const envOf = await appLoginEnv(localEnv());
  const children: Child[] = appNames().map((name) => spawnApp(name, envOf(name)));
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('stopping ingest, worker and admin...\n');
    await stopAll(children);
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  for (const c of children) {
    void c.exited.then((code) => {
      if (!stopping) {
        process.stderr.write(`${c.name} exited with ${code}; stopping the others\n`);
        void stop(code || 1);
      }
    });
  }
  process.stderr.write(
    `started ${children.map((c) => `${c.name} (pid ${c.proc.pid})`).join(', ')}; Ctrl-C stops all\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`npm start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
