"""The ``/docs`` page: Swagger UI that a browser can use on an authenticated agent.

A browser cannot add ``x-api-key`` to a page load, so the page itself is a static shell with no
API data (served to anyone); what it loads (``/openapi.json``) and every "Try it out" call stay
behind ``read_docs``/``invoke``. The shell asks once for an API key or a token, keeps it in
``sessionStorage`` (this tab only) and a Swagger UI ``requestInterceptor`` sends it with every
request: ``agd_...`` as ``x-api-key``, anything else as ``Authorization: Bearer``. Swagger UI's
own **Authorize** dialog works as well: paste the API key as the bearer token (the runtime
accepts ``Authorization: Bearer agd_...`` as an API key). With ``auth.public_docs: true`` the
page loads the schema without asking.
"""

from __future__ import annotations

import html
import json

SWAGGER_JS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"
SWAGGER_CSS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>%(title)s</title>
<link rel="stylesheet" href="%(css)s"></head>
<body>
<form id="login" style="font-family:sans-serif;margin:2em;display:none">
  <label>API key (<code>agd_...</code>) or bearer token for %(agent)s:
  <input id="cred" type="password" autocomplete="off" size="60"></label>
  <button type="submit">Open the API docs</button>
  <p>Kept in this tab only (sessionStorage). Or set <code>auth.public_docs: true</code>.</p>
</form>
<div id="swagger-ui"></div>
<script src="%(js)s"></script>
<script>
(function () {
  var PUBLIC = %(public)s, KEY = "agentdock-cred";
  function boot(cred) {
    window.ui = SwaggerUIBundle({
      url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
      requestInterceptor: function (req) {
        if (cred && !req.headers["x-api-key"] && !req.headers["Authorization"]) {
          if (cred.indexOf("agd_") === 0) { req.headers["x-api-key"] = cred; }
          else { req.headers["Authorization"] = "Bearer " + cred; }
        }
        return req;
      }
    });
  }
  var saved = sessionStorage.getItem(KEY);
  if (PUBLIC || saved) { boot(saved); return; }
  var form = document.getElementById("login");
  form.style.display = "block";
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var cred = document.getElementById("cred").value.trim();
    sessionStorage.setItem(KEY, cred);
    form.remove();
    boot(cred);
  });
})();
</script>
</body></html>
"""


def swagger_page(agent: str, *, public: bool) -> bytes:
    return (
        _PAGE
        % {
            "title": html.escape(f"{agent} - docs"),
            "agent": html.escape(agent),
            "css": SWAGGER_CSS,
            "js": SWAGGER_JS,
            "public": json.dumps(public),
        }
    ).encode()
