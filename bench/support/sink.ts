import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface SinkProcess {
  url: string;
  /** Its process, for what the kernel counts of it (CPU, memory). */
  pid: number;
  count(): Promise<{ count: number; bytes: number }>;
  reset(): void;
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startSinkProcess(): Promise<SinkProcess> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./smtp-sink.mjs', import.meta.url)), {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const count = () =>
    new Promise<{ count: number; bytes: number }>((resolve) => {
      const on = (m: { type: string; count: number; bytes: number }) => {
        if (m.type !== 'count') return;
        child.off('message', on);
        resolve({ count: m.count, bytes: m.bytes });
      };
      child.on('message', on);
      child.send('count');
    });
  return {
    url: `smtp://127.0.0.1:${port}`,
    pid: child.pid!,
    count,
    reset: () => child.send('reset'),
    async waitFor(n, timeoutMs = 600_000) {
      const deadline = Date.now() + timeoutMs;
      while ((await count()).count < n) {
        if (Date.now() > deadline) throw new Error(`sink saw fewer than ${n} messages`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  };
}
