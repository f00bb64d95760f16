import { CliError, connectApi, parseCommand, print } from './api.js';

const TEMPLATES_USAGE =
  'usage: quire templates [NAME] [--json]\n\nWithout NAME: the broadcast templates. With NAME: its example props, a start for --props:\n  quire templates release-announcement > props.json';

interface TemplateInfo {
  name: string;
  description: string;
  exampleProps: unknown;
}

export async function templatesCommand(args: string[]) {
  const { values, positionals } = parseCommand(args, { json: { type: 'boolean' } } as const, TEMPLATES_USAGE);
  const list = await connectApi().get<TemplateInfo[]>('/admin/v1/templates');
  if (positionals.length) {
    const t = list.find((x) => x.name === positionals[0]);
    if (!t) throw new CliError(`no template "${positionals[0]}"; there are: ${list.map((x) => x.name).join(', ')}`);
    return print(JSON.stringify(t.exampleProps, null, 2));
  }
  if (values.json) return print(JSON.stringify(list, null, 2));
  const width = Math.max(...list.map((t) => t.name.length));
  for (const t of list) print(`${t.name.padEnd(width)}  ${t.description}`);
}
