import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

const START_UP = 'module loading';

/** Where a sampled frame's self time goes, by library or kind of work. */
function category(frame: ProfileNode['callFrame']): string {
  const { functionName: fn, url } = frame;
  if (fn === '(idle)') return 'idle (waiting on the database or the network)';
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === 'writeBuffer' || fn === 'writev' || fn === 'writeUtf8String' || fn === 'writeLatin1String')
    return 'socket writes (system calls)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg === 'postgres') return 'postgres.js';
  if (pkg === 'drizzle-orm') return 'drizzle-orm';
  if (pkg && /^(hono|@hono\/)/.test(pkg)) return 'hono';
  if (
    pkg &&
    /^(nodemailer|react|react-dom|@react-email\/.*|html-to-text|htmlparser2|selderee|prismjs|leac|parseley)$/.test(pkg)
  )
    return 'delivery loop (render, MIME, SMTP)';
  if (pkg === 'zod' || pkg === '@hono/zod-openapi') return 'zod';
  if (
    pkg === 'tsx' ||
    pkg === 'esbuild' ||
    url.includes('modules/') ||
    url.includes('package_json_reader') ||
    url.includes('internal/vm')
  )
    return START_UP;
  if (url.includes('internal/crypto')) return 'node:crypto';
  if (url.includes('undici') || url.includes('webstreams')) return 'Web Request/Response objects';
  if (url.includes('/src/') || url.includes('/emails/')) return 'quire (src/)';
  if (
    /node:(internal\/)?(streams|stream_base_commons|net|_http|http|events|timers|buffer|url|util)/.test(url) ||
    url.startsWith('node:internal/streams')
  )
    return 'Node http, streams and timers';
  if (fn === '(program)' || fn === 'runMicrotasks' || fn === '(anon)' || url === '') return 'V8 and libuv';
  return 'other';
}

/**
 * The self time of a `--cpu-prof` profile, by category, as "41% socket writes, 9% idle, …"
 * (categories at 2% or more; module loading, i.e. start-up, left out).
 */
export async function summariseProfile(dir: string): Promise<string> {
  const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return 'no profile written';
  const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const c = category(byId.get(id)!.callFrame);
    if (c === START_UP) return; // the profile covers the whole process; loading modules is not serving
    totals.set(c, (totals.get(c) ?? 0) + dt);
    total += dt;
  });
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .filter(([, t]) => t / total >= 0.02)
    .map(([c, t]) => `${Math.round((100 * t) / total)}% ${c}`)
    .join(', ');
}
