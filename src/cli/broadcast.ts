import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, connectApi, parseCommand, print, usageError } from './api.js';
import { type Broadcast, follow } from './broadcast-status.js';
import { warnAboutImages } from './image-check.js';
import { checkBeforeSend } from './send-check.js';

export const BROADCAST_USAGE = `usage: quire broadcast <command> [options]

  create --template NAME --topic SLUG --subject TEXT [--preheader TEXT] --props FILE.json
                                  a draft (see \`quire templates NAME\` for example props)
  list                            broadcasts, newest first
  preview ID [--text] [--open]    HTML to a temp file (or --text to stdout); --open shows it
  test ID --to ADDRESS [--to …]   send a test copy (subject marked [Test])
  send ID [--at ISO-TIME] [--yes] send now (freezes the audience), or schedule; says to how many and asks
  status ID [--follow]            progress; --follow updates until sent, paused or cancelled
  pause ID | resume ID | cancel ID | retry-failed ID

Talks to QUIRE_URL (default http://localhost:8787) with ADMIN_TOKEN from the environment.`;

const usages: Record<string, string> = {
  create:
    'usage: quire broadcast create --template NAME --topic SLUG --subject TEXT [--preheader TEXT] --props FILE.json [--json]\n\nFILE.json holds the template\'s props ("-" reads them from stdin).',
  list: 'usage: quire broadcast list [--json]',
  preview:
    'usage: quire broadcast preview ID [--text] [--open]\n\nWrites the rendered HTML (example recipient values) to a temp file and prints its path;\n--text prints the text part instead; --open opens the file with xdg-open/open.',
  test: 'usage: quire broadcast test ID --to ADDRESS [--to ADDRESS …]  (up to 10)',
  send: 'usage: quire broadcast send ID [--at 2026-12-01T09:00:00Z] [--yes]\n\nSays how many people it goes to and asks before sending (the answer is read from stdin);\n--yes sends without asking. A broadcast already sending or sent is refused with exit code 1.',
  status:
    'usage: quire broadcast status ID [--follow] [--interval SECONDS] [--json]\n\n--follow polls until the broadcast is sent, paused or cancelled: a live line on a terminal\n(sent/total, msgs/s, failures, bounced, ETA), plain lines otherwise.',
  pause: 'usage: quire broadcast pause ID',
  resume: 'usage: quire broadcast resume ID',
  cancel: 'usage: quire broadcast cancel ID',
  'retry-failed': 'usage: quire broadcast retry-failed ID   (puts failed, not bounced, messages back in the queue)',
};

