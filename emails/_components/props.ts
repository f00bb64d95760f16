import { z } from 'zod';

/** Props building blocks shared by the broadcast templates' zod schemas. */

/** Blank-line-separated paragraphs of plain text, trimmed, empty ones dropped. */
export const paragraphsOf = (text: string): string[] =>
  text
    .split(/\r?\n[ \t]*\r?\n/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);

/**
 * The inbox preview line when the author gave none: the opening of the text, whitespace collapsed, cut
 * at a word near `max` characters. React Email pads an empty preheader with invisible characters, so a
 * blank one shows nothing at all in the inbox.
 */
export function openingLine(text: string, max = 140): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max + 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : flat.slice(0, max)).replace(/[\s,;:.–—-]+$/, '')}…`;
}

/**
 * Each item with a React key made from its content: `1:` + the content, and `2:`, `3:`… for a repeat of it,
 * so every key is unique without depending on the item's position.
 */
export function keyedBy<T>(items: readonly T[], contentOf: (item: T) => string): { key: string; item: T }[] {
  const seen = new Map<string, number>();
  return items.map((item) => {
    const content = contentOf(item);
    const n = (seen.get(content) ?? 0) + 1;
    seen.set(content, n);
    return { key: `${n}:${content}`, item };
  });
}

const domainName = /^(?=.{1,253}$)([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$/;

/** `https://` + a host that is a domain name, no whitespace or control characters anywhere. */
export const isHttpsUrl = (value: string): boolean => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern finds
  if (!/^https:\/\//i.test(value) || /[\s\u0000-\u001f\u007f]/.test(value)) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && domainName.test(url.hostname);
  } catch {
    return false;
  }
};

/**
 * An https:// URL with a domain name, kept exactly as written (only surrounding whitespace is trimmed).
 * Used only as href/src, where React escapes it; `javascript:`, `http:` and relative URLs are refused.
 */
export const httpsUrl = (what: string, max = 1_000) =>
  z
    .string({
      error: (issue) => (issue.input === undefined ? `${what} is required` : `${what} must be text`),
    })
    .trim()
    .max(max, { error: `${what} must be at most ${max} characters`, abort: true })
    .refine(isHttpsUrl, { error: `${what} must be an https:// URL with a domain name` });

/** Plain text that must be present and non-blank, with a length cap. */
export const requiredText = (what: string, max: number) =>
  z
    .string({
      error: (issue) => (issue.input === undefined ? `${what} is required` : `${what} must be text`),
    })
    .trim()
    .min(1, { error: `${what} must not be empty` })
    .max(max, { error: `${what} must be at most ${max} characters` });

export const paragraphs = (what: string, maxChars: number, maxParagraphs: number) =>
  requiredText(what, maxChars).refine((text) => paragraphsOf(text).length <= maxParagraphs, {
    error: `${what} must have at most ${maxParagraphs} paragraphs (separate paragraphs with a blank line)`,
  });
