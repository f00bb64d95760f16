/**
 * The import's upload and confirmation carry a whole CSV, past the app's general body limit (app.tsx
 * gives these two paths this one). The rows cap keeps the dry run's page and the import within a request.
 */
export const CONSOLE_IMPORT_PATHS = ['/admin/import/preview', '/admin/import/commit'];
export const CONSOLE_IMPORT_MAX_BYTES = 2 * 1024 * 1024;
export const CONSOLE_IMPORT_MAX_ROWS = 10_000;
