import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { createTestHarness, type TestHarness } from 'wrangler';

/**
 * The Worker in real workerd, without vitest (the workerd tests and `npm run bench -- edge` share it):
 * build the deploy bundle with `wrangler deploy --dry-run`, then serve it with wrangler's test harness
 * against a PostgreSQL database (as Hyperdrive's local connection string) with test vars and secrets.
 */

/** Keep wrangler and Miniflare on this machine: no Request.cf fetch, no metrics. */
export function offline() {
  process.env.WRANGLER_SEND_METRICS = 'false';
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
}

export interface WorkerBuild {
  dir: string;
  /** The bundle as uploaded: bytes, and gzip -9 bytes (what Cloudflare's size limit counts). */
  bytes: number;
  gzipBytes: number;
  /** esbuild's metafile: which inputs ended up in the bundle, and how many bytes each. */
  metafile: {
    inputs: Record<string, unknown>;
    outputs: Record<string, { bytes: number; inputs: Record<string, { bytesInOutput: number }> }>;
  };
  remove(): Promise<void>;
}

/** `wrangler deploy --dry-run --outdir …`: the exact bundle a deploy uploads, built offline. */
export async function buildWorker(): Promise<WorkerBuild> {
  offline();
  const dir = await mkdtemp(join(tmpdir(), 'quire-worker-'));
  const wrangler = join(process.cwd(), 'node_modules/wrangler/bin/wrangler.js');
  try {
    await promisify(execFile)(
      process.execPath,
      [wrangler, 'deploy', '--dry-run', '--outdir', dir, '--metafile', join(dir, 'meta.json')],
      {
        // As a deploy from a shell: vitest sets NODE_ENV=test, which would make wrangler bundle React's
        // development build.
        env: { ...process.env, NODE_ENV: 'production' },
        maxBuffer: 16 << 20,
      },
    );
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  // wrangler names the bundle after the entry file, src/runtime/worker/index.ts.
  const code = await readFile(join(dir, 'index.js'));
  return {
    dir,
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    metafile: JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface WorkerdOptions {
  build: WorkerBuild;
  databaseUrl: string;
  vars: Record<string, string>;
  secrets: Record<string, string>;
  /**
   * Local `[[send_email]]` bindings (their names) added to wrangler.toml's, as an operator adds one for
   * `MAIL_DSN=cloudflare+email://NAME`. Mail sent through them lands in the Local Explorer's store.
   */
  sendEmail?: string[];
}

/** Serve a built Worker; `server.listen()` has resolved when this returns. */
export async function startWorkerd(opts: WorkerdOptions): Promise<{ server: TestHarness; url: URL }> {
  offline();
  // wrangler reads Hyperdrive's local connection string from the environment when it builds bindings.
  // Hyperdrive insists on a password; a trust-auth server ignores the one given here.
  const hyperdriveUrl = new URL(opts.databaseUrl);
  if (!hyperdriveUrl.password) hyperdriveUrl.password = 'unused';
  process.env.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE = hyperdriveUrl.toString();
  const withBindings = opts.sendEmail?.length
    ? { configPath: await configWithSendEmail(opts.build.dir, opts.sendEmail) }
    : {};
  const server = createTestHarness({
    workers: [
      {
        configPath: './wrangler.toml',
        prebuiltWorkerDir: opts.build.dir,
        vars: opts.vars,
        secrets: opts.secrets,
        ...withBindings,
      },
    ],
  });
  const { url } = await server.listen();
  return { server, url };
}

/**
 * wrangler.toml with `[[send_email]]` bindings appended, written next to the bundle it describes (and
 * removed with it). Only the bindings differ from the config the bundle was built with.
 */
async function configWithSendEmail(buildDir: string, names: string[]): Promise<string> {
  const base = await readFile(join(process.cwd(), 'wrangler.toml'), 'utf8');
  const path = join(buildDir, `wrangler.send_email.${names.join('.')}.toml`);
  await writeFile(
    path,
    `${base}\n${names.map((name) => `[[send_email]]\nname = ${JSON.stringify(name)}\n`).join('\n')}`,
  );
  return path;
}
