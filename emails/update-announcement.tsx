import { Button } from '@react-email/button';
import { Heading } from '@react-email/heading';
import { Section } from '@react-email/section';
import { Text } from '@react-email/text';
import { z } from 'zod';
import type { BroadcastContext } from './_components/broadcast-context.js';
import { EmailFooter } from './_components/footer.js';
import { EmailLayout, styles } from './_components/layout.js';
import { httpsUrl, keyedBy, openingLine, paragraphsOf, requiredText } from './_components/props.js';

/** Caps that keep the worst case far below Gmail's ~102 kB clipping point (see the tests). */
export const updateAnnouncementLimits = {
  kicker: 60,
  title: 200,
  summary: 2_000,
  summaryParagraphs: 5,
  linkLabel: 60,
  url: 1_000,
} as const;

const L = updateAnnouncementLimits;

export const UpdateAnnouncementProps = z.object({
  /** Small label above the title, e.g. "New chapter article". */
  kicker: requiredText('Kicker', L.kicker).optional(),
  title: requiredText('Title', L.title),
  /** Plain text, a sentence or a few; blank lines separate paragraphs. */
  summary: requiredText('Summary', L.summary).refine((s) => paragraphsOf(s).length <= L.summaryParagraphs, {
    error: `Summary must have at most ${L.summaryParagraphs} paragraphs (separate paragraphs with a blank line)`,
  }),
  url: httpsUrl('URL', L.url),
  linkLabel: requiredText('Link label', L.linkLabel).default('Read the article →'),
});
export type UpdateAnnouncementProps = z.input<typeof UpdateAnnouncementProps>;

const kicker = {
  margin: '0 0 4px',
  fontSize: '13px',
  lineHeight: '1.5',
  fontWeight: 600,
  letterSpacing: '0.04em',
  textTransform: 'uppercase',
  // #1d4ed8 on white is ~6.7:1 (WCAG AA for small text).
  color: '#1d4ed8',
} as const;

/**
 * A new article or chapter update. Recipient values (ctx.recipient) are placeholders at render time: the
 * greeting is only ever a text child and the URLs only ever hrefs (see broadcast-context.ts).
 */
export function UpdateAnnouncement({
  kicker: label,
  title,
  summary,
  url,
  linkLabel,
  ctx,
}: z.output<typeof UpdateAnnouncementProps> & { ctx: BroadcastContext }) {
  return (
    <EmailLayout lang={ctx.lang} preheader={ctx.preheader || openingLine(summary)}>
      <Text style={styles.text}>{ctx.recipient.greeting}</Text>
      {label ? <Text style={kicker}>{label}</Text> : null}
      <Heading as="h1" style={styles.heading}>
        {title}
      </Heading>
      {keyedBy(paragraphsOf(summary), (paragraph) => paragraph).map(({ key, item: paragraph }) => (
        <Text key={key} style={styles.text}>
          {paragraph}
        </Text>
      ))}
      <Section style={{ margin: '8px 0 16px' }}>
        <Button href={url} style={styles.button}>
          {linkLabel}
        </Button>
      </Section>
      <EmailFooter
        postalAddress={ctx.postalAddress}
        reason={`You're receiving this because you subscribed to occasional updates about ${ctx.bookTitle}.`}
        preferencesUrl={ctx.recipient.preferencesUrl}
        unsubscribeUrl={ctx.recipient.unsubscribeUrl}
      />
    </EmailLayout>
  );
}

UpdateAnnouncement.PreviewProps = {
  kicker: 'New chapter article',
  title: 'Coaching through tech refinement (Chapter 21)',
  summary:
    'Shoshin and who goes first, inviting quieter voices, teaching the why behind the how, and building autonomy one session at a time.',
  url: 'https://books.example.com/how-teams-think/articles/coaching-through-tech-refinement?utm_source=newsletter&utm_medium=email',
} satisfies z.input<typeof UpdateAnnouncementProps>;

export default UpdateAnnouncement;
