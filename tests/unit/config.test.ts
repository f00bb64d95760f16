import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';

/** The exact sentence the book's site shows beside its signup form (DESIGN.md). */
const SITE_CONSENT_WORDING =
  'Leave your email to hear when the book is available and for occasional updates. We only collect your ' +
  'address to contact you about this book — no third-party ads, no resale.';

const PRODUCTION_ENV = {
  NODE_ENV: 'production',
  SECRET_KEY: 'p'.repeat(48),
  PUBLIC_URL: 'https://book.example',
  DATABASE_URL: 'postgres://quire@db.internal:5432/quire',
  SMTP_URL: 'smtp://relay.internal:587',
  ADMIN_TOKEN: 'a'.repeat(32),
};

/** The ConfigError a bad environment throws; fails the test when nothing is thrown. */
function configErrorOf(env: Record<string, unknown>): ConfigError {
  try {
    parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('configuration defaults', () => {
  it('starts from an empty environment with the embedded defaults', () => {
    const c = parseConfig({});
    expect(c.NODE_ENV).toBe('development');
    expect(c.PORT).toBe(8787);
    expect(c.QUIRE_DATA_DIR).toBe('./.quire');
    expect(c.RATE_LIMIT_IP).toBe(20);
    expect(c.RATE_LIMIT_ADDRESS).toBe(3);
    expect(c.TRUST_PROXY).toBe(false);
    expect(c.ALLOWED_ORIGINS).toEqual([]);
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.SMTP_URL).toBeUndefined();
    expect(c.SECRET_KEY).toBeUndefined();
    expect(c.ADMIN_TOKEN).toBeUndefined();
  });

  it('uses the site’s consent wording as consent text v1', () => {
    expect(parseConfig({}).CONSENT_TEXT).toBe(SITE_CONSENT_WORDING);
  });

  it('defaults PUBLIC_URL to http://localhost:PORT, following PORT', () => {
    expect(parseConfig({}).PUBLIC_URL).toBe('http://localhost:8787');
    expect(parseConfig({ PORT: '3000' }).PUBLIC_URL).toBe('http://localhost:3000');
  });

  it('keeps an explicit PUBLIC_URL, without a trailing slash', () => {
    expect(parseConfig({ PUBLIC_URL: 'https://book.example/' }).PUBLIC_URL).toBe('https://book.example');
  });

  it('treats empty optional variables as unset', () => {
    const c = parseConfig({ DATABASE_URL: '', SMTP_URL: ' ', SECRET_KEY: '', ADMIN_TOKEN: '  ', PUBLIC_URL: '' });
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.SMTP_URL).toBeUndefined();
    expect(c.SECRET_KEY).toBeUndefined();
    expect(c.ADMIN_TOKEN).toBeUndefined();
    expect(c.PUBLIC_URL).toBe('http://localhost:8787');
  });

  // Guards against a bug: z.coerce.number('') is 0, so `PORT=` in an env file silently meant port 0
  // (and http://localhost:0 as PUBLIC_URL) instead of the default.
  it('treats blank numeric variables as unset, not as 0', () => {
    const c = parseConfig({
      PORT: '',
      RATE_LIMIT_IP: ' ',
      RATE_LIMIT_ADDRESS: '',
      CONFIRM_COOLDOWN_SECONDS: '',
      SIGNUP_MIN_FILL_MS: '',
      DB_TIMEOUT_MS: '',
    });
    expect(c).toMatchObject({
      PORT: 8787,
      PUBLIC_URL: 'http://localhost:8787',
      RATE_LIMIT_IP: 20,
      RATE_LIMIT_ADDRESS: 3,
      CONFIRM_COOLDOWN_SECONDS: 600,
      SIGNUP_MIN_FILL_MS: 1500,
      DB_TIMEOUT_MS: 5000,
    });
  });

  it('coerces numeric variables from strings', () => {
    const c = parseConfig({ PORT: '8080', RATE_LIMIT_IP: '5', RATE_LIMIT_ADDRESS: '1', DELIVERY_RATE: '10' });
    expect(c).toMatchObject({ PORT: 8080, RATE_LIMIT_IP: 5, RATE_LIMIT_ADDRESS: 1, DELIVERY_RATE: 10 });
  });
});

