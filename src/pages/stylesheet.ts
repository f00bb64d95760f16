/**
 * The one stylesheet, served at /assets/quire.css. Contrast is WCAG AA or better (body text ~16:1,
 * muted ~8:1, links and buttons ~7:1), focus is always visible, and nothing is wider than 320 px.
 */
export const STYLESHEET = `
:root{color-scheme:light;--ink:#1c1d21;--muted:#4a4d57;--accent:#1f4fbf;--accent-dark:#173c91;--bg:#f6f5f1;--card:#fff;--line:#767986;--ok:#1d6b3a;--ok-bg:#e9f5ee;--bad:#a3141b;--bad-bg:#fbeaea;--focus:#f0b400}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:17px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;overflow-wrap:break-word}
.card{max-width:36rem;margin:3rem auto;padding:2rem 1.5rem;background:var(--card);border-radius:12px;box-shadow:0 1px 3px #0002}
.card.wide{max-width:46rem}
.book{margin:0 0 1rem;color:var(--muted);font-size:.9rem;letter-spacing:.02em}
.book a{color:inherit}
h1{font-size:1.6rem;line-height:1.25;margin:.2rem 0 1rem}
h2{font-size:1.2rem;line-height:1.3;margin:2rem 0 .6rem}
h3{font-size:1.05rem;margin:1rem 0 .4rem}
p,ul,ol,dl,form{margin:0 0 1rem}
a{color:var(--accent);text-underline-offset:.15em}
a:hover{color:var(--accent-dark)}
strong{font-weight:650}
.muted{color:var(--muted)}
.lede{font-size:1.15rem}
button{font:inherit;cursor:pointer;border:2px solid var(--accent);border-radius:8px;padding:.65rem 1.2rem;background:var(--accent);color:#fff;min-height:44px}
button:hover{background:var(--accent-dark);border-color:var(--accent-dark)}
button.secondary{background:#fff;color:var(--accent)}
button.secondary:hover{background:#eef2fb;color:var(--accent-dark)}
button.danger{background:var(--bad);border-color:var(--bad);color:#fff}
button[disabled]{opacity:.7;cursor:progress}
input[type=email],input[type=text]{font:inherit;width:100%;max-width:100%;padding:.6rem .7rem;border:1px solid var(--line);border-radius:8px;background:#fff;color:var(--ink);min-height:44px}
input[aria-invalid=true]{border:2px solid var(--bad)}
input[type=checkbox]{width:1.25rem;height:1.25rem;margin:.2rem 0 0;flex:none;accent-color:var(--accent)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
label{display:block;margin:.8rem 0 .3rem;font-weight:600}
.check{display:flex;gap:.6rem;align-items:flex-start;font-weight:400;margin:.8rem 0}
.check span{flex:1;min-width:0}
fieldset{border:1px solid #d5d6db;border-radius:8px;margin:0 0 1rem;padding:.4rem 1rem .6rem;min-width:0}
legend{font-weight:650;padding:0 .3rem}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;margin:1.2rem 0}
.hp,.quire-hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
.error,.notice-bad{color:var(--bad)}
.notice{border-left:4px solid var(--ok);background:var(--ok-bg);padding:.6rem .9rem;border-radius:0 8px 8px 0}
.notice-bad{border-left:4px solid var(--bad);background:var(--bad-bg);padding:.6rem .9rem;border-radius:0 8px 8px 0}
.quire-message:empty,.quire-error:empty{margin:0;padding:0;border:0}
.quire-message:not(:empty){border-left:4px solid var(--ok);background:var(--ok-bg);padding:.6rem .9rem;border-radius:0 8px 8px 0}
.quire-message p{margin:.2rem 0}
.quire-message:focus{outline:none}
.quire-message:focus-visible{outline:3px solid var(--focus)}
.quire-error{color:var(--bad);font-weight:600}
.signup{border-top:1px solid #e2e2e6;margin-top:1.5rem;padding-top:.5rem}
.parts li{margin:.35rem 0}
.article{background:var(--bg);border-radius:8px;padding:1rem 1.2rem}
.article h2{margin-top:0}
.dev-note{margin-top:2rem;font-size:.9rem;color:var(--muted);border-top:1px dashed var(--line);padding-top:1rem}
.mail-list{list-style:none;padding:0}
.mail-list li{border-bottom:1px solid #e2e2e6;padding:.6rem 0}
.mail-list .meta{display:block;font-size:.9rem;color:var(--muted)}
.mail-frame{display:block;width:100%;height:34rem;border:1px solid #c9cad1;border-radius:8px;background:#fff}
pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.9rem;background:var(--bg);padding:.8rem;border-radius:8px}
dl.headers{font-size:.85rem}
dl.headers dt{font-weight:650;margin-top:.4rem}
dl.headers dd{margin:0;overflow-wrap:anywhere;color:var(--muted)}
code{overflow-wrap:anywhere}
/* The author's console (src/pages/console/): wider pages, a nav bar, panels, tables and the charts. */
.console .skip{position:absolute;left:-10000px;top:.5rem;background:var(--card);padding:.5rem .8rem;border-radius:8px;z-index:2}
.console .skip:focus{left:.5rem}
.console-header{display:flex;flex-wrap:wrap;gap:.4rem 1.5rem;align-items:center;padding:.5rem 1.5rem;background:var(--card);border-bottom:1px solid #d5d6db}
.console-brand{margin:0;font-weight:650}
.console-nav{display:flex;flex-wrap:wrap;gap:0 1rem;list-style:none;margin:0;padding:0}
.console-nav a{display:inline-block;padding:.55rem .15rem;color:var(--ink);text-decoration:none;border-bottom:3px solid transparent}
.console-nav a:hover{color:var(--accent)}
.console-nav a[aria-current=page]{color:var(--accent);border-bottom-color:var(--accent);font-weight:600}
.console-signout{margin:0 0 0 auto}
button.small{min-height:36px;padding:.3rem .85rem;font-size:.9rem}
.console button{max-width:100%;overflow-wrap:anywhere}
.console-main{max-width:72rem;margin:1.5rem auto 3rem;padding:0 1.5rem}
.console-main h2{margin-top:0}
.panel{background:var(--card);border-radius:12px;box-shadow:0 1px 3px #0002;padding:1.25rem;margin:0 0 1.5rem;min-width:0}
.panels{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:0 1.5rem}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(7rem,1fr));gap:.75rem;list-style:none;margin:0 0 1rem;padding:0}
.tiles li{background:var(--bg);border-radius:8px;padding:.6rem .8rem}
.tiles .n{display:block;font-size:1.5rem;font-weight:650;font-variant-numeric:tabular-nums}
.tiles .what{display:block;color:var(--muted);font-size:.9rem}
.table-wrap{overflow-x:auto;margin:0 0 1rem}
table.data{width:100%;border-collapse:collapse;font-size:.95rem}
table.data caption{text-align:left;font-weight:650;padding:0 0 .4rem}
table.data th,table.data td{text-align:left;padding:.45rem .55rem;border-bottom:1px solid #e2e2e6;vertical-align:top}
table.data thead th{border-bottom:2px solid var(--line);white-space:nowrap}
table.data .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.small{font-size:.9rem}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:999px;font-size:.85rem;background:var(--bg);border:1px solid var(--line);white-space:nowrap}
.badge.ok{background:var(--ok-bg);border-color:var(--ok);color:var(--ok)}
.badge.bad{background:var(--bad-bg);border-color:var(--bad);color:var(--bad)}
.checklist{list-style:none;padding:0}
.checklist li{border-bottom:1px solid #e2e2e6;padding:.6rem 0}
.checklist .todo{display:block;color:var(--muted);font-size:.9rem;margin-top:.2rem}
.chart svg{display:block;width:100%;height:auto;max-height:18rem}
.chart .grid{stroke:#d5d6db;stroke-width:1}
.chart .axis{fill:var(--muted);font-size:11px}
.chart .series-confirmed{fill:var(--ok)}
.chart .series-unsubscribed{fill:var(--bad)}
.legend{display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;list-style:none;padding:0;margin:.4rem 0;font-size:.9rem}
.legend .key{display:inline-block;width:.9rem;height:.9rem;border-radius:2px;margin-right:.35rem;vertical-align:-.1rem}
.legend .key.confirmed{background:var(--ok)}
.legend .key.unsubscribed{background:var(--bad)}
.bar-cell{width:40%}
.bar{display:block;width:100%;height:.6rem}
.bar rect{fill:var(--accent)}
.big-figure{font-size:2.4rem;font-weight:650;line-height:1.1;margin:.2rem 0 .6rem;font-variant-numeric:tabular-nums}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
details>summary{cursor:pointer;color:var(--accent);margin:.4rem 0}
.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end}
.filters label{margin:0 0 .2rem;font-size:.9rem}
.filters .field{flex:1 1 9rem;min-width:0}
.filters .field.wide{flex:2 1 14rem}
input[type=search],input[type=password],select,textarea{font:inherit;width:100%;max-width:100%;padding:.55rem .7rem;border:1px solid var(--line);border-radius:8px;background:#fff;color:var(--ink);min-height:44px}
.pager{display:flex;flex-wrap:wrap;gap:1rem;justify-content:space-between;align-items:center}
dl.profile{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}
dl.profile dt{font-weight:600}
dl.profile dd{margin:0;min-width:0;overflow-wrap:anywhere}
.timeline{list-style:none;padding:0;margin:0}
.timeline li{border-left:3px solid var(--line);padding:.2rem 0 .9rem 1rem;margin-left:.4rem}
.timeline blockquote{margin:.4rem 0;padding:.5rem .8rem;background:var(--bg);border-radius:8px;font-size:.95rem}
.danger-zone{border:2px solid var(--bad)}
/* Console broadcasts and import (src/pages/console/broadcast*.tsx, compose*.tsx, import*.tsx). */
a.button{display:inline-block;border:2px solid var(--accent);border-radius:8px;padding:.55rem 1.2rem;background:var(--accent);color:#fff;font-weight:600;text-decoration:none;min-height:44px}
a.button:hover{background:var(--accent-dark);border-color:var(--accent-dark);color:#fff}
.block{display:block}
form.inline{display:inline}
.template-list{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fit,minmax(min(18rem,100%),1fr));gap:0 1.5rem}
.compose{display:grid;grid-template-columns:minmax(0,1fr);gap:0 1.5rem;align-items:start}
@media (min-width:1100px){.compose{grid-template-columns:minmax(0,1fr) minmax(0,1fr)}.compose .preview{position:sticky;top:1rem}}
.field-hint{margin:.25rem 0 .3rem}
.field.narrow input{max-width:10rem}
input[type=url],input[type=number],input[type=datetime-local],input[type=file]{font:inherit;width:100%;max-width:100%;padding:.55rem .7rem;border:1px solid var(--line);border-radius:8px;background:#fff;color:var(--ink);min-height:44px}
textarea{resize:vertical}
textarea.code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9rem}
textarea[aria-invalid=true],select[aria-invalid=true]{border:2px solid var(--bad)}
fieldset.list-row{border-style:dashed}
.frame{margin:0 0 1rem}
.frame figcaption{font-weight:600;font-size:.9rem;margin:0 0 .3rem}
.frame iframe{display:block;width:100%;height:30rem;border:1px solid #c9cad1;border-radius:8px;background:#fff}
.frame.preview-phone iframe{width:375px;max-width:100%;height:36rem}
.frame.preview-text iframe{height:14rem}
progress{display:block;width:100%;height:1rem;margin:0 0 1rem;accent-color:var(--accent)}
td.email{overflow-wrap:anywhere;min-width:10rem}
@media (max-width:480px){table.stack thead{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}table.stack tr{display:block;border-bottom:1px solid #e2e2e6;padding:.5rem 0}table.stack th,table.stack td,table.stack td.num{display:block;border:0;padding:.1rem 0;text-align:left}table.stack td:empty{display:none}table.stack td[data-label]::before{content:attr(data-label) ": ";color:var(--muted)}.console-header{padding:.5rem 1rem}.console-main{padding:0 .75rem;margin-top:1rem}.panel{padding:1rem .8rem;border-radius:8px}.panels{grid-template-columns:minmax(0,1fr)}dl.profile{grid-template-columns:minmax(0,1fr)}}
@media (max-width:480px){body{font-size:16px}.card,.card.wide{margin:0;border-radius:0;padding:1.25rem 1rem;box-shadow:none}h1{font-size:1.4rem}}
@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important}}
`;
