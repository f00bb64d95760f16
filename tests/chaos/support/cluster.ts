/**
 * A private PostgreSQL cluster for fault tests: initdb into a temporary directory and pg_ctl on a free
 * port, so a test can stop it (`-m immediate`) without touching the machine's shared server that other
 * suites use. As root, initdb and pg_ctl run as the `postgres` OS user, which owns the directory.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { migratePostgres } from '../../../src/db/migrate.js';
import { freePort } from './util.js';

function findBindir(): string {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('no PostgreSQL server binaries (initdb) under /usr/lib/postgresql; set PG_BINDIR');
  return join(root, versions[0], 'bin');
}

function osUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).trim();
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export class PrivateCluster {
  readonly bindir = findBindir();
  readonly dir: string;
  readonly dataDir: string;
  port = 0;
  private readonly owner = osUser();
  private started = false;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'quire-chaos-pg-'));
    this.dataDir = join(this.dir, 'data');
    if (this.owner) chownSync(this.dir, this.owner.uid, this.owner.gid);
  }

  /** Run a server binary as the directory's owner. */
  private run(bin: string, args: string[], timeoutMs = 60_000): string {
    const exe = join(this.bindir, bin);
    const [cmd, argv] = this.owner ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
    return execFileSync(cmd, argv, {
      encoding: 'utf8',
      timeout: timeoutMs,
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: this.dir,
    });
  }

  async init(): Promise<this> {
    this.port = await freePort();
    this.run('initdb', ['-D', this.dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    await this.start();
    return this;
  }

  async start(): Promise<void> {
    const opts = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      `-c listen_addresses=127.0.0.1`,
      '-c max_connections=300',
      '-c shared_buffers=128MB',
    ].join(' ');
    this.run('pg_ctl', ['-D', this.dataDir, '-l', join(this.dir, 'server.log'), '-w', '-t', '60', '-o', opts, 'start']);
    this.started = true;
  }

  /** Stop like a crash: no checkpoint, every backend killed, crash recovery on the next start. */
  stopImmediate(): void {
    this.run('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
    this.started = false;
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** A new, migrated database on this cluster. */
  async createDatabase(name: string): Promise<string> {
    const sql = postgres(this.url(), { max: 1, onnotice: () => {} });
    await sql.unsafe(`drop database if exists ${name} with (force)`);
    await sql.unsafe(`create database ${name}`);
    await sql.end();
    await migratePostgres(this.url(name));
    return this.url(name);
  }

  destroy(): void {
    if (this.started) {
      try {
        this.run('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop'], 30_000);
      } catch {
        // already down
      }
      this.started = false;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

let current: PrivateCluster | undefined;
process.on('exit', () => current?.destroy());

export async function startPrivateCluster(): Promise<PrivateCluster> {
  const cluster = new PrivateCluster();
  current = cluster;
  await cluster.init();
  return cluster;
}
