'use strict';
// Worker bundle only (wrangler.toml [alias]). `react-dom/server.edge` also loads the legacy browser
// renderer (renderToString, ~260 kB) that @react-email/render never calls on the edge: it streams with
// renderToReadableStream. This is react-dom's own server.edge.js without that half. The bundler keeps
// one branch: production for `wrangler deploy`, development under `wrangler dev`, like React itself.
// Relative paths: react-dom's exports map does not expose cjs/, so 'react-dom/cjs/…' does not resolve.
var b =
  process.env.NODE_ENV === 'production'
    ? require('../../../../node_modules/react-dom/cjs/react-dom-server.edge.production.js')
    : require('../../../../node_modules/react-dom/cjs/react-dom-server.edge.development.js');

exports.version = b.version;
exports.renderToReadableStream = b.renderToReadableStream;
exports.resume = b.resume;
