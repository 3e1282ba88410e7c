// Warns two minutes before an idle session ends, then shows the login page. Progressive: without JavaScript
// the server still ends the session; no inline script is needed (the CSP forbids it).
(function () {
  "use strict";
  var body = document.body;
  var seconds = parseInt(body.getAttribute("data-session-seconds") || "0", 10);
  var warning = document.getElementById("session-warning");
  if (!seconds || !warning) { return; }
  var warnAfter = Math.max(seconds - 120, 0) * 1000;
  window.setTimeout(function () { warning.hidden = false; }, warnAfter);
  window.setTimeout(function () { window.location.reload(); }, seconds * 1000 + 1000);
})();
