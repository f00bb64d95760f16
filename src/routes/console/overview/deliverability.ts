import { type Config, ConfigSchema } from '../../../config.js';
import { describeTransport, type MailTransportSpec, mailTransports } from '../../../mail/dsn/index.js';

/**
 * The deliverability checklist of the overview, read from configuration alone (nothing is probed): is
 * mail sent at all, is it signed, do bounces and complaints come back, and does every broadcast carry
 * the author's own postal address. Each item says what to do when it is not done.
 */

export interface CheckItem {
  title: string;
  ok: boolean;
  /** What is configured, in a sentence. */
  detail: string;
  /** What to do about it, when `ok` is false. */
  todo?: string | undefined;
}

type ProviderKind = Exclude<MailTransportSpec['kind'], 'smtp'>;

const PROVIDERS: Record<ProviderKind, { name: string; key?: keyof Config; path?: string }> = {
  resend: { name: 'Resend', key: 'RESEND_WEBHOOK_SECRET', path: '/webhooks/resend' },
  postmark: { name: 'Postmark', key: 'POSTMARK_WEBHOOK_AUTH', path: '/webhooks/postmark' },
  ses: { name: 'Amazon SES', key: 'SES_SNS_TOPIC_ARNS', path: '/webhooks/ses' },
  mailgun: { name: 'Mailgun', key: 'MAILGUN_WEBHOOK_SIGNING_KEY', path: '/webhooks/mailgun' },
  sendgrid: { name: 'SendGrid', key: 'SENDGRID_WEBHOOK_PUBLIC_KEY', path: '/webhooks/sendgrid' },
  cloudflare: { name: 'Cloudflare Email Service' },
};

const defaultOf = (key: 'POSTAL_ADDRESS' | 'MAIL_FROM') => ConfigSchema.shape[key].parse(undefined);

export function deliverabilityChecklist(config: Config): CheckItem[] {
  const { transactional, broadcast } = mailTransports(config);
  const specs = [transactional, broadcast].filter((s, i, all): s is MailTransportSpec => !!s && all.indexOf(s) === i);
  return [
    transportItem(transactional, broadcast),
    signingItem(config, specs),
    fromItem(config),
    ...returnItems(config, specs),
    postalItem(config),
  ];
}

function transportItem(transactional?: MailTransportSpec, broadcast?: MailTransportSpec): CheckItem {
  if (!transactional) {
    return {
      title: 'Mail transport',
      ok: false,
      detail: 'No transport is configured: mail is kept in the development mailbox, not sent.',
      todo: 'Set MAIL_DSN to your mail provider or relay (README, "Choosing how mail is sent").',
    };
  }
  const both = broadcast && broadcast !== transactional;
  return {
    title: 'Mail transport',
    ok: true,
    detail: both
      ? `Confirmations and other single mails go through ${describeTransport(transactional)}; broadcasts through ${describeTransport(broadcast)}.`
      : `All mail goes through ${describeTransport(transactional)}.`,
  };
}

function signingItem(config: Config, specs: MailTransportSpec[]): CheckItem {
  if (config.DKIM_DOMAIN && config.DKIM_SELECTOR) {
    return {
      title: 'DKIM signing',
      ok: true,
      detail: `quire signs every message for ${config.DKIM_DOMAIN} with selector "${config.DKIM_SELECTOR}"; its public key belongs at ${config.DKIM_SELECTOR}._domainkey.${config.DKIM_DOMAIN}.`,
    };
  }
  const unsigned = specs.filter((s) => s.kind === 'smtp');
  if (specs.length > 0 && unsigned.length === 0) {
    const names = specs.map((s) => PROVIDERS[s.kind as ProviderKind].name).join(' and ');
    return {
      title: 'DKIM signing',
      ok: true,
      detail: `${names} signs each message with DKIM for a sending domain verified with ${specs.length > 1 ? 'them' : 'it'}: check that MAIL_FROM's domain shows as verified there.`,
    };
  }
  return {
    title: 'DKIM signing',
    ok: false,
    detail: 'Nothing in quire signs this mail, and whether your relay does is not known here.',
    todo: 'Set DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY, or confirm that your relay signs for the domain of MAIL_FROM. Unsigned mail often lands in spam.',
  };
}

