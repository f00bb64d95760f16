import type { BounceType } from '../../db/schema.js';
import { statusCode } from './fields.js';
import { remoteHostClass } from './remote-codes.js';

/**
 * What a DSN recipient block means for the address (RFC 3464 §2.3.3 Action, RFC 3463 status codes).
 *
 * Only failures that say the address itself is bad are hard: 5.1.x (bad destination mailbox, system or
 * syntax, mailbox moved, null MX) except 5.1.7/5.1.8, which are about *our* sender address, and 5.1.5/5.1.9,
 * which are not failures; and 5.2.1 (mailbox disabled). Every other permanent failure is recorded as soft:
 * 5.2.2 (mailbox full), 5.3.x/5.4.x (their system, routing), 5.5.x (protocol), 5.6.x (content) and 5.7.x
 * (policy: spam filters, blocklists, DMARC) describe this message or our sending, not whether the reader
 * exists — suppressing on them would empty the list after one blocklisting. If they persist, the soft
 * bounce rule in bounces.ts suppresses. Delays (4.x.x, Action delayed) and failures with a 4.x.x status
 * (a queue that gave up) are soft too. Delivered, relayed and expanded are no bounce at all.
 */
export function classifyDeliveryStatus(action: string | undefined, code: string | undefined): BounceType | null {
  const [klass, subject, detail] = (code ?? '').split('.').map(Number);
  if (action === 'delivered' || action === 'relayed' || action === 'expanded') return null;
  if (action === 'delayed') return 'soft';
  if (action !== 'failed') {
    // No or an unknown action: go by the status class alone.
    if (klass === 4) return 'soft';
    if (klass !== 5) return null;
  }
  if (klass === 5 && ((subject === 1 && ![5, 7, 8, 9].includes(detail!)) || (subject === 2 && detail === 1)))
    return 'hard';
  return 'soft';
}

// Remote servers put their real reason in words; the status code is often generic (5.0.0, 5.5.0) or
// wrong (5.1.1 for a blocklisted IP). These lists read the words, most specific first.

/** About our sending, not the reader: blocklists, spam filters, authentication, policy, rate limits. */
const POLICY =
  /\b(black ?list|block ?list|blocked|blacklisted|(?<!not )listed (?:at|on|in|by)|spam|junk|reputation|rbl|dnsbl|policy|policies|prohibited|not (?:allowed|permitted|authori[sz]ed)|denied|refused|(?:sender|client|helo|ptr|reverse|rdns)\b.{0,40}\b(?:rejected|invalid|unknown|required|not found)|dmarc|spf|dkim|authenticat|unauthenticated|reverse dns|no ptr|relay(?:ing)? (?:access )?(?:denied|not (?:permitted|allowed))|(?:unable|not permitted|not allowed) to relay|relay through|too many|rate ?limit|throttl|frequency|try again later|virus|malware|infected|phish|content|attachment|banned|suspicious|unsolicited|bulk|ube\b|reject(?:ed)? (?:due|because|for)|header error|looping|loop detected|hop count|unroutable sender|sender (?:address|domain) rejected|from address)/i;

