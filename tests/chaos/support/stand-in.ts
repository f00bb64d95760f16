/**
 * A provider stand-in (tests/stand-ins/<name>.ts) in its own process, driven through its /_stand-in/
 * control API: the faults it injects, and what it recorded. Its own process, so a stand-in holding
 * requests (a provider that hangs) never slows the scenario's driver, and the other way round.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface StandInState {
  /** Requests still to be answered with `status`. */
  fail: number;
  status: number;
  drop: number;
  delayMs: number;
  rate: number;
  /** Requests taken in and not yet answered (held by a delay). */
  inFlight: number;
  messages: number;
  requests: number;
}

export class StandInProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(name: string, args: string[]): Promise<StandInProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', `tests/stand-ins/${name}.ts`, ...args], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const first = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', (line) => {
        lines.close();
        resolve(line);
      });
      child.once('exit', (code) => reject(new Error(`the ${name} stand-in exited (${code}) before listening`)));
    });
    child.stdout!.resume();
    return new StandInProcess(child, (JSON.parse(first) as { url: string }).url);
  }

  get host(): string {
    return new URL(this.url).host;
  }

  private async call<T>(method: string, path: string, params: Record<string, string | number> = {}): Promise<T> {
    const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
    const res = await fetch(`${this.url}/_stand-in/${path}?${query}`, {
      method,
      signal: AbortSignal.timeout(60_000),
    });
    if (!res.ok) throw new Error(`stand-in ${method} ${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  }

  state(): Promise<StandInState> {
    return this.call('GET', 'faults');
  }

  /** `fail`+`status`, `drop`, `delay_ms`, `rate`: see tests/stand-ins/support.ts. */
  faults(params: Record<string, number>): Promise<StandInState> {
    return this.call('POST', 'faults', params);
  }

  /** Recorded messages or requests, filtered by field values and cut down to `fields`. */
  records<T>(kind: 'messages' | 'requests', fields: string[], where: Record<string, string | number> = {}) {
    return this.call<T[]>('GET', kind, { ...where, fields: fields.join(',') });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