describe('configuration errors', () => {
  it('reports several bad variables at once in one ConfigError naming every one of them', () => {
    const err = configErrorOf({
      PORT: 'eighty',
      DATABASE_URL: 'mysql://db.example/quire',
      SMTP_URL: 'http://relay.example',
      SECRET_KEY: 'too-short',
      ADMIN_TOKEN: 'short',
      RATE_LIMIT_IP: '-1',
      LOG_LEVEL: 'chatty',
      ALLOWED_ORIGINS: 'book.example',
    });
    const named = [
      'PORT',
      'DATABASE_URL',
      'SMTP_URL',
      'SECRET_KEY',
      'ADMIN_TOKEN',
      'RATE_LIMIT_IP',
      'LOG_LEVEL',
      'ALLOWED_ORIGINS',
    ];
    for (const key of named) expect(err.message).toContain(key);
    expect(err.problems).toHaveLength(named.length);
    expect(err.message).toMatch(/^Invalid configuration:/);
  });

  it('does not echo a secret value back in the error', () => {
    const err = configErrorOf({ SECRET_KEY: 'my-very-secret-but-short' });
    expect(err.message).toContain('SECRET_KEY');
    expect(err.message).not.toContain('my-very-secret-but-short');
  });

  it('accepts a complete production environment', () => {
    const c = parseConfig(PRODUCTION_ENV);
    expect(c.NODE_ENV).toBe('production');
    expect(c.PUBLIC_URL).toBe('https://book.example');
  });

  it('refuses production without SECRET_KEY', () => {
    const { SECRET_KEY: _omitted, ...env } = PRODUCTION_ENV;
    const err = configErrorOf(env);
    expect(err.problems).toEqual([expect.stringMatching(/^SECRET_KEY: .*required in production/)]);
  });

  it('refuses production with nothing set, naming every required variable in one error', () => {
    const err = configErrorOf({ NODE_ENV: 'production' });
    // The mail transport is MAIL_DSN now; SMTP_URL is its alias.
    for (const key of ['SECRET_KEY', 'PUBLIC_URL', 'DATABASE_URL', 'MAIL_DSN', 'ADMIN_TOKEN']) {
      expect(err.message).toMatch(new RegExp(`${key}: .*required in production`));
    }
  });

  it('takes the mail transport as MAIL_DSN, with SMTP_URL as its alias, and refuses both at once', () => {
    expect(
      parseConfig({ MAIL_DSN: 'postmark+api://server-token@default?message_stream=broadcast' }).MAIL_DSN,
    ).toMatchObject({
      kind: 'postmark',
      messageStream: 'broadcast',
    });
    expect(parseConfig({ SMTP_URL: 'smtp://relay.internal:587' }).SMTP_URL).toBe('smtp://relay.internal:587');
    const both = configErrorOf({ MAIL_DSN: 'resend+api://re_key@default', SMTP_URL: 'smtp://relay.internal:587' });
    expect(both.problems).toEqual([expect.stringMatching(/^SMTP_URL: is an alias of MAIL_DSN/)]);
  });

  it('refuses a bad DSN with one message that names it, the key redacted', () => {
    const err = configErrorOf({ MAIL_DSN: 'sparkpost+api://sk_live_secret@default' });
    expect(err.message).toMatch(/^ {2}- MAIL_DSN: /m);
    expect(err.message).not.toContain('sk_live_secret');
  });

  it('refuses Cloudflare Email Service on Node, and for broadcasts anywhere', () => {
    expect(configErrorOf({ MAIL_DSN: 'cloudflare+email://EMAIL' }).message).toMatch(/MAIL_DSN: .*send_email binding/);
    expect(
      configErrorOf({ MAIL_DSN: 'resend+api://re_key@default', BROADCAST_MAIL_DSN: 'cloudflare+email://EMAIL' })
        .message,
    ).toMatch(/BROADCAST_MAIL_DSN: .*transactional mail only/);
  });

  it('refuses an empty SECRET_KEY in production (blank is not a secret)', () => {
    const err = configErrorOf({ ...PRODUCTION_ENV, SECRET_KEY: '   ' });
    expect(err.message).toContain('SECRET_KEY');
  });

  it('refuses an unknown NODE_ENV', () => {
    expect(configErrorOf({ NODE_ENV: 'staging' }).message).toContain('NODE_ENV');
  });
});

