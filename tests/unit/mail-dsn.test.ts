import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  describeTransport,
  isLoopbackHost,
  MailDsnError,
  mailDsn,
  mailSettingsProblems,
  mailTransports,
  parseMailDsn,
  redactDsn,
  smtpUrlAlias,
  transportRuntimeProblem,
} from '../../src/mail/dsn/index.js';

/** The MailDsnError a bad DSN throws; fails the test when it parses. */
function dsnErrorOf(dsn: string): MailDsnError {
  try {
    parseMailDsn(dsn);
  } catch (err) {
    expect(err).toBeInstanceOf(MailDsnError);
    return err as MailDsnError;
  }
  throw new Error(`expected ${dsn} to be refused`);
}

describe('MAIL_DSN: every transport in its documented form', () => {
  it('smtp:// and smtps:// with the submission and implicit-TLS ports by default', () => {
    expect(parseMailDsn('smtp://user:pass@smtp.example.com:2525')).toEqual({
      kind: 'smtp',
      url: 'smtp://user:pass@smtp.example.com:2525',
      secure: false,
      host: 'smtp.example.com',
      port: 2525,
      username: 'user',
      password: 'pass',
      tlsRejectUnauthorized: true,
    });
    expect(parseMailDsn('smtp://relay.internal')).toMatchObject({
      port: 587,
      secure: false,
      username: undefined,
      url: 'smtp://relay.internal:587',
    });
    expect(parseMailDsn('smtps://u:p@smtp.example.com')).toMatchObject({
      port: 465,
      secure: true,
      url: 'smtps://u:p@smtp.example.com:465',
    });
    expect(parseMailDsn('SMTP://Relay.Example.COM:25')).toMatchObject({
      host: 'relay.example.com',
      url: 'smtp://relay.example.com:25',
    });
    expect(parseMailDsn('smtp://127.0.0.1:2525?tls_reject_unauthorized=false')).toMatchObject({
      tlsRejectUnauthorized: false,
      url: 'smtp://127.0.0.1:2525?tls_reject_unauthorized=false',
    });
    expect(parseMailDsn('smtp://[::1]:1025')).toMatchObject({ host: '[::1]', port: 1025 });
  });

  it('smtp user names that are addresses, and passwords with reserved characters, raw or encoded', () => {
    const raw = parseMailDsn('smtp://news@example.com:p@ss/w+rd=:x@smtp.example.com:587');
    expect(raw).toMatchObject({ username: 'news@example.com', password: 'p@ss/w+rd=:x', host: 'smtp.example.com' });
    const encoded = parseMailDsn('smtp://news%40example.com:p%40ss%2Fw%2Brd%3D%3Ax@smtp.example.com:587');
    expect(encoded).toMatchObject({ username: 'news@example.com', password: 'p@ss/w+rd=:x' });
    // The url handed to nodemailer carries them encoded, so smtp.ts decodes them back exactly.
    const url = new URL(raw.kind === 'smtp' ? raw.url : '');
    expect(decodeURIComponent(url.username)).toBe('news@example.com');
    expect(decodeURIComponent(url.password)).toBe('p@ss/w+rd=:x');
  });

  it('resend+api://', () => {
    expect(parseMailDsn('resend+api://re_123abc@default')).toEqual({
      kind: 'resend',
      apiKey: 're_123abc',
      baseUrl: 'https://api.resend.com',
    });
    // The user-info ends at the last @.
    expect(parseMailDsn('resend+api://re_a@b!c@default')).toMatchObject({
      apiKey: 're_a@b!c',
      baseUrl: 'https://api.resend.com',
    });
  });

  it('postmark+api:// with and without a message stream', () => {
    expect(parseMailDsn('postmark+api://SERVER-TOKEN@default?message_stream=broadcast')).toEqual({
      kind: 'postmark',
      serverToken: 'SERVER-TOKEN',
      baseUrl: 'https://api.postmarkapp.com',
      messageStream: 'broadcast',
    });
    expect(parseMailDsn('postmark+api://t@default')).toMatchObject({ kind: 'postmark', messageStream: undefined });
  });

  it('ses+api:// with a secret carrying / + = (raw or percent-encoded) and the regional endpoint', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCY=EXAMPLEKEY';
    const expected = {
      kind: 'ses',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: secret,
      region: 'eu-west-1',
      baseUrl: 'https://email.eu-west-1.amazonaws.com',
    };
    expect(
      parseMailDsn(`ses+api://AKIAIOSFODNN7EXAMPLE:${encodeURIComponent(secret)}@default?region=eu-west-1`),
    ).toEqual(expected);
    expect(parseMailDsn(`ses+api://AKIAIOSFODNN7EXAMPLE:${secret}@default?region=eu-west-1`)).toEqual(expected);
    expect(parseMailDsn('ses+api://A:S@default?region=us-gov-west-1')).toMatchObject({
      baseUrl: 'https://email.us-gov-west-1.amazonaws.com',
    });
  });

  it('mailgun+api:// in the US region by default and the EU region on request', () => {
    expect(parseMailDsn('mailgun+api://key-abc:mg.example.com@default')).toEqual({
      kind: 'mailgun',
      apiKey: 'key-abc',
      domain: 'mg.example.com',
      region: 'us',
      baseUrl: 'https://api.mailgun.net',
    });
    expect(parseMailDsn('mailgun+api://key-abc:MG.Example.com@default?region=EU')).toMatchObject({
      region: 'eu',
      domain: 'mg.example.com',
      baseUrl: 'https://api.eu.mailgun.net',
    });
  });

  it('sendgrid+api://', () => {
    expect(parseMailDsn('sendgrid+api://SG.abc.def@default')).toEqual({
      kind: 'sendgrid',
      apiKey: 'SG.abc.def',
      baseUrl: 'https://api.sendgrid.com',
    });
  });

  it('cloudflare+email:// names a send_email binding, case kept', () => {
    expect(parseMailDsn('cloudflare+email://EMAIL')).toEqual({ kind: 'cloudflare', binding: 'EMAIL' });
    expect(parseMailDsn('cloudflare+email://Transactional_Mail?rate=5')).toEqual({
      kind: 'cloudflare',
      binding: 'Transactional_Mail',
      rate: 5,
    });
  });

  it('rate and timeout_ms on any transport', () => {
    expect(parseMailDsn('ses+api://A:S@default?region=eu-west-1&rate=14&timeout_ms=5000')).toMatchObject({
      rate: 14,
      timeoutMs: 5000,
    });
    expect(parseMailDsn('smtp://relay:25?rate=0.5')).toMatchObject({ rate: 0.5 });
    const timeoutOnly = parseMailDsn('resend+api://k@default?timeout_ms=250');
    expect(timeoutOnly).toMatchObject({ timeoutMs: 250 });
    expect(timeoutOnly).not.toHaveProperty('rate');
  });

  it('surrounding whitespace (a trailing newline from a secret store) is ignored', () => {
    expect(parseMailDsn('  resend+api://re_1@default\n')).toMatchObject({ apiKey: 're_1' });
  });
});

