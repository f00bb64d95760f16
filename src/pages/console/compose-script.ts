/**
 * /assets/console-compose.js: the compose page's live preview. As the author types, the form's content
 * is posted into each preview frame (a form submission targeted at the frame), so the frame shows the
 * email under the email's own CSP — no srcdoc, nothing rendered by script. One throwaway form per frame:
 * a form has one planned navigation, and a second submit of the same form would cancel the first.
 * Without this script the Preview button saves and shows the same frames.
 */
export const COMPOSE_SCRIPT = `/* quire console — live preview; the page works without it. */
(function () {
  'use strict';
  var form = document.getElementById('compose');
  var frames = document.querySelectorAll('#preview iframe[name]');
  if (!form || !frames.length || !window.FormData) return;
  var note = document.getElementById('preview-note');
  var timer = 0;

  function post(frame, data) {
    var f = document.createElement('form');
    f.method = 'post';
    f.action = '/admin/broadcasts/preview?format=' + encodeURIComponent(frame.getAttribute('data-format') || 'html');
    f.target = frame.name;
    f.hidden = true;
    data.forEach(function (value, name) {
      if (typeof value !== 'string' || name === 'intent') return;
      var input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      input.value = value;
      f.appendChild(input);
    });
    document.body.appendChild(f);
    f.submit();
    document.body.removeChild(f);
  }

  function refresh() {
    var data = new FormData(form);
    for (var i = 0; i < frames.length; i++) post(frames[i], data);
    if (note) note.textContent = 'Live: what the form holds now, as a reader named Ada gets it. Not saved yet.';
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 600);
  }

  form.addEventListener('input', later);
  form.addEventListener('change', later);
  var preview = document.getElementById('preview');
  if (preview && preview.getAttribute('data-saved') !== 'true') refresh();
})();
`;
