import { TEXTS } from '../core/texts.js';

/**
 * /assets/signup.js: progressive enhancement for every `form[data-quire-signup]` on a page. It posts the
 * form as JSON with fetch and shows the site's own messages in place. Without it (or before it loads)
 * the form is a plain POST that works on its own. Plain ES2017, no inline code, so a strict CSP
 * (`script-src 'self'` or the quire origin) is enough.
 *
 * JSON rather than a urlencoded body on purpose: it needs a CORS preflight, so on a site that is not in
 * ALLOWED_ORIGINS nothing is sent by fetch and the script falls back to the plain form post.
 */
const messages = { ...TEXTS, sending: 'Sending…' };

export const SIGNUP_SCRIPT = `/* quire signup form — progressive enhancement; the form works without it. */
(function () {
  'use strict';
  var M = ${JSON.stringify(messages)};

  function paragraph(text, strong) {
    var p = document.createElement('p');
    if (strong) {
      var s = document.createElement('strong');
      s.textContent = text;
      p.appendChild(s);
    } else {
      p.textContent = text;
    }
    return p;
  }

  function toJson(form) {
    var body = {};
    new FormData(form).forEach(function (value, key) {
      if (typeof value !== 'string') return;
      if (key === 'topics') (body.topics = body.topics || []).push(value);
      else body[key] = value;
    });
    var consent = form.querySelector('input[name="consent"]');
    body.consent = !!(consent && consent.checked);
    if (body.consent_version) body.consent_version = Number(body.consent_version);
    return body;
  }

  function enhance(form) {
    if (form.getAttribute('data-quire-ready')) return;
    form.setAttribute('data-quire-ready', 'true');
    // The site's own wording replaces the browser's validation bubbles.
    form.noValidate = true;
    var fields = form.querySelector('[data-quire-fields]');
    var status = form.querySelector('[data-quire-status]');
    var error = form.querySelector('[data-quire-error]');
    var email = form.querySelector('input[name="email"]');
    var button = form.querySelector('button[type="submit"], button:not([type])');
    var label = button ? button.textContent : '';

    function showError(text, badEmail) {
      if (email) {
        if (badEmail) email.setAttribute('aria-invalid', 'true');
        else email.removeAttribute('aria-invalid');
        if (error && error.id) email.setAttribute('aria-describedby', error.id);
      }
      if (error) error.textContent = text;
      if (badEmail && email) email.focus();
    }

    function busy(on) {
      if (!button) return;
      button.disabled = on;
      button.textContent = on ? M.sending : label;
      form.setAttribute('aria-busy', on ? 'true' : 'false');
    }

    function done() {
      if (fields) fields.hidden = true;
      if (!status) return;
      status.textContent = '';
      status.appendChild(paragraph(M.subscribedTitle, true));
      status.appendChild(paragraph(M.subscribedBody));
      status.appendChild(paragraph(M.checkInbox));
      status.focus();
    }

    // Sent back by a plain post (?error=code#signup): say why here too, as quire's own pages do.
    var sentBack = /[?&]error=([a-z_]+)/.exec(window.location.search);
    if (sentBack && error && !error.textContent) {
      var code = sentBack[1];
      if (code === 'invalid_email') showError(M.invalidEmail, true);
      else if (code === 'consent_required') showError(M.consentRequired, false);
      else showError(M.serverFault, false);
    }

    form.addEventListener('submit', function (event) {
      if (!window.fetch || !window.FormData) return;
      event.preventDefault();
      if (form.getAttribute('aria-busy') === 'true') return;
      if (error) error.textContent = '';
      busy(true);
      fetch(form.action, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(toJson(form)),
        credentials: 'omit',
      })
        .then(function (res) {
          return res.json().then(
            function (data) { return { status: res.status, data: data || {} }; },
            function () { return { status: res.status, data: {} }; }
          );
        })
        .then(
          function (r) {
            busy(false);
            if (r.status === 202 || r.status === 200) return done();
            var e = r.data.error || {};
            if (e.code === 'invalid_email') return showError(M.invalidEmail, true);
            if (e.code === 'consent_required') return showError(M.consentRequired, false);
            if (r.status >= 400 && r.status < 500 && e.message) return showError(e.message, false);
            showError(M.serverFault, false);
          },
          function () {
            // Nothing reached the server (offline, or this site is not allowed to call it):
            // send the form the plain way instead.
            busy(false);
            form.submit();
          }
        );
    });
  }

  function start() {
    var forms = document.querySelectorAll('form[data-quire-signup]');
    for (var i = 0; i < forms.length; i++) enhance(forms[i]);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
