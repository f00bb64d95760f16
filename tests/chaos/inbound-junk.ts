/**
 * Faults 7: the inbound SMTP listener (INBOUND_SMTP_PORT) fed 2,000 malformed sessions (quick: 200), 8 at
 * a time, in eight rounds (support/junk-mail.ts lists the kinds), while a few idle clients hold connections
 * open and real mailto unsubscribes arrive among the junk. The process must stay up, every valid session
 * must get only 2xx/3xx replies and unsubscribe its reader (once, with the ledger event), no other reader
 * may change, each kind of junk must get the refusal it calls for, and memory must stay flat.
 */
import { signLinkToken } from '../../src/core/tokens.js';
import type { PrivateCluster } from './support/cluster.js';
import { openCore, seedAudience } from './support/db.js';
import { JUNK_KINDS, type JunkResult, junkSession } from './support/junk-mail.js';
import { MAIL_DOMAIN, QuireProcess, SECRET } from './support/quire.js';
import { dotStuff, SmtpConnection } from './support/smtp-client.js';
import { Checks, freePort, type Row, rssMiB, type ScenarioResult, sleep } from './support/util.js';

const JUNK_CONCURRENCY = 8;
const IDLE_CLIENTS = 4;
const ROUNDS = 8;
const MAX_BYTES = 1024 * 1024;
const UNSUBSCRIBE = `unsubscribe@${MAIL_DOMAIN}`;
const QUICK_RSS_CEILING = 1024;

