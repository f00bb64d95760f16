/** @jsxImportSource hono/jsx */
import { Page } from './layout.js';
import { SignupForm, type SignupFormProps } from './signup-form.js';

const PARTS = [
  'Understanding technical refinement as a practice: its purpose, its cost when skipped, and how much planning is enough.',
  "Setting up for success: timing, participants, preparation, and the facilitator's role in creating space for effective discussion.",
  'Building shared understanding, designing technical approaches, making decisions, negotiating trade-offs, and identifying risks before implementation begins.',
  'Documenting decisions, communicating outcomes, and using feedback loops to improve future refinement.',
  "The lead engineer's dual role, coaching through refinement, psychological safety, and managing team interactions beyond the checklist.",
  'Remote and hybrid sessions, scaling across teams, adapting to team maturity, and recognizing common anti-patterns early.',
];

/**
 * Development only: a stand-in for the book's own landing page, carrying the real signup form, so a
 * newcomer can click through signup → mail → confirm → preferences on `npm start`.
 */
export function LandingPage(props: SignupFormProps & { bookTitle: string }) {
  return (
    <Page
      title="Coming soon"
      bookTitle={props.bookTitle}
      kicker="A book on technical refinement"
      wide
      scripts={['/assets/signup.js']}
    >
      <h1>{props.bookTitle}</h1>
      <p class="lede">
        A practical exploration of how engineering teams reduce uncertainty, clarify scope, and make technical decisions
        before implementation.
      </p>

      <section class="signup" aria-labelledby="signup-heading">
        <h2 id="signup-heading">Hear when the book is out</h2>
        <SignupForm {...props} />
      </section>

      <section aria-labelledby="about-heading">
        <h2 id="about-heading">About the book</h2>
        <p>
          Most engineering teams plan their work through some form of refinement session. Few do it well. The difference
          between teams that ship predictably and those that constantly face surprises often comes down to how they
          approach technical planning.
        </p>
        <p>
          This book documents what separates effective technical refinement from time-wasting meetings. Based on years
          of observation across different teams and contexts, it provides a practical framework for turning product
          requirements into clear implementation plans.
        </p>
      </section>

      <section aria-labelledby="inside-heading">
        <h2 id="inside-heading">What's inside</h2>
        <ul class="parts">
          {PARTS.map((part) => (
            <li key={part}>{part}</li>
          ))}
        </ul>
      </section>

      <section id="chapter-21" class="article" aria-labelledby="article-heading">
        <h2 id="article-heading">Coaching through tech refinement (Chapter 21)</h2>
        <p>
          Shoshin and who goes first, inviting quieter voices, teaching the why behind the how, and building autonomy
          one session at a time.
        </p>
        {/* The demo has no article page to link to: the article opens in place, with no script. */}
        <details>
          <summary>Read the article →</summary>
          <p>
            A refinement session goes as well as its quietest voice is heard. Ask the newest person first, before the
            senior engineers have framed the problem; explain why a design choice matters, not only what it is; and hand
            one decision more to the team each session, until the lead is the one asking questions.
          </p>
        </details>
      </section>

      <p class="dev-note">
        Development demo, not shown in production. Emails quire would send are captured at{' '}
        <a href="/_dev/mail">/_dev/mail</a>; templates can be previewed at <a href="/admin/preview">/admin/preview</a>
        {'; someone who lost their email can ask for a new link at '}
        <a href="/manage">/manage</a>.
      </p>
    </Page>
  );
}

/**
 * quire's own signup page, in production too: where a plain (no-script) form post from the author's site
 * lands when it needs correcting, since a static page cannot show `?error=` by itself.
 */
export function SubscribePage(props: SignupFormProps & { bookTitle: string; title?: string; intro?: string }) {
  const { title = 'Hear when the book is out', intro, ...form } = props;
  return (
    <Page title={title} bookTitle={props.bookTitle} scripts={['/assets/signup.js']}>
      <h1>{title}</h1>
      {intro ? <p role="status">{intro}</p> : null}
      <SignupForm {...form} />
    </Page>
  );
}