/** Gone for good: the address or its domain does not exist. */
const NO_SUCH_USER =
  /(user(?:name)?|recipient|addressee|mailbox|account|address|e-?mail|local.?part|alias|destination)\b.{0,30}\b(unknown|not (?:found|exist|known|valid|recogni[sz]ed|listed|available)|does(?:n't| not) exist|invalid|no longer|disabled|not accepted here)|\b(unknown|invalid|no such|non-?existent|nonexisting|bad|illegal)\b.{0,20}\b(user|recipient|mailbox|account|address|addressee|local.?part|alias|person)|no (?:mailbox|account|user) (?:here|by that name)|address (?:rejected|couldn't be found|not found)|recipient (?:address )?rejected|does(?:n't| not) have an? .{0,30}account|couldn't be found|wasn't found|not listed in (?:domino )?directory|recipient name is not recognized|unrouteable address|undeliverable address|addressee unknown|no such (?:user|person|address)|not an? (?:known|valid|local|existing|registered|current) (?:user|recipient|mailbox|address|account|e-?mail)|user(?:name)? not found|recip(?:ient)?notfound|not our customer|mailbox unavailable|mailbox (?:not found|does not exist|is not available)|the email account that you tried to reach does not exist|has (?:been )?(?:moved|deleted|removed|closed|deactivated|terminated)|no longer (?:valid|active|in use|available|exists|works)/i;

/** The domain has no mail host at all. */
const NO_SUCH_HOST =
  /host (?:or domain name )?(?:unknown|not found)|unknown host|(?:domain|host) (?:name )?(?:not found|does(?:n't| not) exist|unknown)|no such (?:domain|host)|no (?:mx|mail exchanger|valid mx)|nxdomain|unrouteable (?:mail )?domain|couldn't find any host|all relevant mx records point to non-existent hosts|name (?:service|server) error|host name lookup failure|unresolvable|null mx|does not accept mail|domain (?:has )?expired/i;

/** Disabled or suspended: maybe back later. */
const SUSPENDED =
  /(account|mailbox|user)\b.{0,30}\b(disabled|suspended|inactive|locked|frozen|on hold|blocked|expired|deactivated|temporarily)|(disabled|suspended|inactive|deactivated) (account|mailbox|user)/i;

const MAILBOX_FULL =
  /mailbox (?:is |was )?full|(?:mail ?box|mail ?folder|inbox|storage|disk|user|account|recipient)\b.{0,30}\b(?:full|over (?:the )?quota|quota exceeded|exceeded|out of (?:space|storage))|over ?quota|quota (?:exceeded|exceed|full)|exceeded (?:the )?(?:storage|quota)|insufficient (?:storage|disk|system storage)|not enough (?:space|storage)|mail(?:box)? size limit|too much mail|quotaexceeded/i;

/** The message, not the mailbox: too large for the recipient or the server. */
const TOO_LARGE =
  /message (?:size|too (?:big|large|long))|size limit|too (?:big|large)|exceeds? (?:the )?(?:maximum|max|size|allowed)|max(?:imum)? (?:message )?size|mesgtoobig|emailtoolarge/i;

const TEMPORARY =
  /delay(?:ed)?|(?:in|on) the queue too long|failing for a long time|will (?:retry|continue|be retried|try again)|still (?:trying|retrying)|temporar(?:y|ily)|try again|not yet been delivered|retry (?:time|timeout)|timed? ?out|time-?out|expired|connection (?:refused|reset|lost|closed)|network|could not connect|couldn't connect|unreachable|service (?:not )?(?:un)?available|too busy|deferr/i;

const SENDER_SIDE =
  /after (?:mail from|initial connection|helo|ehlo|connect)|sender (?:address|domain|verify)|unroutable sender|(?:in reply to|after) mail from|your (?:ip|server|host|domain|isp)\b/i;

export interface FailureFacts {
  action?: string | undefined;
  status?: string | undefined;
  diagnostic: string;
  /** What the family module already knows (a delay warning is soft whatever it quotes). */
  hint?: BounceType | undefined;
}

/**
 * Hard, soft or nothing, from the words of the diagnostic first and the codes after (RFC 3463 codes are
 * read as classifyDeliveryStatus does). A 5.1.1 that says "blocked" is policy, so soft; a 5.0.0 that says
 * "user unknown" is a dead mailbox, so hard.
 */
export function classifyFailure(f: FailureFacts): BounceType | null {
  const action = f.action?.toLowerCase();
  if (action === 'delivered' || action === 'relayed' || action === 'expanded') return null;
  if (action === 'delayed' || f.hint === 'soft') return 'soft';
  const words = strip(f.diagnostic);
  const code = statusCode(f.status) ?? statusCode(f.diagnostic);
  const known = remoteHostClass(f.diagnostic);
  if (known) return known;
  if (f.hint === 'hard') return 'hard';
  if (MAILBOX_FULL.test(words) || TOO_LARGE.test(words)) return 'soft';
  if (/^4/.test(code ?? '') || (!code && /(?:^|\s)4\d\d[\s-]/.test(words) && !/(?:^|\s)5\d\d[\s-]/.test(words)))
    return 'soft';
  const policy = POLICY.test(words) || SENDER_SIDE.test(words);
  if (!policy && SUSPENDED.test(words)) return 'soft';
  if (NO_SUCH_USER.test(words) && !policy) return 'hard';
  if (NO_SUCH_HOST.test(words) && !policy && !TEMPORARY.test(words)) return 'hard';
  if (policy) return 'soft';
  // Only a mailbox or domain that is gone is hard; words about delay or the network say soft.
  if (TEMPORARY.test(words)) return 'soft';
  if (code) return classifyDeliveryStatus('failed', code) ?? 'soft';
  return 'soft';
}

/** The diagnostic without the host names, URLs and addresses in it: a host called spamfilter says nothing. */
function strip(text: string): string {
  return text
    .replace(/\bhttps?:\/\/\S+/gi, ' ')
    .replace(/[^\s<>:;,()[\]]+@[^\s<>:;,()[\]]+/g, ' ')
    .replace(/\b[\w-]+(?:\.[\w-]+){2,}\b/g, ' ')
    .replace(/\s+/g, ' ');
}