/** A reader's mailto unsubscribe, as a mail client sends it; every reply must be 2xx or 3xx. */
async function validUnsubscribe(port: number, from: string, token: string): Promise<number[]> {
  const { conn } = await SmtpConnection.open(port);
  try {
    const steps = ['EHLO mail.example.com', `MAIL FROM:<${from}>`, `RCPT TO:<${UNSUBSCRIBE}>`, 'DATA'];
    for (const step of steps) if ((await conn.command(step)).code >= 400) return conn.codes;
    const body = [
      `From: A Reader <${from}>`,
      `To: ${UNSUBSCRIBE}`,
      `Subject: unsubscribe ${token}`,
      `Message-ID: <${token.slice(0, 12)}@mail.example.com>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Please take me off the list.',
    ].join('\r\n');
    await conn.write(`${dotStuff(body)}\r\n.\r\n`);
    await conn.reply(30_000);
    await conn.quit();
    return conn.codes;
  } finally {
    conn.destroy();
  }
}

export async function inboundJunk(
  cluster: PrivateCluster,
  opts: { quick: boolean; random: () => number },
): Promise<ScenarioResult> {
  const started = performance.now();
  const junkCount = opts.quick ? 200 : 2_000;
  const validCount = opts.quick ? 20 : 200;
  const controls = 50;
  const checks = new Checks();
  const rows: Row[] = [];
  const notes: string[] = [];

  const url = await cluster.createDatabase('chaos_inbound');
  const core = await openCore(url);
  let api: QuireProcess | undefined;
  const idle: SmtpConnection[] = [];
  try {
    await seedAudience(core.sql, validCount + controls, 'inbound');
    const people = await core.sql<{ id: string; email: string }[]>`
      select id, email from subscribers where email like 'inbound.%' order by email`;
    const targets = people.slice(0, validCount);
    const port = await freePort();
    api = await QuireProcess.start({
      databaseUrl: url,
      smtpUrl: 'smtp://127.0.0.1:9',
      env: {
        INBOUND_SMTP_PORT: String(port),
        BOUNCE_ADDRESS: `bounces@${MAIL_DOMAIN}`,
        INBOUND_MAX_BYTES: String(MAX_BYTES),
      },
      label: 'inbound-api',
    });
    const pid = api.pid;

    // Clients that connect, greet and then say nothing: they hold slots the whole time.
    for (let i = 0; i < IDLE_CLIENTS; i++) {
      const { conn } = await SmtpConnection.open(port);
      await conn.command('EHLO idle.example');
      idle.push(conn);
    }

    let round = 0;
    const rss: { round: number; mib: number }[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const mib = rssMiB(pid);
        if (mib !== undefined) rss.push({ round, mib });
        await sleep(250);
      }
    })();

    const target = {
      port,
      unsubscribe: UNSUBSCRIBE,
      bounces: `bounces@${MAIL_DOMAIN}`,
      maxBytes: MAX_BYTES,
      random: opts.random,
    };
    const results: JunkResult[] = [];
    let done = 0;
    const valid: { codes: number[] }[] = [];
    const validLoop = (async () => {
      for (const [k, t] of targets.entries()) {
        // Spread through the feed, whatever its speed.
        while (done < (k * junkCount) / validCount) await sleep(10);
        valid.push({
          codes: await validUnsubscribe(port, t.email, signLinkToken(SECRET, 'unsubscribe', t.id, new Date())),
        });
      }
    })();
    const feedStart = performance.now();
    for (round = 1; round <= ROUNDS; round++) {
      const end = Math.round((junkCount * round) / ROUNDS);
      let next = done;
      await Promise.all(
        Array.from({ length: JUNK_CONCURRENCY }, async () => {
          while (next < end) {
            results.push(await junkSession(target, next++));
            done++;
          }
        }),
      );
      console.log(`  round ${round}: ${done} malformed sessions, RSS ${rssMiB(pid)?.toFixed(0)} MiB`);
    }
    const feedSeconds = (performance.now() - feedStart) / 1000;
    await validLoop;
    round = ROUNDS + 1;
    await sleep(500);
    sampling = false;
    await sampler;
    const idleCodes = await Promise.all(idle.map((c) => c.command('NOOP', 5_000)));

    const [db] = await core.sql<Record<string, number>[]>`
      select (select count(*)::int from subscribers where id = any(${targets.map((t) => t.id)}) and status = 'unsubscribed') as unsubscribed,
             (select count(*)::int from consent_events where kind = 'unsubscribed' and source = 'mailto') as events,
             (select count(*)::int from consent_events where kind = 'unsubscribed' and not (subscriber_id = any(${targets.map((t) => t.id)}))) as stray,
             (select count(*)::int from (select 1 from consent_events where kind = 'unsubscribed' group by subscriber_id having count(*) > 1) x) as twice,
             (select count(*)::int from subscribers where email like 'inbound.%' and status = 'active') as active,
             (select count(*)::int from suppressions where reason <> 'unsubscribed') as suppressions`;
    const alive = api.child.exitCode === null && api.child.signalCode === null && api.pid === pid;
    const errors = api.errors();
    const ready = await fetch(`${api.url}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    const badValid = valid.filter((v) => v.codes.length !== 7 || v.codes.some((c) => c < 200 || c >= 400));
    const wrong = results.flatMap((r) => r.wrong.map((w) => `${r.kind}: ${w}`));
    // Quarters of the feed, as the soak judges RSS: the first is the warm-up, in which the heap grows to
    // the working size of the listener and the MIME parser; from the second on it must stay flat.
    const quarter = (q: number) => {
      const per = ROUNDS / 4;
      const xs = rss.filter((s) => s.round > q * per && s.round <= (q + 1) * per).map((s) => s.mib);
      return xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    };
    const medians = [0, 1, 2, 3].map(quarter);
    const growth = medians[1] ? medians[3]! / medians[1] - 1 : 0;
    const peak = Math.max(...rss.map((s) => s.mib));
    const table: [string, string | number, string?, boolean?][] = [
      [
        'malformed sessions',
        `${results.length} in ${feedSeconds.toFixed(1)} s, ${JUNK_CONCURRENCY} at a time, ${IDLE_CLIENTS} idle clients holding connections`,
      ],
      ...JUNK_KINDS.map((kind): [string, string] => {
        const mine = results.filter((r) => r.kind === kind);
        const finals = new Map<string, number>();
        for (const r of mine) {
          const last = r.codes.filter((c) => c !== 221).at(-1);
          const key = last === undefined ? 'none' : String(last);
          finals.set(key, (finals.get(key) ?? 0) + 1);
        }
        return [`  ${kind}`, `${mine.length}: last reply ${[...finals].map(([c, n]) => `${n}×${c}`).join(', ')}`];
      }),
      [
        "replies that break the kind's rule (a 250 for a foreign address, oversize not 552, …)",
        wrong.length,
        '0',
        wrong.length === 0,
      ],
      [
        'valid mailto unsubscribes meanwhile: every reply 2xx/3xx',
        `${valid.length - badValid.length} of ${validCount}`,
        `${validCount} of ${validCount}`,
        badValid.length === 0 && valid.length === validCount,
      ],
      [
        'their readers unsubscribed / ledger events (mailto)',
        `${db!.unsubscribed} / ${db!.events}`,
        `${validCount} / ${validCount}`,
        db!.unsubscribed === validCount && db!.events === validCount,
      ],
      [
        'other readers changed / unsubscribed twice / suppressed but not by an opt-out',
        `${controls - db!.active!} / ${db!.twice} / ${db!.suppressions}`,
        '0 / 0 / 0',
        db!.active === controls && db!.twice === 0 && db!.stray === 0 && db!.suppressions === 0,
      ],
      [
        'idle clients still served (NOOP → 250)',
        `${idleCodes.filter((r) => r.code === 250).length} of ${IDLE_CLIENTS}`,
      ],
      [
        'quire process alive (same pid), errors logged, /readyz',
        `${alive ? 'yes' : 'no'}, ${errors.length}, ${ready}`,
        'yes, 0, 200',
        alive && errors.length === 0 && ready === 200,
      ],
      [
        'RSS median per quarter of the feed',
        `${medians.map((m) => m.toFixed(0)).join(' → ')} MiB (max ${peak.toFixed(0)})`,
      ],
      // A quick run is too short to judge flatness (the heap is still growing to its working size): it
      // only checks that nothing blows up.
      opts.quick
        ? ['RSS peak', `${peak.toFixed(0)} MiB`, `< ${QUICK_RSS_CEILING} MiB`, peak < QUICK_RSS_CEILING]
        : ['RSS growth, second quarter → last', `${(growth * 100).toFixed(1)} %`, 'flat (< 15 %)', growth < 0.15],
    ];
    for (const [figure, value, expect, good] of table) {
      rows.push({
        figure,
        value,
        ...(expect ? { expected: expect } : {}),
        ...(good === undefined ? {} : { ok: good }),
      });
      if (good !== undefined) checks.ok(good, `${figure.trim()}: ${value} (expected ${expect})`);
    }
    for (const w of wrong.slice(0, 5)) console.error(`    ${w}`);
    for (const v of badValid.slice(0, 5)) console.error(`    valid session replies: ${v.codes.join(' ')}`);
    for (const e of errors.slice(0, 5)) console.error(`    logged: ${JSON.stringify(e).slice(0, 300)}`);
    notes.push(
      `quire: one production process with INBOUND_SMTP_PORT, BOUNCE_ADDRESS and INBOUND_MAX_BYTES=${MAX_BYTES}; the malformed sessions come from a bare TCP client (tests/chaos/support/smtp-client.ts) that sends bytes as given; valid ones are \`unsubscribe <signed token>\` mails to ${UNSUBSCRIBE}, one after every ${Math.round(junkCount / validCount)} malformed sessions.`,
      "RSS: VmRSS of the quire process every 250 ms; the median of each quarter of the feed, the last compared with the second (the first is the warm-up, in which the heap grows to the listener's and the MIME parser's working size).",
    );
  } catch (err) {
    checks.ok(false, `scenario aborted: ${(err as Error).message}`);
  } finally {
    for (const c of idle) c.destroy();
    await api?.kill('SIGKILL');
    await core.close();
  }
  return {
    name: 'inbound-junk',
    title: `The inbound SMTP listener fed ${junkCount.toLocaleString('en')} malformed sessions, with valid unsubscribes among them`,
    rows,
    notes,
    failures: checks.failures,
    seconds: (performance.now() - started) / 1000,
  };
}
