/**
 * Worker bundle only (wrangler.toml [alias]): `react-dom/server.edge` also loads the legacy browser
 * renderer (renderToString, ~260 kB) that @react-email/render never calls on the edge — it streams with
 * renderToReadableStream. This is the edge renderer alone.
 */
// @ts-expect-error -- a CommonJS file outside react-dom's exports map, without type declarations
import * as edge from '../../node_modules/react-dom/cjs/react-dom-server.edge.production.js';

const server = edge as { renderToReadableStream: unknown; resume: unknown; version: string };
export const renderToReadableStream = server.renderToReadableStream;
export const resume = server.resume;
export const version = server.version;
export default server;
