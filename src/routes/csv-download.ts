import type { Context } from 'hono';
import { errorFields } from '../log.js';
import type { AppContext } from './env.js';

/**
 * A CSV download streamed from a generator of chunks. The first chunk is read before the response
 * starts, so a database fault there is still an ordinary error answer; a later one ends the stream.
 */
export async function csvDownload(c: Context, chunks: AsyncGenerator<string>, fileName: string): Promise<Response> {
  const s = (c as AppContext).get('services');
  const first = await chunks.next();
  const encoder = new TextEncoder();
  const requestId = (c as AppContext).get('requestId');
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (first.done) controller.close();
      else controller.enqueue(encoder.encode(first.value));
    },
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (err) {
        s.log.error('csv download failed', { requestId, ...errorFields(err) });
        controller.error(err);
      }
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  return c.body(body, 200, {
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="${fileName}"`,
    'Cache-Control': 'no-store',
  });
}
