/**
 * /assets/console-progress.js: live figures on a sending broadcast's page. It polls the page's progress
 * URL (JSON, figures already formatted by the server) and writes each into its `data-k` element; when
 * the status changes it reloads, so the controls and the report match the new state. Without it, a
 * reload does the same.
 */
export const PROGRESS_SCRIPT = `/* quire console — live progress; the page works without it. */
(function () {
  'use strict';
  var box = document.getElementById('progress');
  if (!box || !window.fetch) return;
  var url = box.getAttribute('data-progress-url');
  var status = box.getAttribute('data-status');

  function put(k, value) {
    var els = box.querySelectorAll('[data-k="' + k + '"]');
    for (var i = 0; i < els.length; i++) els[i].textContent = value;
  }

  function show(p) {
    var keys = ['sent', 'total', 'rate', 'eta', 'remaining', 'failed', 'bounced', 'retrying', 'next'];
    for (var i = 0; i < keys.length; i++) put(keys[i], p.text[keys[i]]);
    var bar = box.querySelector('progress[data-k="bar"]');
    if (bar) {
      bar.max = Math.max(p.total, 1);
      bar.value = p.done;
    }
  }

  function tick() {
    fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (res) {
        var type = res.headers.get('content-type') || '';
        return res.ok && type.indexOf('application/json') === 0 ? res.json() : null;
      })
      .then(function (p) {
        // Signed out, or not ours: stop; a reload shows why.
        if (!p) return;
        // A new state: the page as it is now, without the notice of the action that led here.
        if (p.status !== status) return location.replace(location.pathname);
        show(p);
        setTimeout(tick, 1500);
      })
      .catch(function () {
        setTimeout(tick, 5000);
      });
  }

  setTimeout(tick, 1000);
})();
`;
