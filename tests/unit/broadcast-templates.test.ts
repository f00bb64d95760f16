import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { type BroadcastContext, previewContext } from '../../emails/_components/broadcast-context.js';
import { paragraphsOf } from '../../emails/_components/props.js';
import { templates } from '../../emails/index.js';
import {
  ReleaseAnnouncement,
  ReleaseAnnouncementProps,
  releaseAnnouncementLimits,
} from '../../emails/release-announcement.js';
import {
  UpdateAnnouncement,
  UpdateAnnouncementProps,
  updateAnnouncementLimits,
} from '../../emails/update-announcement.js';
import { personalise, renderOnce } from '../../src/mail/personalise.js';
import { renderEmail } from '../../src/mail/render.js';

// React escapes exactly these five characters in text and in attribute values.
const escapeHtml = (s: string) =>
  s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#x27;');
const bytes = (s: string) => new TextEncoder().encode(s).byteLength;
const count = (haystack: string, needle: string) => haystack.split(needle).length - 1;
const GMAIL_SAFE = 100 * 1024;

const release = templates['release-announcement']!;
const update = templates['update-announcement']!;
const render = (name: 'release-announcement' | 'update-announcement', props: unknown, ctx: BroadcastContext) =>
  renderEmail(templates[name]!.element(props as Record<string, unknown>, ctx));

const ctxWith = (overrides: Partial<BroadcastContext> & { recipient?: Partial<BroadcastContext['recipient']> }) => ({
  ...previewContext,
  ...overrides,
  recipient: { ...previewContext.recipient, ...overrides.recipient },
});

/** The issues of a failed parse as "path: message" lines, for readable assertions. */
const issuesOf = (schema: z.ZodType, input: unknown) => {
  const result = schema.safeParse(input);
  expect(result.success).toBe(false);
  return result.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};

const releasePreview = ReleaseAnnouncement.PreviewProps;
const updatePreview = UpdateAnnouncement.PreviewProps;

describe('broadcast template registry', () => {
  it('registers both templates as broadcasts under their own names', () => {
    for (const name of ['release-announcement', 'update-announcement']) {
      expect(templates[name]?.name).toBe(name);
      expect(templates[name]?.kind).toBe('broadcast');
      expect(templates[name]?.description.length).toBeGreaterThan(10);
    }
    expect(release.schema).toBe(ReleaseAnnouncementProps);
    expect(update.schema).toBe(UpdateAnnouncementProps);
    expect(release.previewProps).toBe(releasePreview);
    expect(update.previewProps).toBe(updatePreview);
  });

  it('preview props pass their schemas', () => {
    expect(ReleaseAnnouncementProps.safeParse(releasePreview).success).toBe(true);
    expect(UpdateAnnouncementProps.safeParse(updatePreview).success).toBe(true);
  });

  it('refuses to render without a broadcast context', () => {
    expect(() => release.element(releasePreview)).toThrow(/broadcast context/);
    expect(() => update.element(updatePreview)).toThrow(/broadcast context/);
  });

  it('validates props when building the element', () => {
    expect(() => release.element({ ...releasePreview, links: [] }, previewContext)).toThrow();
    expect(() => update.element({ ...updatePreview, url: 'http://x.example.com' }, previewContext)).toThrow();
  });
});