export async function broadcastCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') return void print(BROADCAST_USAGE);
  const usage = usages[sub];
  if (!usage) throw usageError(`unknown command: broadcast ${sub}`, BROADCAST_USAGE);

  switch (sub) {
    case 'create': {
      const { values } = parseCommand(
        rest,
        {
          template: { type: 'string' },
          topic: { type: 'string' },
          subject: { type: 'string' },
          preheader: { type: 'string' },
          props: { type: 'string' },
          json: { type: 'boolean' },
        } as const,
        usage,
      );
      for (const name of ['template', 'topic', 'subject', 'props'] as const)
        if (!values[name]) throw usageError(`--${name} is required`, usage);
      const props = await readJsonFile(values.props!);
      const api = connectApi();
      const b = await api.post<Broadcast>('/admin/v1/broadcasts', {
        template: values.template,
        topic: values.topic,
        subject: values.subject,
        preheader: values.preheader,
        props,
      });
      if (values.json) return void print(JSON.stringify(b, null, 2));
      print(`created draft ${b.id}`);
      await warnAboutImages(api, b.id);
      print(
        `  next: quire broadcast preview ${b.id} --open · quire broadcast test ${b.id} --to you@example.com · quire broadcast send ${b.id}`,
      );
      return;
    }
    case 'list': {
      const { values } = parseCommand(rest, { json: { type: 'boolean' } } as const, usage);
      const { data } = await connectApi().get<{ data: Broadcast[] }>('/admin/v1/broadcasts');
      if (values.json) return void print(JSON.stringify(data, null, 2));
      if (data.length === 0) return void print('no broadcasts yet');
      for (const b of data) {
        const audience = b.audienceCount === null ? '' : `${b.audienceCount} recipients`;
        print(
          [
            b.id,
            b.status.padEnd(9),
            b.topic.padEnd(10),
            b.createdAt.slice(0, 16).replace('T', ' '),
            audience.padEnd(16),
            b.subject,
          ].join('  '),
        );
      }
      return;
    }
    case 'preview': {
      const { values, positionals } = parseCommand(
        rest,
        { text: { type: 'boolean' }, open: { type: 'boolean' } } as const,
        usage,
      );
      const id = oneId(positionals, usage);
      const format = values.text ? 'text' : 'html';
      const res = await connectApi().fetch(`/admin/v1/broadcasts/${id}/preview?format=${format}`, {
        // application/json first: an error comes back as the envelope, not as an HTML page.
        headers: { accept: `application/json, ${values.text ? 'text/plain' : 'text/html'};q=0.9` },
      });
      const body = await res.text();
      if (res.ok && !values.text) await warnAboutImages(connectApi(), id, body);
      if (values.text && !values.open) return void process.stdout.write(body.endsWith('\n') ? body : `${body}\n`);
      const file = join(await mkdtemp(join(tmpdir(), 'quire-preview-')), `${id}.${values.text ? 'txt' : 'html'}`);
      await writeFile(file, body, { mode: 0o600 });
      if (values.text) process.stdout.write(body.endsWith('\n') ? body : `${body}\n`);
      print(file);
      if (values.open) await openFile(file);
      return;
    }
    case 'test': {
      const { values, positionals } = parseCommand(rest, { to: { type: 'string', multiple: true } } as const, usage);
      const id = oneId(positionals, usage);
      if (!values.to?.length) throw usageError('--to is required', usage);
      const { queued } = await connectApi().post<{ queued: number }>(`/admin/v1/broadcasts/${id}/test`, {
        to: values.to,
      });
      print(`queued ${queued} test ${queued === 1 ? 'copy' : 'copies'} to ${values.to.join(', ')}`);
      return;
    }
    case 'send': {
      const { values, positionals } = parseCommand(
        rest,
        { at: { type: 'string' }, yes: { type: 'boolean', short: 'y' } } as const,
        usage,
      );
      const id = oneId(positionals, usage);
      await checkBeforeSend(connectApi(), id, values);
      const api = connectApi();
      let b = await api.post<Broadcast>(`/admin/v1/broadcasts/${id}/send`, values.at ? { at: values.at } : {});
      // The send is accepted before the audience is written; a large one takes seconds.
      while (b.status === 'freezing') {
        await new Promise((r) => setTimeout(r, 200));
        b = await api.get<Broadcast>(`/admin/v1/broadcasts/${id}`);
      }
      if (b.status === 'scheduled') print(`scheduled ${b.id} for ${b.scheduledAt}`);
      else
        print(
          // A small audience may be sent already by the time its freeze is seen to end.
          `${b.status === 'sent' ? 'sending' : b.status} ${b.id} to ${b.audienceCount ?? 0} recipients — follow with: quire broadcast status ${b.id} --follow`,
        );
      return;
    }
    case 'status': {
      const { values, positionals } = parseCommand(
        rest,
        { follow: { type: 'boolean', short: 'f' }, interval: { type: 'string' }, json: { type: 'boolean' } } as const,
        usage,
      );
      const id = oneId(positionals, usage);
      const interval = values.interval === undefined ? 1 : Number(values.interval);
      if (!(interval > 0)) throw usageError('--interval must be a positive number of seconds', usage);
      const api = connectApi();
      if (values.json) return void print(JSON.stringify(await api.get(`/admin/v1/broadcasts/${id}`), null, 2));
      return follow(api, id, { follow: !!values.follow, intervalMs: interval * 1000 });
    }
    default: {
      // pause, resume, cancel, retry-failed
      const { positionals } = parseCommand(rest, {}, usage);
      const id = oneId(positionals, usage);
      const out = await connectApi().post<Broadcast | { broadcast: Broadcast; requeued: number }>(
        `/admin/v1/broadcasts/${id}/${sub}`,
      );
      if ('requeued' in out)
        print(
          `requeued ${out.requeued} failed ${out.requeued === 1 ? 'message' : 'messages'}; ${out.broadcast.id} is ${out.broadcast.status}`,
        );
      else print(`${out.id} is ${out.status}${out.statusReason ? ` (${out.statusReason})` : ''}`);
    }
  }
}

function oneId(positionals: string[], usage: string): string {
  if (positionals.length !== 1)
    throw usageError(positionals.length ? 'one broadcast ID, please' : 'the broadcast ID is missing', usage);
  return positionals[0]!;
}

async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new CliError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

/** xdg-open (Linux, BSD) or open (macOS), when there is one; otherwise the printed path is enough. */
async function openFile(file: string): Promise<void> {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? undefined : 'xdg-open';
  if (!opener) return void process.stderr.write('--open: no opener on this platform; open the file above\n');
  await new Promise<void>((resolve) => {
    const child = spawn(opener, [file], { stdio: 'ignore', detached: true });
    child.once('error', () => {
      process.stderr.write(`--open: ${opener} is not available; open the file above\n`);
      resolve();
    });
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
