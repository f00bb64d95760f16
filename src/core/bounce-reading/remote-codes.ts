import type { BounceType } from '../../db/schema.js';

/**
 * Codes large receiving systems put in their replies, which say more than the RFC 3463 status beside
 * them. Each is read as what the provider documents it to mean.
 */
const CODES: [RegExp, BounceType][] = [
  // Microsoft 365 / Exchange: the directory has no such recipient (directory-based edge blocking included).
  [
    /RESOLVER\.ADR\.(?:Recip(?:ient)?NotFound|ExRecipNotFound|BadPrimary|InvalidInSmtp)|Recipient address rejected: Access denied|\bAS\(201806281\)|\(000C05A6\)/i,
    'hard',
  ],
  // …and its soft ones: size, quota, authorization, blocklists (S3150, S3140), tenant limits.
  [/RESOLVER\.RST\.|QuotaExceededException|\bS3[01]\d\d\b|5\.7\.(?:606|705|708|750)\b|\bOutboundSpam\b/i, 'soft'],
  // Google: the support link names the reason.
  [/[?&]p=(?:NoSuchUser|InvalidEmailAddress)\b/i, 'hard'],
  [
    /[?&]p=(?:DisabledUser|OverQuota|UnsolicitedMessageError|DmarcRejection|RateLimit\w*|BlockedMessage|MsgSize\w*|Spam\w*)\b/i,
    'soft',
  ],
  // Yahoo / AOL: temporary deferrals, policy and disabled mailboxes (554.30).
  [/\[(?:TSS?\d\d|GL\d\d|PH\d\d|IPTS\d\d|BL\d\d|CS\d\d)\]|\(554\.30\)|\bDYN:T\d|\bRLY:\w+|\bHVU:\w+/, 'soft'],
  // Facebook: RCP-P1 is an unknown address, the others policy.
  [/\bRCP-P1\b/, 'hard'],
  [/\bRCP-(?:P[2-9]|T\d)\b|\bMBX-\w+|\bPOL-\w+/, 'soft'],
  // Cox and Charter/Spectrum blocklist codes.
  [/\b(?:CXBL|CXDNS|CXSNDR|CXSMTP|CXCNCT|CXMJ|CXTHRT|IPBL\d*|AUP#\S+)\b/, 'soft'],
  // Orange / Wanadoo and other French providers: LPN007_510 (unknown), OFR_999 & co (policy).
  [/\bLPN007_510\b/, 'hard'],
  [/\b(?:OFR|OU|LPNAAA|LPN)\d{3}_\d{3}\b/, 'soft'],
];

export function remoteHostClass(diagnostic: string): BounceType | undefined {
  for (const [pattern, type] of CODES) if (pattern.test(diagnostic)) return type;
  return undefined;
}