describe('ALLOWED_ORIGINS', () => {
  it('splits a comma-separated list, trimming spaces, trailing slashes and empty entries', () => {
    const c = parseConfig({
      ALLOWED_ORIGINS: ' https://book.example , http://localhost:5173/,,https://www.book.example ',
    });
    expect(c.ALLOWED_ORIGINS).toEqual(['https://book.example', 'http://localhost:5173', 'https://www.book.example']);
  });

  it('accepts the wildcard', () => {
    expect(parseConfig({ ALLOWED_ORIGINS: '*' }).ALLOWED_ORIGINS).toEqual(['*']);
  });

  it('is empty when unset or blank', () => {
    expect(parseConfig({ ALLOWED_ORIGINS: '' }).ALLOWED_ORIGINS).toEqual([]);
    expect(parseConfig({ ALLOWED_ORIGINS: ' , ' }).ALLOWED_ORIGINS).toEqual([]);
  });

  it.each([
    ['no scheme', 'book.example'],
    ['a path', 'https://book.example/signup'],
    ['another scheme', 'ftp://book.example'],
    ['one bad among good ones', 'https://book.example,book.example'],
  ])('rejects an entry with %s', (_label, value) => {
    expect(configErrorOf({ ALLOWED_ORIGINS: value }).message).toContain('ALLOWED_ORIGINS');
  });
});

describe('TRUST_PROXY', () => {
  it.each(['true', '1', 'yes', 'on'])('reads %j as true', (value) => {
    expect(parseConfig({ TRUST_PROXY: value }).TRUST_PROXY).toBe(true);
  });

  it.each(['false', '0', 'no', 'off', ''])('reads %j as false', (value) => {
    expect(parseConfig({ TRUST_PROXY: value }).TRUST_PROXY).toBe(false);
  });

  it('accepts real booleans (Workers bindings)', () => {
    expect(parseConfig({ TRUST_PROXY: true }).TRUST_PROXY).toBe(true);
    expect(parseConfig({ TRUST_PROXY: false }).TRUST_PROXY).toBe(false);
  });

  it.each(['maybe', '2', 'y'])('rejects %j instead of guessing', (value) => {
    expect(configErrorOf({ TRUST_PROXY: value }).message).toContain('TRUST_PROXY');
  });
});

describe('on Workers', () => {
  const WORKER_ENV = {
    DATABASE_URL: 'postgres://quire@hyperdrive.local:5432/quire',
    SMTP_URL: 'smtp://relay.example:587',
    SECRET_KEY: 's'.repeat(48),
    PUBLIC_URL: 'https://news.book.example',
  };

  it('needs a database, a mail transport, a secret and a public URL, naming each that is missing', () => {
    let err: ConfigError | undefined;
    try {
      parseConfig({ PUBLIC_URL: ' ' }, 'workers');
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems).toEqual([
      expect.stringMatching(/^DATABASE_URL: needs a Hyperdrive binding/),
      expect.stringMatching(/^MAIL_DSN: is required on Workers/),
      expect.stringMatching(/^SECRET_KEY: is required on Workers/),
      expect.stringMatching(/^PUBLIC_URL: is required on Workers/),
    ]);
  });

  it('starts with them, while Node starts without any', () => {
    expect(parseConfig(WORKER_ENV, 'workers').PUBLIC_URL).toBe('https://news.book.example');
    expect(parseConfig({}).DATABASE_URL).toBeUndefined();
  });

  it('reads the queue fan-out settings, with defaults', () => {
    expect(parseConfig(WORKER_ENV, 'workers')).toMatchObject({ QUEUE_FANOUT: 10, QUEUE_SLICE_SECONDS: 25 });
    expect(parseConfig({ ...WORKER_ENV, QUEUE_FANOUT: '0', QUEUE_SLICE_SECONDS: '600' }, 'workers')).toMatchObject({
      QUEUE_FANOUT: 0,
      QUEUE_SLICE_SECONDS: 600,
    });
  });

  it('rejects a bad fan-out setting by name', () => {
    expect(configErrorOf({ QUEUE_FANOUT: '-1', QUEUE_SLICE_SECONDS: '601' }).problems).toEqual([
      'QUEUE_FANOUT: must be a whole number ≥ 0',
      'QUEUE_SLICE_SECONDS: must be a whole number from 1 to 600',
    ]);
  });
});
