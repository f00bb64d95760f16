/**
 * Worker bundle only (wrangler.toml [alias]). libmime decodes ISO-2022-JP with encoding-japanese, a large
 * table-driven converter; in the Worker, conversion fails here and libmime falls back to iconv-lite (which
 * reads EUC-JP and Shift_JIS itself). Only ISO-2022-JP text in inbound mail is read less well on Workers.
 */
function convert(): never {
  throw new Error('ISO-2022-JP conversion is not bundled into the Worker');
}
export default { convert };
