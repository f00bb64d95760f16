/**
 * quire's layers, written down as rules (docs/architecture.md draws them). `npm run lint:deps` checks
 * the tree against them in CI, so a wrong import fails the build instead of a review.
 *
 *   runtime/*  ->  app, services, cli        (entries: they wire, nothing imports them)
 *   routes/, pages/  ->  core/               (HTTP, thin)
 *   delivery/  ->  core/, mail/              (the sending engine)
 *   core/      ->  db/                       (the domain: no HTTP, no transport)
 *   mail/                                    (transports and message building: no domain)
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle means two modules are one module, or a layer reaches back up.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-knows-no-http',
      severity: 'error',
      comment: 'The domain runs the same from an HTTP route, the CLI, a cron or a test: no hono, no routes or pages.',
      from: { path: '^src/core/' },
      to: { path: ['^src/routes/', '^src/pages/', '^src/app\\.tsx$', '^node_modules/(hono|@hono)/'] },
    },
    {
      name: 'core-sends-nothing',
      severity: 'error',
      comment: 'The domain queues mail in the outbox; only the delivery layer sends it, through a transport.',
      from: { path: '^src/core/' },
      to: { path: ['^src/mail/', '^src/delivery/', '^node_modules/nodemailer/'] },
    },
    {
      name: 'mail-knows-no-domain',
      severity: 'error',
      comment: 'Transports and message building know nothing of subscribers, the outbox or the database.',
      from: { path: '^src/mail/' },
      to: { path: ['^src/core/', '^src/delivery/', '^src/db/', '^src/routes/', '^src/pages/', '^src/services\\.ts$'] },
    },
    {
      name: 'delivery-below-http',
      severity: 'error',
      comment: 'The sending engine is driven by loops, crons and queues, never by knowing about HTTP.',
      from: { path: '^src/delivery/' },
      to: { path: ['^src/routes/', '^src/pages/', '^src/app\\.tsx$', '^node_modules/(hono|@hono)/'] },
    },
    {
      name: 'only-runtime-knows-the-runtime',
      severity: 'error',
      comment: 'PGlite, the data directory and Workers bindings belong to src/runtime/**; the rest is runtime-free.',
      from: { path: '^src/', pathNot: ['^src/runtime/', '^src/db/pglite\\.ts$', '^src/cli'] },
      to: { path: ['^src/db/pglite\\.ts$', '^node_modules/@electric-sql/pglite', '^cloudflare:'] },
    },
    {
      name: 'nothing-imports-an-entry',
      severity: 'error',
      comment: 'Entries wire; they are never a library for other code.',
      from: { path: '^src/', pathNot: ['^src/runtime/', '^src/cli'] },
      to: { path: '^src/runtime/' },
    },
    {
      name: 'no-orphans',
      severity: 'warn',
      from: { orphan: true, pathNot: ['\\.d\\.ts$', '(^|/)\\.[^/]+\\.(c|m)?js$', '^src/runtime/worker/shims/'] },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^node_modules', '^\\.wrangler'] },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
