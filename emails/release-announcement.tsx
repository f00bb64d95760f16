import { Button } from '@react-email/button';
import { Heading } from '@react-email/heading';
import { Img } from '@react-email/img';
import { Section } from '@react-email/section';
import { Text } from '@react-email/text';
import { z } from 'zod';
import type { BroadcastContext } from './_components/broadcast-context.js';
import { EmailFooter } from './_components/footer.js';
import { EmailLayout, styles } from './_components/layout.js';
import { httpsUrl, keyedBy, openingLine, paragraphs, paragraphsOf, requiredText } from './_components/props.js';

/**
 * Upper bounds on the author's props. They exist so that the worst case (~85 kB) still renders under Gmail's
 * ~102 kB clipping point: React escapes `"` and `'` to six bytes each, so 5,000 characters of blurb can
 * cost 30 kB of HTML, and every paragraph adds a styled <p>. tests/unit/broadcast-templates.test.ts
 * renders the worst case of every limit at once.
 */
export const releaseAnnouncementLimits = {
  title: 200,
  coverAlt: 300,
  blurb: 5_000,
  /** A blurb of 5,000 characters split into 1,600 one-letter paragraphs would be ~250 kB of markup. */
  blurbParagraphs: 20,
  note: 1_000,
  noteParagraphs: 5,
  links: 4,
  linkLabel: 60,
  url: 1_000,
} as const;

const L = releaseAnnouncementLimits;

export const ReleaseAnnouncementLink = z.object({
  /** Button text, e.g. "Buy the paperback" or "Read on Leanpub". */
  label: requiredText('Link label', L.linkLabel),
  url: httpsUrl('Link URL'),
});

export const ReleaseAnnouncementProps = z.object({
  /** The book's title as announced; the email's heading. */
  title: requiredText('Title', L.title),
  coverImageUrl: httpsUrl('Cover image URL'),
  /** Describes the cover for people who cannot see it (and for clients that block images). */
  coverAlt: requiredText('Cover alt text', L.coverAlt),
  /** Rendered size of the cover in CSS pixels; defaults suit a 2:3 cover. Set both to the image's ratio. */
  coverWidth: z.number().int().min(80).max(512).default(200),
  coverHeight: z.number().int().min(80).max(800).default(300),
  /** Plain text; paragraphs separated by a blank line. Single line breaks flow together, as in HTML. */
  blurb: paragraphs('Blurb', L.blurb, L.blurbParagraphs),
  /** Buy/read links, one button each, in this order. */
  links: z
    .array(ReleaseAnnouncementLink, { error: 'Links must be a list of { label, url }' })
    .min(1, { error: 'Add at least one link where the book can be bought or read' })
    .max(L.links, { error: `At most ${L.links} links` }),
  /** Optional closing words below the buttons (plain text, blank-line paragraphs). */
  note: paragraphs('Note', L.note, L.noteParagraphs).optional(),
});
export type ReleaseAnnouncementProps = z.input<typeof ReleaseAnnouncementProps>;

// When the image does not load (blocked, moved), mail clients show its alt text in its box: these make
// that text readable on a calm background instead of a bare broken-image frame.
const cover = {
  display: 'block',
  margin: '0 auto 24px',
  maxWidth: '100%',
  height: 'auto',
  border: '1px solid #e4e4e7',
  backgroundColor: '#f4f4f5',
  color: '#3f3f46',
  fontSize: '16px',
  lineHeight: '1.4',
  textAlign: 'center',
} as const;
const buttonRow = { margin: '0 0 12px' } as const;
const note = { ...styles.text, color: '#3f3f46' } as const;

/**
 * "The book is out." Recipient values (ctx.recipient) are placeholders at render time: the greeting is
 * only ever a text child and the URLs only ever hrefs (see broadcast-context.ts).
 */
export function ReleaseAnnouncement({
  title,
  coverImageUrl,
  coverAlt,
  coverWidth,
  coverHeight,
  blurb,
  links,
  note: closing,
  ctx,
}: z.output<typeof ReleaseAnnouncementProps> & { ctx: BroadcastContext }) {
  return (
    <EmailLayout lang={ctx.lang} preheader={ctx.preheader || openingLine(blurb)}>
      <Text style={styles.text}>{ctx.recipient.greeting}</Text>
      <Heading as="h1" style={styles.heading}>
        {title}
      </Heading>
      <Img src={coverImageUrl} alt={coverAlt} width={coverWidth} height={coverHeight} style={cover} />
      {keyedBy(paragraphsOf(blurb), (paragraph) => paragraph).map(({ key, item: paragraph }) => (
        <Text key={key} style={styles.text}>
          {paragraph}
        </Text>
      ))}
      <Section style={{ margin: '8px 0 16px' }}>
        {keyedBy(links, (link) => `${link.label} ${link.url}`).map(({ key, item: link }) => (
          <Text key={key} style={buttonRow}>
            <Button href={link.url} style={styles.button}>
              {link.label}
            </Button>
          </Text>
        ))}
      </Section>
      {closing
        ? keyedBy(paragraphsOf(closing), (paragraph) => paragraph).map(({ key, item: paragraph }) => (
            <Text key={key} style={note}>
              {paragraph}
            </Text>
          ))
        : null}
      <EmailFooter
        postalAddress={ctx.postalAddress}
        reason={`You're receiving this because you asked to hear when ${ctx.bookTitle} is available.`}
        preferencesUrl={ctx.recipient.preferencesUrl}
        unsubscribeUrl={ctx.recipient.unsubscribeUrl}
      />
    </EmailLayout>
  );
}

ReleaseAnnouncement.PreviewProps = {
  title: 'How Teams Think Before They Build',
  coverImageUrl: 'https://books.example.com/how-teams-think/cover-400x600.png',
  coverAlt: 'Cover of How Teams Think Before They Build',
  coverWidth: 200,
  coverHeight: 300,
  blurb: [
    "It's out. How Teams Think Before They Build is available today: a practical exploration of how engineering teams reduce uncertainty, clarify scope, and make technical decisions before implementation.",
    'Most engineering teams plan their work through some form of refinement session. Few do it well. The difference between teams that ship predictably and those that constantly face surprises often comes down to how they approach technical planning.',
    "The book follows a session from start to finish: setting up (timing, participants, preparation and the facilitator's role), building shared understanding, designing approaches, negotiating trade-offs and naming risks before anyone writes code, then documenting decisions and feeding what you learn into the next session. It closes with the lead engineer's dual role, coaching, psychological safety, remote and hybrid sessions, and the anti-patterns to recognise early.",
  ].join('\n\n'),
  links: [
    {
      label: 'Buy the paperback',
      url: 'https://books.example.com/how-teams-think/buy?format=paperback&ref=newsletter',
    },
    { label: 'Read on Leanpub', url: 'https://leanpub.example.com/how-teams-think-before-they-build' },
  ],
  note: 'Thank you for waiting — and for reading. If the book helps your team, a short review helps other teams find it.',
} satisfies z.input<typeof ReleaseAnnouncementProps>;

export default ReleaseAnnouncement;