describe('release-announcement', () => {
  it('renders html with lang, preheader, greeting, title, cover, blurb and every link', async () => {
    const { html } = await render('release-announcement', releasePreview, previewContext);
    expect(html).toContain('lang="en"');
    expect(html).toContain(previewContext.preheader);
    expect(html).toContain(`>${previewContext.recipient.greeting}</p>`);
    expect(html).toContain(`>${escapeHtml(releasePreview.title)}</h1>`);
    expect(html).toContain(`alt="${escapeHtml(releasePreview.coverAlt)}"`);
    expect(html).toContain(`src="${escapeHtml(releasePreview.coverImageUrl)}"`);
    expect(html).toContain('width="200"');
    expect(html).toContain('height="300"');
    for (const paragraph of paragraphsOf(releasePreview.blurb)) {
      expect(html).toContain(`>${escapeHtml(paragraph)}</p>`);
    }
    for (const link of releasePreview.links) {
      expect(html).toContain(`href="${escapeHtml(link.url)}"`);
      expect(html).toContain(`>${escapeHtml(link.label)}</span>`);
    }
    // A link with `&` is escaped in the attribute.
    expect(releasePreview.links.some((l) => l.url.includes('&'))).toBe(true);
    expect(html).toContain(escapeHtml(releasePreview.note));
    expect(html).toContain(`href="${previewContext.recipient.unsubscribeUrl}"`);
    expect(html).toContain(`href="${previewContext.recipient.preferencesUrl}"`);
    expect(html).toContain(
      escapeHtml(`You're receiving this because you asked to hear when ${previewContext.bookTitle} is available.`),
    );
    expect(html).toContain(previewContext.postalAddress);
    expect(bytes(html)).toBeLessThan(GMAIL_SAFE);
  });

  it('renders a text part with greeting, title, raw link URLs, footer links and postal address', async () => {
    const { text } = await render('release-announcement', releasePreview, previewContext);
    expect(text).toMatch(/^Hi Ada,$/m);
    expect(text).toContain(releasePreview.title);
    for (const link of releasePreview.links) expect(text).toContain(`${link.label} [${link.url}]`);
    expect(text).toContain(`Manage preferences [${previewContext.recipient.preferencesUrl}]`);
    expect(text).toContain(`Unsubscribe [${previewContext.recipient.unsubscribeUrl}]`);
    expect(text).toContain(previewContext.postalAddress);
    expect(text).toContain(releasePreview.note);
    // Paragraphs stay paragraphs; the hidden preheader and the image are not in the text part.
    for (const paragraph of paragraphsOf(releasePreview.blurb)) expect(text).toContain(`\n${paragraph}\n`);
    expect(text).not.toContain(previewContext.preheader);
    expect(text).not.toContain('&amp;');
    expect(text).not.toContain('<');
  });

  it('uses the context lang and a multi-line postal address', async () => {
    const { html, text } = await render(
      'release-announcement',
      releasePreview,
      ctxWith({ lang: 'de', postalAddress: 'Jane Author\n1 Example Street\nSpringfield' }),
    );
    expect(html).toContain('lang="de"');
    expect(html).not.toContain('lang="en"');
    expect(text).toContain('Jane Author\n1 Example Street\nSpringfield');
  });

  it('leaves out the note when there is none and honours a custom cover size', async () => {
    const { note: _note, ...withoutNote } = releasePreview;
    const { html } = await render(
      'release-announcement',
      { ...withoutNote, coverWidth: 240, coverHeight: 240 },
      previewContext,
    );
    expect(html).not.toContain('Thank you for waiting');
    expect(html).toContain('width="240"');
    expect(html).toContain('height="240"');
  });

  it('splits the blurb on blank lines only', () => {
    expect(paragraphsOf('One\ntwo\n\nThree\r\n \r\nFour\n\n\n\n')).toEqual(['One\ntwo', 'Three', 'Four']);
    expect(paragraphsOf('  \n\n  ')).toEqual([]);
  });

  it('escapes author text and refuses dangerous URLs', async () => {
    const { html } = await render(
      'release-announcement',
      { ...releasePreview, title: '<script>alert(1)</script>', blurb: '<img src=x onerror=alert(1)>' },
      previewContext,
    );
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(
      issuesOf(ReleaseAnnouncementProps, { ...releasePreview, links: [{ label: 'x', url: 'javascript:alert(1)' }] }),
    ).toEqual(['links.0.url: Link URL must be an https:// URL with a domain name']);
  });

  describe('schema', () => {
    it('rejects a cover URL that is not https', () => {
      for (const coverImageUrl of [
        'http://books.example.com/cover.png',
        '//books.example.com/cover.png',
        'cover.png',
        'https:books.example.com/cover.png',
        'https://books.example.com/co\nver.png',
        'javascript:alert(1)//https://books.example.com/',
      ]) {
        const issues = issuesOf(ReleaseAnnouncementProps, { ...releasePreview, coverImageUrl });
        expect(issues).toEqual(['coverImageUrl: Cover image URL must be an https:// URL with a domain name']);
      }
      expect(
        issuesOf(ReleaseAnnouncementProps, { ...releasePreview, coverImageUrl: 'https://localhost/cover.png' }),
      ).toEqual(['coverImageUrl: Cover image URL must be an https:// URL with a domain name']);
    });

    it('requires a cover URL of sensible length', () => {
      const { coverImageUrl: _url, ...withoutCover } = releasePreview;
      expect(issuesOf(ReleaseAnnouncementProps, withoutCover)).toEqual(['coverImageUrl: Cover image URL is required']);
      const tooLong = `https://books.example.com/${'x'.repeat(releaseAnnouncementLimits.url)}`;
      expect(issuesOf(ReleaseAnnouncementProps, { ...releasePreview, coverImageUrl: tooLong })).toEqual([
        `coverImageUrl: Cover image URL must be at most ${releaseAnnouncementLimits.url} characters`,
      ]);
    });

    it('requires cover alt text that is not blank', () => {
      const { coverAlt: _alt, ...withoutAlt } = releasePreview;
      expect(issuesOf(ReleaseAnnouncementProps, withoutAlt)).toEqual(['coverAlt: Cover alt text is required']);
      expect(issuesOf(ReleaseAnnouncementProps, { ...releasePreview, coverAlt: '   ' })).toEqual([
        'coverAlt: Cover alt text must not be empty',
      ]);
    });

    it('requires one to four links with a label and an https URL', () => {
      expect(issuesOf(ReleaseAnnouncementProps, { ...releasePreview, links: [] })).toEqual([
        'links: Add at least one link where the book can be bought or read',
      ]);
      const link = releasePreview.links[0]!;
      expect(issuesOf(ReleaseAnnouncementProps, { ...releasePreview, links: Array(5).fill(link) })).toEqual([
        'links: At most 4 links',
      ]);
      expect(
        issuesOf(ReleaseAnnouncementProps, {
          ...releasePreview,
          links: [link, { label: '', url: 'http://books.example.com/buy' }],
        }),
      ).toEqual([
        'links.1.label: Link label must not be empty',
        'links.1.url: Link URL must be an https:// URL with a domain name',
      ]);
    });

    it('rejects a blurb that is too long or has too many paragraphs', () => {
      const { blurb: max, blurbParagraphs } = releaseAnnouncementLimits;
      expect(ReleaseAnnouncementProps.safeParse({ ...releasePreview, blurb: 'x'.repeat(max) }).success).toBe(true);
      expect(issuesOf(ReleaseAnnouncementProps, { ...releasePreview, blurb: 'x'.repeat(max + 1) })).toEqual([
        `blurb: Blurb must be at most ${max} characters`,
      ]);
      // 1,600 one-letter paragraphs fit in 5,000 characters but would be ~250 kB of <p> markup.
      expect(
        issuesOf(ReleaseAnnouncementProps, { ...releasePreview, blurb: Array(1600).fill('x').join('\n\n') }),
      ).toEqual([
        `blurb: Blurb must have at most ${blurbParagraphs} paragraphs (separate paragraphs with a blank line)`,
      ]);
      expect(issuesOf(ReleaseAnnouncementProps, { ...releasePreview, blurb: ' \n\n ' })).toEqual([
        'blurb: Blurb must not be empty',
      ]);
    });

    it('rejects a title that is too long and a missing title', () => {
      const { title: _t, ...withoutTitle } = releasePreview;
      expect(issuesOf(ReleaseAnnouncementProps, withoutTitle)).toEqual(['title: Title is required']);
      expect(issuesOf(ReleaseAnnouncementProps, { ...releasePreview, title: 'x'.repeat(201) })).toEqual([
        'title: Title must be at most 200 characters',
      ]);
    });

    it('trims author text but keeps URLs exactly as written', () => {
      const url = 'https://books.example.com/buy?a=1&b=%20two#frag';
      const parsed = ReleaseAnnouncementProps.parse({
        ...releasePreview,
        title: '  Spaced title  ',
        links: [{ label: ' Buy ', url: ` ${url} ` }],
      });
      expect(parsed.title).toBe('Spaced title');
      expect(parsed.links).toEqual([{ label: 'Buy', url }]);
      expect(parsed.coverWidth).toBe(200);
      expect(parsed.coverHeight).toBe(300);
    });
  });
});

