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

/** Where the script keeps what was typed across a plain post that comes back to the page (this tab only). */
const STORE_KEY = 'quire-signup';

export const SIGNUP_SCRIPT = `/* quire signup form — progressive enhancement; the form works without it. */
(function () {
  'use strict';
  var M = ${JSON.stringify(messages)};
  var STORE = ${JSON.stringify(STORE_KEY)};

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
    var consent = form.querySelector('input[name="consent"]');
    // A form quire rendered carries its minimum fill time: a post sooner than that is refused, so an
    // autofilled form sent at once waits it out here instead of being lost.
    var readyAt = Date.now() + Number(form.getAttribute('data-quire-min-fill-ms') || 0);
    var button = form.querySelector('button[type="submit"], button:not([type])');
    var label = button ? button.textContent : '';

    function flag(input, bad) {
      if (!input) return;
      if (bad) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
      if (error && error.id) input.setAttribute('aria-describedby', error.id);
    }

    // Every field that needs fixing is marked, the address first, as a person reads the form.
    function showProblems(badEmail, badConsent, text) {
      flag(email, badEmail);
      flag(consent, badConsent);
      var words = [];
      if (badEmail) words.push(M.invalidEmail);
      if (badConsent) words.push(M.consentRequired);
      if (error) error.textContent = text || words.join(' ');
      if (badEmail && email) email.focus();
      else if (badConsent && consent) consent.focus();
    }

    function showError(text) {
      showProblems(false, false, text);
    }

    function returnHere() {
      var field = form.querySelector('input[name="return_to"]');
      if (!field) {
        field = document.createElement('input');
        field.type = 'hidden';
        field.name = 'return_to';
        form.appendChild(field);
      }
      field.value = window.location.href.split('#')[0];
      try {
        window.sessionStorage.setItem(
          STORE,
          JSON.stringify({ email: email ? email.value : '', consent: !!(consent && consent.checked) })
        );
      } catch (e) {}
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
      status.appendChild(paragraph(M.signupAcceptedTitle, true));
      status.appendChild(paragraph(M.signupAcceptedBody));
      status.focus();
    }

    // Sent back by a plain post (?error=code#signup): say why here too, as quire's own pages do.
    var sentBack = /[?&]error=([a-z_]+)/.exec(window.location.search);
    if (sentBack) {
      try {
        var kept = JSON.parse(window.sessionStorage.getItem(STORE) || 'null');
        window.sessionStorage.removeItem(STORE);
        if (kept && email && !email.value) email.value = kept.email || '';
        if (kept && consent && kept.consent) consent.checked = true;
      } catch (e) {}
    }
    if (sentBack && error && !error.textContent) {
      var code = sentBack[1];
      if (code === 'invalid_email') showProblems(true, false);
      else if (code === 'consent_required') showProblems(false, true);
      else showError(M.serverFault);
    }

    form.addEventListener('submit', function (event) {
      if (!window.fetch || !window.FormData) return;
      event.preventDefault();
      if (form.getAttribute('aria-busy') === 'true') return;
      if (error) error.textContent = '';
      var address = email ? email.value.trim() : '';
      var badEmail = !/^[^\\s@]+@[^\\s@]+$/.test(address);
      var badConsent = !!(consent && !consent.checked);
      if (badEmail || badConsent) return showProblems(badEmail, badConsent);
      flag(email, false);
      flag(consent, false);
      busy(true);
      setTimeout(send, Math.max(0, readyAt - Date.now()));
    });

    function send() {
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
            var fields = (e.fields || []).map(function (f) { return f.path; });
            if (e.code === 'invalid_email' || e.code === 'consent_required')
              return showProblems(fields.indexOf('email') >= 0, fields.indexOf('consent') >= 0);
            if (r.status >= 400 && r.status < 500 && e.message) return showError(e.message);
            showError(M.serverFault);
          },
          function () {
            // Nothing reached the server (offline, or this site is not allowed to call it): send the
            // form the plain way instead, saying where to come back to and keeping what was typed.
            busy(false);
            returnHere();
            form.submit();
          }
        );
    }
  }

  function start() {
    var forms = document.querySelectorAll('form[data-quire-signup]');
    for (var i = 0; i < forms.length; i++) enhance(forms[i]);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