function fromItem(config: Config): CheckItem {
  const defaulted =
    config.MAIL_FROM === defaultOf('MAIL_FROM') ||
    /@localhost\b|@[^>]*\.(test|example|invalid)\b/i.test(config.MAIL_FROM);
  return defaulted
    ? {
        title: 'Sender address',
        ok: false,
        detail: `Mail comes from ${config.MAIL_FROM}, which no mailbox provider will trust.`,
        todo: 'Set MAIL_FROM to an address at your own domain, e.g. "Your Name <news@your-book.example>".',
      }
    : { title: 'Sender address', ok: true, detail: `Mail comes from ${config.MAIL_FROM}.` };
}

/** Bounces and complaints: by mail to BOUNCE_ADDRESS, from each provider's webhook, or the signed generic one. */
function returnItems(config: Config, specs: MailTransportSpec[]): CheckItem[] {
  const items: CheckItem[] = [];
  items.push(
    config.BOUNCE_ADDRESS
      ? {
          title: 'Bounce address',
          ok: true,
          detail: `Every message's return path is ${config.BOUNCE_ADDRESS} (one address per message), so a bounce says whose address failed.`,
        }
      : {
          title: 'Bounce address',
          ok: specs.length > 0 && specs.every((s) => s.kind !== 'smtp'),
          detail: 'BOUNCE_ADDRESS is not set: bounces go wherever your transport sends them.',
          todo: 'Set BOUNCE_ADDRESS to an address whose mail reaches quire (README, "Mail that comes back"), so addresses that bounce stop getting mail.',
        },
  );
  for (const spec of specs) {
    if (spec.kind === 'smtp') {
      items.push({
        title: 'Bounce webhook',
        ok: config.WEBHOOK_SECRET !== undefined || config.BOUNCE_ADDRESS !== undefined,
        detail: config.WEBHOOK_SECRET
          ? `${config.PUBLIC_URL}/webhooks/bounces accepts bounce and complaint reports signed with WEBHOOK_SECRET.`
          : 'No signed bounce webhook is configured.',
        todo: 'With an SMTP relay, bounces come back by mail to BOUNCE_ADDRESS; if your relay can post them instead, set WEBHOOK_SECRET and point it at /webhooks/bounces.',
      });
      continue;
    }
    const p = PROVIDERS[spec.kind];
    if (!p.key || !p.path) {
      items.push({
        title: `${p.name} events`,
        ok: true,
        detail: `${p.name} reports bounces and complaints through its event queue, read by the Worker.`,
      });
      continue;
    }
    const url = `${config.PUBLIC_URL}${p.path}`;
    items.push(
      config[p.key] !== undefined
        ? { title: `${p.name} webhook`, ok: true, detail: `${url} receives ${p.name}'s bounce and complaint events.` }
        : {
            title: `${p.name} webhook`,
            ok: false,
            detail: `${p.name}'s bounce and complaint events are not received: ${p.key} is not set.`,
            todo: `Create a webhook in ${p.name} pointing at ${url} and set ${p.key} from it, so bounces and complaints become suppressions.`,
          },
    );
  }
  return items;
}

function postalItem(config: Config): CheckItem {
  return config.POSTAL_ADDRESS === defaultOf('POSTAL_ADDRESS')
    ? {
        title: 'Postal address',
        ok: false,
        detail: `Every broadcast's footer shows the demo address "${config.POSTAL_ADDRESS}".`,
        todo: 'Set POSTAL_ADDRESS to your own postal address (a PO box will do): anti-spam laws such as CAN-SPAM require a real one in every marketing mail.',
      }
    : { title: 'Postal address', ok: true, detail: `Broadcasts show "${config.POSTAL_ADDRESS}" in their footer.` };
}