describe('update-announcement', () => {
  const ctx = ctxWith({ preheader: 'A new chapter article: coaching through tech refinement.' });

  it('renders html with lang, preheader, greeting, kicker, title, summary and the link', async () => {
    const { html } = await render('update-announcement', updatePreview, ctx);
    expect(html).toContain('lang="en"');
    expect(html).toContain(ctx.preheader);
    expect(html).toContain(`>${ctx.recipient.greeting}</p>`);
    expect(html).toContain('>New chapter article</p>');
    expect(html).toContain('>Coaching through tech refinement (Chapter 21)</h1>');
    expect(html).toContain(
      '>Shoshin and who goes first, inviting quieter voices, teaching the why behind the how, and building autonomy one session at a time.</p>',
    );
    expect(updatePreview.url).toContain('&');
    expect(html).toContain(`href="${escapeHtml(updatePreview.url)}"`);
    expect(html).toContain('>Read the article →</span>');
    expect(html).toContain(`href="${ctx.recipient.unsubscribeUrl}"`);
    expect(html).toContain(`href="${ctx.recipient.preferencesUrl}"`);
    expect(html).toContain(
      escapeHtml(`You're receiving this because you subscribed to occasional updates about ${ctx.bookTitle}.`),
    );
    expect(html).toContain(ctx.postalAddress);
    expect(bytes(html)).toBeLessThan(GMAIL_SAFE);
  });

  it('renders a text part with greeting, title, raw URL, footer links and postal address', async () => {
    const { text } = await render('update-announcement', updatePreview, ctx);
    expect(text).toMatch(/^Hi Ada,$/m);
    expect(text).toContain('Coaching through tech refinement (Chapter 21)');
    expect(text).toContain(`Read the article → [${updatePreview.url}]`);
    expect(text).toContain(`Manage preferences [${ctx.recipient.preferencesUrl}]`);
    expect(text).toContain(`Unsubscribe [${ctx.recipient.unsubscribeUrl}]`);
    expect(text).toContain(ctx.postalAddress);
    expect(text).not.toContain('&amp;');
  });

  it('defaults the link label and leaves out a missing kicker', async () => {
    const { kicker: _k, ...plain } = updatePreview;
    expect(UpdateAnnouncementProps.parse(plain).linkLabel).toBe('Read the article →');
    const { html } = await render('update-announcement', { ...plain, linkLabel: 'Read the chapter' }, ctx);
    expect(html).not.toContain('New chapter article');
    expect(html).toContain('>Read the chapter</span>');
  });

  it('rejects bad props with issues that name the field', () => {
    expect(issuesOf(UpdateAnnouncementProps, { ...updatePreview, url: 'http://books.example.com/a' })).toEqual([
      'url: URL must be an https:// URL with a domain name',
    ]);
    expect(issuesOf(UpdateAnnouncementProps, { ...updatePreview, summary: '' })).toEqual([
      'summary: Summary must not be empty',
    ]);
    expect(issuesOf(UpdateAnnouncementProps, { ...updatePreview, kicker: 'x'.repeat(61) })).toEqual([
      'kicker: Kicker must be at most 60 characters',
    ]);
    expect(issuesOf(UpdateAnnouncementProps, { ...updatePreview, linkLabel: ' ' })).toEqual([
      'linkLabel: Link label must not be empty',
    ]);
    const { title: _t, ...withoutTitle } = updatePreview;
    expect(issuesOf(UpdateAnnouncementProps, withoutTitle)).toEqual(['title: Title is required']);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Worst case: every author field at its limit, filled with the characters React escapes to the most bytes
// (`"` → &quot;, `'` → &#x27;: six bytes each), plus a generous context.

const fill = (n: number, ch = '"') => ch.repeat(n);
const longUrl = (max: number) => {
  const base = 'https://books.example.com/';
  return base + fill(max - base.length, "'");
};
const paragraphsFilling = (maxChars: number, maxParagraphs: number) => {
  const each = Math.floor((maxChars - (maxParagraphs - 1) * 2) / maxParagraphs);
  return Array.from({ length: maxParagraphs }, () => fill(each, "'")).join('\n\n');
};
const worstContext: BroadcastContext = {
  recipient: {
    greeting: `Hi ${fill(100)},`,
    unsubscribeUrl: `https://news.example.com/unsubscribe/${'t'.repeat(200)}`,
    preferencesUrl: `https://news.example.com/preferences/${'t'.repeat(200)}`,
  },
  preheader: fill(300),
  lang: 'en',
  bookTitle: fill(200),
  postalAddress: Array(5).fill(fill(100)).join('\n'),
};

describe('worst case size (Gmail clips at ~102 kB)', () => {
  it('release-announcement stays under 100 kB with every field at its limit', async () => {
    const L = releaseAnnouncementLimits;
    const props = {
      title: fill(L.title),
      coverImageUrl: longUrl(L.url),
      coverAlt: fill(L.coverAlt),
      coverWidth: 512,
      coverHeight: 800,
      blurb: paragraphsFilling(L.blurb, L.blurbParagraphs),
      links: Array.from({ length: L.links }, () => ({ label: fill(L.linkLabel), url: longUrl(L.url) })),
      note: paragraphsFilling(L.note, L.noteParagraphs),
    } satisfies z.input<typeof ReleaseAnnouncementProps>;
    const parsed = ReleaseAnnouncementProps.parse(props);
    expect(parsed.blurb.length).toBeLessThanOrEqual(L.blurb);
    expect(paragraphsOf(parsed.blurb)).toHaveLength(L.blurbParagraphs);
    expect(parsed.links[0]!.url).toHaveLength(L.url);

    const { html, text } = await render('release-announcement', props, worstContext);
    expect(bytes(html)).toBeLessThan(GMAIL_SAFE);
    expect(text).toContain(worstContext.recipient.unsubscribeUrl);
    // Also the one-letter-paragraph shape at the paragraph limit.
    const many = { ...props, blurb: Array(L.blurbParagraphs).fill('x').join('\n\n') };
    expect(bytes((await render('release-announcement', many, worstContext)).html)).toBeLessThan(bytes(html));
  });

  it('update-announcement stays under 100 kB with every field at its limit', async () => {
    const L = updateAnnouncementLimits;
    const props = {
      kicker: fill(L.kicker),
      title: fill(L.title),
      summary: paragraphsFilling(L.summary, L.summaryParagraphs),
      url: longUrl(L.url),
      linkLabel: fill(L.linkLabel),
    } satisfies z.input<typeof UpdateAnnouncementProps>;
    UpdateAnnouncementProps.parse(props);
    const { html } = await render('update-announcement', props, worstContext);
    expect(bytes(html)).toBeLessThan(GMAIL_SAFE);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The render-once contract (broadcast-context.ts): rendering with placeholders and substituting the
// recipient's values (HTML-escaped in the HTML part, raw in the text part) must equal rendering for that
// recipient directly. This holds only if templates use the slots verbatim and exactly where they belong.

const slots = {
  greeting: 'QUIRE_SLOT_GREETING',
  unsubscribeUrl: 'https://news.example.com/unsubscribe/QUIRE_SLOT_UNSUBSCRIBE',
  preferencesUrl: 'https://news.example.com/preferences/QUIRE_SLOT_PREFERENCES',
};
const recipients = [
  {
    greeting: 'Hi Ada,',
    unsubscribeUrl: 'https://news.example.com/unsubscribe/abc?x=1&y=2',
    preferencesUrl: 'https://news.example.com/preferences/abc?x=1&y=2',
  },
  {
    greeting: `Hi Zoë "Z" <O'Brien> & co — a rather long name that goes on and on and on and on and on,`,
    unsubscribeUrl: `https://news.example.com/unsubscribe/${'z'.repeat(120)}`,
    preferencesUrl: `https://news.example.com/preferences/${'z'.repeat(120)}`,
  },
  { greeting: 'Hi,', unsubscribeUrl: 'https://n.example.com/u/1', preferencesUrl: 'https://n.example.com/p/1' },
];
const substitute = (rendered: string, values: typeof slots, encode: (s: string) => string) =>
  rendered
    .replaceAll(encode(slots.greeting), encode(values.greeting))
    .replaceAll(encode(slots.unsubscribeUrl), encode(values.unsubscribeUrl))
    .replaceAll(encode(slots.preferencesUrl), encode(values.preferencesUrl));

describe.each([
  ['release-announcement', releasePreview],
  ['update-announcement', updatePreview],
] as const)('%s under render-once personalisation', (name, props) => {
  it('places each recipient slot exactly once in html and text, never in the preheader', async () => {
    const { html, text } = await render(name, props, ctxWith({ recipient: slots }));
    for (const value of Object.values(slots)) {
      expect(count(html, value)).toBe(1);
      expect(count(text, value)).toBe(1);
    }
    const preheader = html.slice(html.indexOf('data-skip-in-text'), html.indexOf('<!--body-->'));
    expect(preheader).not.toContain('QUIRE_SLOT');
  });

  it.each(recipients.map((r) => [r.greeting, r] as const))(
    'substitution equals a direct render for %s',
    async (_, recipient) => {
      const once = await render(name, props, ctxWith({ recipient: slots }));
      const direct = await render(name, props, ctxWith({ recipient }));
      expect(substitute(once.html, recipient, escapeHtml)).toBe(direct.html);
      expect(substitute(once.text, recipient, (s) => s)).toBe(direct.text);
    },
  );

  it('works with the engine: renderOnce + personalise equals a direct render', async () => {
    const { recipient: _r, ...broadcast } = previewContext;
    const once = await renderOnce(templates[name]!, props, broadcast);
    for (const recipient of recipients) {
      expect(personalise(once, recipient)).toEqual(await render(name, props, ctxWith({ recipient })));
    }
  });

  it('renders the same props identically twice (deterministic)', async () => {
    const a = await render(name, props, previewContext);
    const b = await render(name, structuredClone(props), previewContext);
    expect(b.html).toBe(a.html);
    expect(b.text).toBe(a.text);
  });
});
