import { createApp } from '../../src/app.js';
(globalThis as any).__app = createApp((() => { throw new Error('x'); }) as never);
import nodemailer from 'nodemailer';
(globalThis as any).__nm = nodemailer;
import postgres from 'postgres';
import { connectPostgres } from '../../src/db/client.js';
addEventListener('unhandledrejection', (e: any) => { console.log('UNHANDLED', String(e.reason?.message)); });
export default {
  async fetch(req: Request, env: any, ctx: any) {
    const mode = new URL(req.url).searchParams.get('mode');
    if (mode === 'client') {
      const db = await connectPostgres({ url: env.HYPERDRIVE.connectionString, max: 5, fetchTypes: false, timeoutMs: 5000 });
      await db.ping();
      ctx.waitUntil((async () => { await Promise.allSettled([db.close()]); console.log('closed', mode); })());
      return new Response('ok');
    }
    if (mode === 'dyn') {
      const { default: pg } = await import('postgres');
      const sql = pg(env.HYPERDRIVE.connectionString, { max: 1, fetch_types: false });
      await sql`select 1`;
      ctx.waitUntil((async () => { await Promise.allSettled([sql.end()]); console.log('closed', mode); })());
      return new Response('ok');
    }
    const sql = postgres(env.HYPERDRIVE.connectionString, { max: 1, fetch_types: false });
    const r = await sql`select 1 as x`;
    ctx.waitUntil((async () => { await Promise.allSettled([sql.end()]); console.log('closed', mode); })());
    return new Response(JSON.stringify(r));
  },
};
