import type { Api } from './api.js';

type Fetcher = (url: string, init: RequestInit) => Promise<Response>;

const decode = (attr: string) =>
  attr
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, '<');

/**
 * Each image a rendered mail loads (`<img src>`), fetched as a mail client would: one that does not load,
 * or is not an image, shows readers its alt text in an empty box. A warning for each, said to the author
 * while the broadcast is still a draft.
 */
export async function imageWarnings(html: string, fetcher: Fetcher = fetch, timeoutMs = 5000): Promise<string[]> {
  const sources = [...new Set([...html.matchAll(/<img\b[^>]*?\ssrc="([^"]+)"/gi)].map((m) => decode(m[1]!)))];
  const warnings: string[] = [];
  const consequence = 'readers will see its alt text in an empty box instead';
  for (const src of sources) {
    try {
      const get = (method: string) =>
        fetcher(src, { method, redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
      let res = await get('HEAD');
      // Some hosts refuse HEAD; a mail client uses GET.
      if (!res.ok) res = await get('GET');
      await res.body?.cancel();
      const type = res.headers.get('content-type')?.split(';')[0]?.trim() ?? '';
      if (!res.ok) warnings.push(`the image ${src} answers HTTP ${res.status}: ${consequence}`);
      else if (type && !type.startsWith('image/'))
        warnings.push(`the image ${src} is ${type}, not an image: ${consequence}`);
    } catch (err) {
      const reason = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name ?? 'no answer';
      warnings.push(`the image ${src} could not be loaded (${reason}): ${consequence}`);
    }
  }
  return warnings;
}

/** The draft's images, checked in its HTML preview; each problem is a line on stderr. */
export async function warnAboutImages(api: Api, id: string, html?: string): Promise<void> {
  const body =
    html ??
    (await (
      await api.fetch(`/admin/v1/broadcasts/${id}/preview?format=html`, { headers: { accept: 'text/html' } })
    ).text());
  for (const warning of await imageWarnings(body)) process.stderr.write(`warning: ${warning}\n`);
}
