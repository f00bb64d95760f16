import { createInterface } from 'node:readline';
import { type Api, CliError, print } from './api.js';

/**
 * What `quire broadcast send` does before it sends: refuse a broadcast that is already out, say how many
 * people it goes to (and who it leaves out), and ask — unless --yes. The answer is read from stdin, so
 * `yes | quire broadcast send ID` works too; no answer (a closed stdin, a script without --yes) sends
 * nothing.
 */

interface Audience {
  audience: number;
  excluded: { pending: number; unsubscribed: number; suppressed: number; notInTopic: number };
}

/** States in which the broadcast is already on its way: sending again would change nothing. */
const GONE = new Set(['freezing', 'sending', 'sent']);

export async function checkBeforeSend(
  api: Api,
  id: string,
  opts: { at?: string | undefined; yes?: boolean | undefined },
) {
  const b = await api.get<{ status: string; subject: string; audienceCount: number | null }>(
    `/admin/v1/broadcasts/${id}`,
  );
  if (GONE.has(b.status)) {
    const to = b.audienceCount === null ? '' : ` to ${b.audienceCount} recipients`;
    throw new CliError(
      `${id} is already ${b.status}${to}; nothing was sent again. Follow it with: quire broadcast status ${id} --follow`,
    );
  }
  const { audience, excluded: x } = await api.get<Audience>(`/admin/v1/broadcasts/${id}/audience`);
  print(
    `"${b.subject}" goes to ${audience} ${audience === 1 ? 'person' : 'people'} — not to ${x.unsubscribed} unsubscribed, ${x.pending} pending, ${x.suppressed} suppressed, ${x.notInTopic} not in the topic`,
  );
  if (opts.yes) return;
  const question = opts.at ? `Schedule it for ${opts.at}? [y/N] ` : `Send it now to ${audience}? [y/N] `;
  if (!/^y(es)?$/i.test((await ask(question)).trim())) throw new CliError('not sent (answer y, or pass --yes)');
}

/** One line from stdin after the question (on stderr, so stdout stays the command's output); '' at its end. */
function ask(question: string): Promise<string> {
  process.stderr.write(question);
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, terminal: false });
    let answered = false;
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      resolve(line);
    });
    rl.once('close', () => {
      if (!answered) {
        process.stderr.write('\n');
        resolve('');
      }
    });
  });
}