describe('MAIL_DSN: another host replaces the provider API', () => {
  it('a named host is reached over https, with its port and path', () => {
    expect(parseMailDsn('resend+api://k@resend-proxy.internal:8443/prefix/')).toMatchObject({
      baseUrl: 'https://resend-proxy.internal:8443/prefix',
    });
    expect(parseMailDsn('ses+api://A:S@vpce-1.email.eu-west-1.vpce.amazonaws.com?region=eu-west-1')).toMatchObject({
      baseUrl: 'https://vpce-1.email.eu-west-1.vpce.amazonaws.com',
    });
  });

  it('loopback hosts (127.0.0.0/8, localhost, [::1]) are reached over http, for local stand-ins', () => {
    expect(parseMailDsn('postmark+api://t@127.0.0.1:4010')).toMatchObject({ baseUrl: 'http://127.0.0.1:4010' });
    expect(parseMailDsn('postmark+api://t@127.8.9.10:4010')).toMatchObject({ baseUrl: 'http://127.8.9.10:4010' });
    expect(parseMailDsn('mailgun+api://k:mg.example.com@LOCALHOST:9000?region=eu')).toMatchObject({
      baseUrl: 'http://localhost:9000',
    });
    expect(parseMailDsn('sendgrid+api://k@[::1]:9000')).toMatchObject({ baseUrl: 'http://[::1]:9000' });
    expect(parseMailDsn('sendgrid+api://k@128.0.0.1:9000')).toMatchObject({ baseUrl: 'https://128.0.0.1:9000' });
    expect(parseMailDsn('sendgrid+api://k@localhost.example.com')).toMatchObject({
      baseUrl: 'https://localhost.example.com',
    });
  });

  it('isLoopbackHost', () => {
    for (const h of ['127.0.0.1', '127.255.255.254', 'localhost', 'LocalHost', '[::1]'])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['128.0.0.1', '10.0.0.1', 'localhost.example', '[::2]', 'example.com', '0.0.0.0'])
      expect(isLoopbackHost(h), h).toBe(false);
  });
});

