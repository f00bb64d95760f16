/**
 * /_dev/mail-frame.js: sizes each captured mail's frame to the mail, so nothing is cut off. The frame
 * is sandboxed without scripts but on our own origin, so this page may measure what it shows.
 */
export const DEV_MAIL_FRAME_SCRIPT = `(function () {
  'use strict';
  function fit(frame) {
    try {
      var doc = frame.contentDocument;
      if (!doc || !doc.documentElement) return;
      frame.style.height = Math.ceil(doc.documentElement.scrollHeight) + 2 + 'px';
    } catch (e) {}
  }
  function start() {
    var frames = document.querySelectorAll('iframe.mail-frame');
    for (var i = 0; i < frames.length; i++) {
      var frame = frames[i];
      frame.addEventListener('load', fit.bind(null, frame));
      fit(frame);
      window.addEventListener('resize', fit.bind(null, frame));
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
