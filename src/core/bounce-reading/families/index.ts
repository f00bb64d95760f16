import { amazon } from './amazon.js';
import { courier } from './courier.js';
import { domino } from './domino.js';
import { exchange } from './exchange.js';
import { exim } from './exim.js';
import type { Family } from './family.js';
import { gateways } from './gateways.js';
import { gmail } from './gmail.js';
import { opensmtpd } from './opensmtpd.js';
import { others } from './others.js';
import { qmail } from './qmail.js';
import { sendmailPostfix } from './sendmail-postfix.js';
import { yahooAol } from './yahoo-aol.js';

/**
 * In the order they are tried: the most distinctive sentences first, so that a family whose text
 * others copy (Sendmail's, Exim's) does not take a report that names its real author.
 */
export const FAMILIES: Family[] = [
  qmail,
  opensmtpd,
  courier,
  gmail,
  exchange,
  yahooAol,
  amazon,
  gateways,
  domino,
  others,
  exim,
  sendmailPostfix,
];

export type { Family } from './family.js';
