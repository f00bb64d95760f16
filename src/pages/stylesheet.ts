/** The one stylesheet, served at /assets/quire.css. High contrast, visible focus, fluid down to 320 px. */
export const STYLESHEET = `
:root{color-scheme:light;--ink:#1c1d21;--muted:#4a4d57;--accent:#1f4fbf;--bg:#f6f5f1;--card:#fff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:17px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.card{max-width:34rem;margin:3rem auto;padding:2rem 1.5rem;background:var(--card);border-radius:12px;box-shadow:0 1px 3px #0002}
.book{margin:0 0 1rem;color:var(--muted);font-size:.9rem;letter-spacing:.02em}
h1{font-size:1.6rem;line-height:1.25;margin:.2rem 0 1rem}
a{color:var(--accent)}
button,input[type=submit]{font:inherit;cursor:pointer;border:0;border-radius:8px;padding:.7rem 1.2rem;background:var(--accent);color:#fff}
input[type=email],input[type=text]{font:inherit;width:100%;padding:.6rem .7rem;border:1px solid #767986;border-radius:8px}
:focus-visible{outline:3px solid #f0b400;outline-offset:2px}
label{display:block;margin:.8rem 0 .3rem}
.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
.error{color:#a3141b}
@media (max-width:400px){.card{margin:0;border-radius:0;padding:1.5rem 1rem}}
`;