describe('MAIL_DSN: refused, naming the problem, keys masked', () => {
  const refusals: [dsn: string, problem: RegExp, shown: string][] = [
    ['re_live_only_a_key', /is not a DSN/, '****'],
    ['foo+api://k@default', /unknown scheme "foo\+api" \(known: smtp, smtps, resend\+api/, 'foo+api://****@default'],
    ['resend://re_1@default', /did you mean resend\+api:\/\/\?/, 'resend://****@default'],
    ['postmark://t@default', /did you mean postmark\+api:\/\/\?/, 'postmark://****@default'],
    [
      'resend+api://default',
      /resend\+api:\/\/ needs an API key before @, e\.g\. resend\+api:\/\/API_KEY@default/,
      'resend+api://****',
    ],
    ['resend+api://re_in_host_position', /needs an API key/, 'resend+api://****'],
    ['postmark+api://@default', /needs a server token/, 'postmark+api://****@default'],
    ['sendgrid+api://default', /needs an API key/, 'sendgrid+api://****'],
    ['resend+api://a:b@default', /takes one key before @, not key:secret/, 'resend+api://****:****@default'],
    [
      'ses+api://AKIA@default?region=eu-west-1',
      /ACCESS_KEY_ID:SECRET_ACCESS_KEY/,
      'ses+api://****@default?region=eu-west-1',
    ],
    ['ses+api://AKIA:secret@default', /needs \?region=/, 'ses+api://****:****@default'],
    [
      'ses+api://AKIA:secret@default?region=Europe',
      /"Europe" is not an AWS region/,
      'ses+api://****:****@default?region=Europe',
    ],
    ['mailgun+api://key@default', /API_KEY:DOMAIN/, 'mailgun+api://****@default'],
    [
      'mailgun+api://key:localhost@default',
      /the part after : must be the sending domain/,
      'mailgun+api://****:****@default',
    ],
    [
      'mailgun+api://key:mg.example.com@default?region=asia',
      /region must be us or eu/,
      'mailgun+api://****:****@default?region=asia',
    ],
    ['resend+api://k@default?rate=0', /rate must be a positive number/, 'resend+api://****@default?rate=0'],
    ['resend+api://k@default?rate=-3', /rate must be a positive number/, 'resend+api://****@default?rate=-3'],
    ['resend+api://k@default?rate=fast', /rate must be a positive number/, 'resend+api://****@default?rate=fast'],
    ['resend+api://k@default?rate=', /rate must be a positive number/, 'resend+api://****@default?rate='],
    [
      'resend+api://k@default?rate=Infinity',
      /rate must be a positive number/,
      'resend+api://****@default?rate=Infinity',
    ],
    [
      'resend+api://k@default?timeout_ms=1.5',
      /timeout_ms must be a positive whole number/,
      'resend+api://****@default?timeout_ms=1.5',
    ],
    [
      'resend+api://k@default?timeout_ms=0',
      /timeout_ms must be a positive whole number/,
      'resend+api://****@default?timeout_ms=0',
    ],
    [
      'resend+api://k@default?region=eu',
      /unknown query parameter "region" for resend\+api:\/\/ \(it takes rate, timeout_ms\)/,
      'resend+api://****@default?region=eu',
    ],
    [
      'resend+api://k@default?api_key=hunter2',
      /unknown query parameter "api_key"/,
      'resend+api://****@default?****=****',
    ],
    [
      'postmark+api://t@default?message_stream=a&message_stream=b',
      /"message_stream" is given twice/,
      'postmark+api://****@default?message_stream=a&message_stream=b',
    ],
    [
      'postmark+api://t@default?message_stream=no%20spaces',
      /message_stream must be a Postmark stream ID/,
      'postmark+api://****@default?message_stream=no%20spaces',
    ],
    [
      'smtp://relay:25?message_stream=x',
      /unknown query parameter "message_stream" for smtp:\/\//,
      'smtp://relay:25?message_stream=x',
    ],
    [
      'smtp://relay:25?tls_reject_unauthorized=no',
      /tls_reject_unauthorized must be true or false/,
      'smtp://relay:25?tls_reject_unauthorized=no',
    ],
    ['smtp://:secret@relay:25', /password needs a user name/, 'smtp://****:****@relay:25'],
    ['smtp://', /needs the relay's host/, 'smtp://'],
    ['smtp://relay:25/path', /takes no path/, 'smtp://relay:25/path'],
    ['smtp://bad_host!:25', /not a host name or IP address/, 'smtp://bad_host!:25'],
    ['resend+api://k@default:8080', /host "default" takes no port or path/, 'resend+api://****@default:8080'],
    ['resend+api://k@default/v2', /host "default" takes no port or path/, 'resend+api://****@default/v2'],
    ['resend+api://k@', /needs a host after @/, 'resend+api://****@'],
    ['resend+api://re_a@b!c', /the host after @ is not a host name/, 'resend+api://****@****'],
    [
      'resend+api://k@default?Re_Secret=1',
      /unknown query parameter \(name not shown\) for resend\+api:\/\//,
      'resend+api://****@default?****=****',
    ],
    ['resend+api://k@default#frag', /no #fragment/, 'resend+api://****@default#****'],
    ['resend+api://bad%zzkey@default', /not valid percent-encoding/, 'resend+api://****@default'],
    [
      'ses+api://AKIA:bad%@default?region=eu-west-1',
      /secret after : is not valid percent-encoding/,
      'ses+api://****:****@default?region=eu-west-1',
    ],
    ['cloudflare+email://', /needs the name of a send_email binding/, 'cloudflare+email://'],
    ['cloudflare+email://key@EMAIL', /takes no key/, 'cloudflare+email://****@EMAIL'],
    ['cloudflare+email://EMAIL:25', /only a binding name/, 'cloudflare+email://EMAIL:25'],
    ['cloudflare+email://send-email', /is not a binding name/, 'cloudflare+email://send-email'],
    [
      'cloudflare+email://EMAIL?message_stream=x',
      /unknown query parameter "message_stream"/,
      'cloudflare+email://EMAIL?message_stream=x',
    ],
  ];

  it.each(refusals)('%s', (dsn, problem, shown) => {
    const error = dsnErrorOf(dsn);
    expect(error.problem).toMatch(problem);
    expect(error.redacted).toBe(shown);
    expect(error.message).toBe(`${error.problem} (in ${shown})`);
  });

  it('never shows a key, whatever the problem', () => {
    const keys = ['re_live_only_a_key', 're_in_host_position', 'hunter2', 'AKIA', 'secret', 'bad%zzkey', 'bad%'];
    for (const [dsn] of refusals) {
      const { message } = dsnErrorOf(dsn);
      for (const key of keys) if (dsn.includes(key)) expect(message, dsn).not.toContain(key);
    }
  });
});

describe('redactDsn', () => {
  it('masks user and secret, and values of parameters not known to be public', () => {
    expect(redactDsn('smtps://news%40example.com:p%40ss@smtp.example.com:465')).toBe(
      'smtps://****:****@smtp.example.com:465',
    );
    expect(redactDsn('postmark+api://tok@default?message_stream=broadcast&rate=14')).toBe(
      'postmark+api://****@default?message_stream=broadcast&rate=14',
    );
    expect(redactDsn('resend+api://k@default?token=abc&flag&region=eu')).toBe(
      'resend+api://****@default?****=****&****&region=eu',
    );
    expect(redactDsn('smtp://relay.internal:25')).toBe('smtp://relay.internal:25');
    expect(redactDsn('cloudflare+email://EMAIL')).toBe('cloudflare+email://EMAIL');
  });

  it('masks the host of an API DSN without @, where a key usually sits by mistake', () => {
    expect(redactDsn('resend+api://re_abc')).toBe('resend+api://****');
    expect(redactDsn('resend+api://default/re_abc?rate=2')).toBe('resend+api://****?rate=2');
    expect(redactDsn('mystery://abc')).toBe('mystery://****');
    // After a raw @ in a key, the key's tail where a host should be.
    expect(redactDsn('resend+api://re_a@bcdefg')).toBe('resend+api://****@****');
    expect(redactDsn('resend+api://k@api.example.com:8443/v1')).toBe('resend+api://****@api.example.com:8443/v1');
    expect(redactDsn('resend+api://k@[::1]:4010')).toBe('resend+api://****@[::1]:4010');
  });

  it('shows nothing of a value that is not a DSN', () => {
    expect(redactDsn('re_123')).toBe('****');
    expect(redactDsn('')).toBe('****');
  });

  // Keys as providers issue them (base64 and url-safe alphabets, SES's / + =) plus what a password may
  // hold; long enough that a key cannot hide in the fixed text of a DSN by chance, and never a valid
  // host name (one in the Mailgun domain's place would rightly be shown as the domain).
  const keyChars = fc.constantFrom(
    ..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+=_-.~!$&'()*,;:@%?# ".split(''),
  );
  const key = fc
    .string({ unit: keyChars, minLength: 12, maxLength: 48 })
    .filter((k) => /[A-Za-z0-9]{3}/.test(k) && /[^A-Za-z0-9.-]/.test(k));
  // Written raw, a key keeps its `@`: the user-info ends at the last one.
  const asWritten = (k: string, raw: boolean) =>
    raw ? k.replace(/[%?#]/g, encodeURIComponent) : encodeURIComponent(k);
  // Forms without a host after the key are marked hostless: a raw `@` in the key would make its tail
  // the host, which no parser can tell from a real one, so these carry the key encoded.
  const forms: { dsn: (a: string, b: string) => string; hostless?: true }[] = [
    { dsn: (a) => `resend+api://${a}@default` },
    { dsn: (a) => `postmark+api://${a}@default?message_stream=broadcast&rate=14` },
    { dsn: (a, b) => `ses+api://${a}:${b}@default?region=eu-west-1` },
    { dsn: (a) => `mailgun+api://${a}:mg.example.com@default?region=eu` },
    { dsn: (a, b) => `mailgun+api://${b}:${a}@default?region=eu` },
    { dsn: (a) => `sendgrid+api://${a}@127.0.0.1:4010` },
    { dsn: (a, b) => `smtps://${a}:${b}@smtp.example.com:465` },
    { dsn: (a) => `resend+api://${a}@default?unknown=1` },
    { dsn: (a) => `resend+api://${a}@default?rate=0` },
    { dsn: (a, b) => `ses+api://${a}:${b}@default` },
    // A raw & would split the value, making a piece of the key a parameter name.
    { dsn: (a) => `resend+api://${a}@default?leak=${a.replace(/&/g, '%26')}` },
    { dsn: (a) => `resend+api://${a}`, hostless: true },
    { dsn: (a) => a, hostless: true },
  ];

  it('property: neither the redacted DSN nor any error message contains a key, raw or encoded', () => {
    fc.assert(
      fc.property(key, key, fc.boolean(), fc.nat({ max: forms.length - 1 }), (a, b, raw, i) => {
        const form = forms[i]!;
        const write = (k: string) => asWritten(k, raw && !form.hostless);
        const dsn = form.dsn(write(a), write(b));
        const texts = [redactDsn(dsn)];
        try {
          texts.push(describeTransport(parseMailDsn(dsn)));
        } catch (err) {
          texts.push((err as Error).message);
        }
        for (const text of texts) {
          for (const k of [a, b, encodeURIComponent(a), encodeURIComponent(b)]) expect(text).not.toContain(k);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('property: what was percent-encoded comes back exactly', () => {
    fc.assert(
      fc.property(key, key, (a, b) => {
        const spec = parseMailDsn(
          `ses+api://${encodeURIComponent(a)}:${encodeURIComponent(b)}@default?region=eu-west-1`,
        );
        expect(spec).toMatchObject({ kind: 'ses', accessKeyId: a, secretAccessKey: b });
      }),
      { numRuns: 300 },
    );
  });
});

describe('describeTransport', () => {
  it('a short label with nothing secret in it', () => {
    const label = (dsn: string) => describeTransport(parseMailDsn(dsn));
    expect(label('postmark+api://tok@default?message_stream=broadcast')).toBe('postmark (broadcast stream)');
    expect(label('postmark+api://tok@default')).toBe('postmark');
    expect(label('resend+api://re_1@default')).toBe('resend');
    expect(label('ses+api://A:S@default?region=eu-west-1&rate=14')).toBe('ses (eu-west-1, 14 msg/s)');
    expect(label('mailgun+api://k:mg.example.com@default?region=eu')).toBe('mailgun (mg.example.com, eu)');
    expect(label('sendgrid+api://k@127.0.0.1:4010')).toBe('sendgrid (via http://127.0.0.1:4010)');
    expect(label('smtps://u:p@smtp.example.com')).toBe('smtps (smtp.example.com:465)');
    expect(label('smtp://relay.internal:25')).toBe('smtp (relay.internal:25)');
    expect(label('cloudflare+email://EMAIL')).toBe('cloudflare email service (binding EMAIL)');
  });
});

describe('configuration fields built on the parser', () => {
  // The shape config.ts gives these variables.
  const Schema = z
    .object({ MAIL_DSN: mailDsn, BROADCAST_MAIL_DSN: mailDsn, SMTP_URL: smtpUrlAlias })
    .superRefine((c, ctx) => {
      for (const p of mailSettingsProblems(c)) ctx.addIssue({ code: 'custom', path: [p.key], message: p.message });
    });
  const problemsOf = (env: Record<string, string>) => {
    const r = Schema.safeParse(env);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('parses MAIL_DSN and BROADCAST_MAIL_DSN to transport specs; blank means unset', () => {
    const c = Schema.parse({
      MAIL_DSN: 'cloudflare+email://EMAIL',
      BROADCAST_MAIL_DSN: 'postmark+api://t@default?message_stream=broadcast',
      SMTP_URL: ' ',
    });
    expect(c.MAIL_DSN).toEqual({ kind: 'cloudflare', binding: 'EMAIL' });
    expect(c.BROADCAST_MAIL_DSN).toMatchObject({ kind: 'postmark', messageStream: 'broadcast' });
    expect(c.SMTP_URL).toBeUndefined();
    expect(Schema.parse({ MAIL_DSN: '' }).MAIL_DSN).toBeUndefined();
  });

  it('SMTP_URL stays a string, an alias of an smtp(s) MAIL_DSN', () => {
    const c = Schema.parse({ SMTP_URL: 'smtp://relay.internal:587' });
    expect(c.SMTP_URL).toBe('smtp://relay.internal:587');
    expect(mailTransports(c)).toEqual({
      transactional: expect.objectContaining({ kind: 'smtp', host: 'relay.internal' }),
      broadcast: expect.objectContaining({ kind: 'smtp', host: 'relay.internal' }),
    });
    expect(problemsOf({ SMTP_URL: 'resend+api://re_secret@default' })).toEqual([
      'SMTP_URL: must be an smtp:// or smtps:// URL; use MAIL_DSN for other transports (in resend+api://****@default)',
    ]);
    expect(problemsOf({ SMTP_URL: 'smtp://user:secret@relay:25', MAIL_DSN: 'smtp://relay:25' })).toEqual([
      'SMTP_URL: is an alias of MAIL_DSN: set one of them, not both',
    ]);
  });

  it('broadcasts use their own transport when named, else the transactional one', () => {
    const both = Schema.parse({
      MAIL_DSN: 'cloudflare+email://EMAIL',
      BROADCAST_MAIL_DSN: 'resend+api://re_1@default',
    });
    expect(mailTransports(both)).toMatchObject({
      transactional: { kind: 'cloudflare' },
      broadcast: { kind: 'resend' },
    });
    expect(mailTransports({})).toEqual({ transactional: undefined, broadcast: undefined });
  });

  it('a bad DSN is one problem naming the variable, the key masked', () => {
    const problems = problemsOf({ MAIL_DSN: 'resend+api://re_topsecret@default?rate=-1' });
    expect(problems).toEqual([
      'MAIL_DSN: rate must be a positive number of messages per second, e.g. rate=14 (in resend+api://****@default?rate=-1)',
    ]);
    expect(problems.join()).not.toContain('re_topsecret');
  });

  it('Cloudflare Email Service is refused as the broadcast transport (transactional only)', () => {
    expect(problemsOf({ BROADCAST_MAIL_DSN: 'cloudflare+email://EMAIL' })).toEqual([
      'BROADCAST_MAIL_DSN: Cloudflare Email Service carries transactional mail only; name a bulk provider for broadcasts',
    ]);
  });

  it('cloudflare+email is refused on Node and accepted on Workers', () => {
    const c = Schema.parse({ MAIL_DSN: 'cloudflare+email://EMAIL', BROADCAST_MAIL_DSN: 'resend+api://re_1@default' });
    expect(mailSettingsProblems(c, 'workers')).toEqual([]);
    expect(mailSettingsProblems(c, 'node')).toEqual([
      { key: 'MAIL_DSN', message: expect.stringMatching(/needs a Workers send_email binding/) },
    ]);
    expect(transportRuntimeProblem(parseMailDsn('smtp://relay:25'), 'workers')).toBeUndefined();
    expect(transportRuntimeProblem(parseMailDsn('resend+api://k@default'), 'node')).toBeUndefined();
  });
});
