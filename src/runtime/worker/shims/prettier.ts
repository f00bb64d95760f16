/**
 * Worker bundle only (wrangler.toml [alias]): @react-email/render imports prettier for `pretty: true`,
 * which quire never asks for. Aliasing it here keeps ~340 kB of prettier out of the Worker.
 */
export function format(): never {
  throw new Error('prettier is not bundled into the Worker (quire renders email without pretty: true)');
}
export default { format };
