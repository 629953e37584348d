// AgentDock console: a small hash-routed page over /api. No framework, no CDN, no inline code
// (the page's CSP forbids it). Secrets are shown once, when the API returns them, and never kept.
"use strict";

const state = { me: null, csrf: null, agents: [], events: null, agent: null, tab: "overview", window: "1h" };
const WINDOWS = { "5m": 300, "15m": 900, "1h": 3600, "24h": 86400 };
const $ = (sel, root = document) => root.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(method, path, body) {
  const headers = { accept: "application/json" };
  if (method !== "GET") headers["x-csrf-token"] = state.csrf || "";
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch("/api" + path, { method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body) });
  const data = res.headers.get("content-type")?.includes("json") ? await res.json() : {};
  if (!res.ok) {
    const err = new Error(data.detail || res.statusText);
    err.status = res.status;
    throw err;
  }
  return data;
}

function can(permission) { return !!state.me && state.me.permissions.includes(permission); }
function fmt(n, digits = 0) { return n === null || n === undefined ? "–" : Number(n).toFixed(digits); }
function pct(n) { return n === null || n === undefined ? "–" : (n * 100).toFixed(1) + "%"; }
function ago(s) {
  if (s === null || s === undefined) return "–";
  if (s < 90) return Math.round(s) + " s";
  if (s < 5400) return Math.round(s / 60) + " min";
  return (s / 3600).toFixed(1) + " h";
}
function health(h) {
  if (h === true) return el("span", { class: "pill ok", text: "healthy" });
  if (h === false) return el("span", { class: "pill bad", text: "unhealthy" });
  return el("span", { class: "pill", text: "unknown" });
}
function banner(text) { const b = $("#banner"); b.hidden = !text; b.textContent = text || ""; }
function show(...nodes) { const v = $("#view"); v.replaceChildren(...nodes); }

// -- session ------------------------------------------------------------------------------

async function boot() {
  $("#theme").addEventListener("click", () => {
    const root = document.documentElement;
    root.dataset.theme = root.dataset.theme === "dark" ? "light" : "dark";
  });
  $("#signout").addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  try {
    const me = await api("GET", "/session");
    signedIn(me);
  } catch (e) {
    signInView();
  }
}

function signInView() {
  state.me = null;
  $("#signout").hidden = true;
  $("#whoami").textContent = "";
  show($("#signin-tpl").content.cloneNode(true));
  $("#signin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const key = $("#signin-key").value.trim();
    const body = key ? { key } : { agent: $("#signin-agent").value.trim(), token: $("#signin-token").value.trim() };
    try {
      signedIn(await api("POST", "/session", body));
    } catch (e) {
      $("#signin-error").textContent = e.message;
    }
  });
}

function signedIn(me) {
  state.me = me;
  state.csrf = me.csrf;
  $("#signout").hidden = false;
  $("#whoami").textContent = `${me.actor} · ${me.role}` + (me.agent ? ` · ${me.agent} only` : "");
  route();
}

async function signOut() {
  try { await api("DELETE", "/session"); } catch (e) { /* already gone */ }
  if (state.events) state.events.close();
  location.hash = "#/";
  signInView();
}

// -- live updates -------------------------------------------------------------------------

function listen(agent) {
  if (state.events) state.events.close();
  const src = new EventSource("/api/events" + (agent ? "?agent=" + encodeURIComponent(agent) : ""));
  src.addEventListener("change", () => refresh());
  src.addEventListener("metrics", (ev) => { if (state.agent === agent) metricsUpdate(JSON.parse(ev.data)); });
  src.addEventListener("progress", (ev) => progressStep(JSON.parse(ev.data)));
  src.onerror = () => banner("Live updates interrupted; retrying…");
  src.onopen = () => banner("");
  state.events = src;
}

let refreshing = null;
function refresh() {
  clearTimeout(refreshing);
  refreshing = setTimeout(() => (state.agent ? loadAgent(state.agent, false) : loadAgents()), 50);
}

function route() {
  if (!state.me) return;
  const m = location.hash.match(/^#\/agents\/([^/]+)(?:\/(\w+))?/);
  if (m) {
    state.agent = decodeURIComponent(m[1]);
    state.tab = m[2] || "overview";
    listen(state.agent);
    loadAgent(state.agent, true);
  } else {
    state.agent = null;
    listen(null);
    loadAgents();
  }
}

// -- agents -------------------------------------------------------------------------------

async function loadAgents() {
  let data;
  try {
    data = await api("GET", "/agents");
    banner("");
  } catch (e) {
    if (e.status === 401) return signInView();
    banner("Store unreachable: " + e.message);
    return;
  }
  state.agents = data.agents;
  const rows = data.agents.map((a) => el("tr", { "data-agent": a.agent },
    el("td", {}, el("a", { href: `#/agents/${encodeURIComponent(a.agent)}`, text: a.agent })),
    el("td", { text: a.target || "–" }),
    el("td", { class: "live-version", text: a.live_version ? "v" + a.live_version : "–" }),
    el("td", {}, health(a.healthy)),
    el("td", { class: "hide-narrow", text: ago(a.uptime_s) }),
    el("td", { text: a.metrics ? fmt(a.metrics.requests_per_min, 1) : "–" }),
    el("td", { text: a.metrics ? pct(a.metrics.error_rate) : "–" }),
    el("td", { class: "hide-narrow", text: a.metrics ? fmt(a.metrics.p95_ms, 1) : "–" }),
    el("td", { class: "hide-narrow", text: a.metrics ? "$" + fmt(a.metrics.cost_today_usd, 4) : "–" })));
  const table = el("table", { id: "agents" },
    el("thead", {}, el("tr", {}, ["Agent", "Target", "Live", "Health", "Uptime", "Req/min", "Errors", "p95 ms", "Cost today"]
      .map((h, i) => el("th", { class: i === 4 || i >= 7 ? "hide-narrow" : null, text: h })))),
    el("tbody", {}, rows));
  show(el("section", { class: "card" }, el("h1", { text: "Agents" }),
    rows.length ? el("div", { class: "scroll" }, table) : el("p", { class: "muted", text: "No agents yet: run agentdock deploy." })));
}

// -- agent detail -------------------------------------------------------------------------

const TABS = [
  ["overview", null], ["metrics", "view_metrics"], ["deployments", null], ["logs", "read_logs"],
  ["policies", null], ["schema", null], ["playground", "invoke"], ["keys", "key_manage"],
];

async function loadAgent(agent, full) {
  let detail;
  try {
    detail = await api("GET", "/agents/" + encodeURIComponent(agent));
    banner("");
  } catch (e) {
    if (e.status === 401) return signInView();
    return show(el("p", { class: "error", text: e.message }));
  }
  const st = detail.status;
  if (!full && $("#tab") && $("#live")) {
    // A live update: refresh the header and the tab's live parts, never a form the user is filling.
    $("#live").textContent = st.live_version ? "live v" + st.live_version : "no live version";
    $("#health").replaceChildren(health(st.healthy));
    const partial = TAB_REFRESH[state.tab];
    if (partial) await partial(agent, detail, $("#tab"));
    return;
  }
  const head = el("section", { class: "card" },
    el("h1", {}, el("a", { href: "#/", text: "Agents" }), " / ", agent),
    el("p", {}, el("span", { id: "live", text: st.live_version ? "live v" + st.live_version : "no live version" }), " ",
      el("span", { id: "health" }, health(st.healthy)), " ", el("span", { class: "muted", text: `${st.target || ""} ${st.url || ""}` })),
    el("ol", { class: "progress", id: "progress" }));
  const tabs = el("nav", { class: "tabs", role: "tablist" },
    TABS.filter(([, p]) => !p || can(p)).map(([name]) => el("button", {
      role: "tab", "aria-selected": String(name === state.tab), "data-tab": name, text: name,
      onclick: () => { location.hash = `#/agents/${encodeURIComponent(agent)}/${name}`; },
    })));
  const body = el("section", { class: "card", id: "tab" });
  show(head, tabs, body);
  await TAB_VIEWS[state.tab]?.(agent, detail, body);
}

const rerender = (name) => async (agent, detail, body) => {
  const fresh = el("section", { class: "card", id: "tab" });
  await TAB_VIEWS[name](agent, detail, fresh);
  body.replaceWith(fresh);
};
const TAB_REFRESH = {
  overview: rerender("overview"),
  deployments: rerender("deployments"),
  policies: rerender("policies"),
  async keys(agent) {
    const table = $("#keys tbody");
    if (table) table.replaceChildren(...keyRows(agent, (await api("GET", `/agents/${encodeURIComponent(agent)}/keys`)).keys));
  },
};

function kv(pairs) {
  return el("dl", { class: "kv" }, pairs.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", {}, v ?? "–")]));
}

const TAB_VIEWS = {
  async overview(agent, detail, body) {
    const o = detail.overview;
    body.append(kv([
      ["Description", o.description], ["Framework", o.framework], ["Model", `${o.model.provider || ""} ${o.model.name || ""}`],
      ["Auth", o.auth_mode], ["Streaming", o.streaming], ["Target", o.target],
      ["URL", o.url ? el("code", { text: o.url }) : "–"], ["Live version", o.version],
      ["Langfuse", o.langfuse_host || "off"],
    ]));
  },
  async metrics(agent, detail, body) {
    const pick = el("select", { id: "window", onchange: (e) => { state.window = e.target.value; loadMetrics(agent); } },
      ["5m", "15m", "1h", "24h"].map((w) => el("option", { value: w, selected: w === state.window, text: w })));
    body.append(el("div", { class: "row" }, el("label", {}, "Window ", pick)), el("div", { id: "metrics" }));
    await loadMetrics(agent);
  },
  async deployments(agent, detail, body) {
    const data = await api("GET", `/agents/${encodeURIComponent(agent)}/deployments`);
    const live = detail.status.live_version;
    const rows = data.versions.map((v) => el("tr", { "data-version": v.version },
      el("td", { text: "v" + v.version }), el("td", {}, el("span", { class: "pill" + (v.version === live ? " ok" : v.status === "failed" ? " bad" : ""), text: v.version === live ? "live" : v.status })),
      el("td", { class: "mono", text: (v.content_hash || "").slice(0, 19) }), el("td", { text: v.created_by }),
      el("td", { class: "hide-narrow", text: (v.created_at || "").slice(0, 19).replace("T", " ") }),
      el("td", {}, can("rollback") && v.version !== live && v.status !== "failed"
        ? el("button", { class: "ghost", "data-rollback": v.version, text: "Roll back to v" + v.version, onclick: (e) => move(agent, "rollback", v.version, e.target) })
        : null)));
    body.append(el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {}, ["Version", "Status", "Hash", "By", "When", ""].map((h) => el("th", { text: h })))), el("tbody", {}, rows))));
    if (can("rollback") && (detail.status.details || {}).canary) {
      body.append(el("p", {}, el("button", { id: "promote", text: "Promote canary", onclick: (e) => move(agent, "promote", null, e.target) })));
    }
    body.append(el("h3", { text: "Audit" }), el("div", { class: "scroll" }, el("table", {}, el("tbody", {},
      data.audit.map((a) => el("tr", {}, el("td", { text: (a.at || "").slice(0, 19).replace("T", " ") }), el("td", { text: a.action }), el("td", { text: a.actor }), el("td", { class: "mono hide-narrow", text: JSON.stringify(a.details) })))))));
  },
  async logs(agent, detail, body) {
    const level = el("select", { id: "log-level" }, ["debug", "info", "warn", "error"].map((l) => el("option", { value: l, text: l })));
    const q = el("input", { id: "log-query", placeholder: "trace id or text" });
    const out = el("pre", { class: "log", id: "log-lines" });
    const load = async () => {
      const data = await api("GET", `/agents/${encodeURIComponent(agent)}/logs?level=${level.value}&q=${encodeURIComponent(q.value)}`);
      out.textContent = data.available ? data.lines.join("\n") : "This target does not serve logs here; use its own console.";
      out.scrollTop = out.scrollHeight;
    };
    level.addEventListener("change", load);
    q.addEventListener("change", load);
    const live = el("input", { type: "checkbox", id: "log-live", checked: true });
    clearInterval(state.tail);
    state.tail = setInterval(() => {
      if (!document.body.contains(out)) return clearInterval(state.tail);
      if (live.checked) load();
    }, 1000);
    const host = detail.overview.langfuse_host;
    body.append(el("div", { class: "row" }, el("label", {}, "Level ", level), el("label", {}, "Search ", q),
      el("label", {}, live, " live tail (1 s)"), el("button", { class: "ghost", text: "Refresh", onclick: load })),
      host ? el("p", { class: "muted" }, "Traces: ", el("a", { href: host, rel: "noreferrer", target: "_blank", text: host })) : null, out);
    await load();
  },
  async policies(agent, detail, body) {
    const p = detail.overview.policies;
    body.append(kv([
      ["Allowed tools", p.tools_allowed.join(", ") || "none"], ["Deny by default", String(p.deny_by_default)],
      ["Redact patterns", p.redact_patterns], ["Max output chars", p.max_output_chars],
      ["Block prompt injection", String(p.block_prompt_injection)], ["Halt on violation", String(p.halt_on_violation)],
    ]));
    if (can("view_metrics")) {
      const m = await api("GET", `/agents/${encodeURIComponent(agent)}/metrics?window=24h`);
      body.append(el("p", { class: "muted", text: m.available ? `Policy events (24h): ${m.policy_events}; refusals: ${JSON.stringify(m.errors_by_type)}` : "" }));
    }
  },
  async schema(agent, detail, body) {
    for (const side of ["input", "output"]) {
      const text = JSON.stringify(detail.overview.schema[side], null, 2);
      body.append(el("h3", { text: side }), el("pre", { class: "out", id: "schema-" + side, text }),
        el("button", { class: "ghost", text: "Copy", onclick: () => navigator.clipboard?.writeText(text) }));
    }
  },
  async playground(agent, detail, body) {
    const sample = {};
    const schema = detail.overview.schema.input || {};
    const props = schema.properties || {};
    for (const k of schema.required || Object.keys(props).slice(0, 1)) {
      const t = (props[k] || {}).type;
      sample[k] = t === "string" ? "AgentDock deploys agents. It versions them." : t === "integer" || t === "number" ? 1 : t === "boolean" ? true : t === "array" ? [] : {};
    }
    const input = el("textarea", { id: "play-input" });
    input.value = JSON.stringify(sample, null, 2);
    const key = el("input", { id: "play-key", type: "password", placeholder: state.me.agent === agent ? "(your session key)" : "an API key of this agent" });
    const out = el("pre", { class: "out", id: "play-out" });
    const run = (mode) => playground(agent, mode, input.value, key.value, out);
    body.append(el("label", {}, "Input (JSON)", input), el("label", {}, "API key", key),
      el("div", { class: "row" }, el("button", { id: "play-invoke", text: "Invoke", onclick: () => run("invoke") }),
        el("button", { id: "play-stream", class: "ghost", text: "Stream", onclick: () => run("stream") })), out);
  },
  async keys(agent, detail, body) {
    const data = await api("GET", `/agents/${encodeURIComponent(agent)}/keys`);
    const role = el("input", { id: "key-role", value: "developer" });
    const exp = el("input", { id: "key-expires", placeholder: "e.g. 30d (optional)" });
    const shown = el("div", { id: "key-secret" });
    const create = async () => {
      try {
        const k = await api("POST", `/agents/${encodeURIComponent(agent)}/keys`, { role: role.value, expires_in: exp.value || null });
        secretOnce(shown, k);
      } catch (e) { shown.replaceChildren(el("p", { class: "error", text: e.message })); }
    };
    body.append(el("div", { class: "row" }, el("label", {}, "Role", role), el("label", {}, "Expires in", exp),
      el("button", { id: "key-create", text: "Create key", onclick: create })), shown,
      el("div", { class: "scroll" }, el("table", { id: "keys" }, el("thead", {}, el("tr", {}, ["Key id", "Role", "State", "Expires", "Last used", ""].map((h) => el("th", { text: h })))), el("tbody", {}, keyRows(agent, data.keys)))));
  },
};

function keyRows(agent, keys) {
  const path = (k, action) => `/agents/${encodeURIComponent(agent)}/keys/${k.key_id}/${action}`;
  return keys.map((k) => el("tr", { "data-key": k.key_id },
      el("td", { class: "mono", text: k.key_id }), el("td", { text: k.role }),
      el("td", {}, el("span", { class: "pill " + (k.state === "active" ? "ok" : "bad"), text: k.state })),
      el("td", { class: "hide-narrow", text: (k.expires_at || "never").slice(0, 19) }),
      el("td", { class: "hide-narrow", text: (k.last_used_at || "–").slice(0, 19) }),
      el("td", {}, k.state === "active" ? [
        el("button", { class: "ghost", text: "Rotate", onclick: async () => secretOnce($("#key-secret"), await api("POST", path(k, "rotate"), {})) }),
        " ",
        el("button", { class: "danger", "data-revoke": k.key_id, text: "Revoke", onclick: async () => { await api("POST", path(k, "revoke"), {}); } }),
      ] : null)));
}

function secretOnce(host, k) {
  const copy = el("button", { class: "ghost", text: "Copy", onclick: () => navigator.clipboard?.writeText(k.key) });
  host.replaceChildren(el("p", {}, `Key ${k.key_id} (role ${k.role}). Shown once: copy it now.`),
    el("div", { class: "secret", id: "new-key" }, k.key), copy);
}

async function loadMetrics(agent) {
  const data = await api("GET", `/agents/${encodeURIComponent(agent)}/metrics?window=${state.window}`);
  metricsUpdate(data, true);
}

function chart(title, series, key) {
  const values = series.map((s) => s[key] || 0);
  const max = Math.max(1e-9, ...values);
  const pts = values.map((v, i) => `${(i / Math.max(1, values.length - 1)) * 100},${40 - (v / max) * 36}`).join(" ");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 100 40");
  svg.setAttribute("preserveAspectRatio", "none");
  const axis = document.createElementNS(svg.namespaceURI, "line");
  for (const [a, v] of [["x1", 0], ["y1", 40], ["x2", 100], ["y2", 40], ["class", "axis"]]) axis.setAttribute(a, v);
  const line = document.createElementNS(svg.namespaceURI, "polyline");
  line.setAttribute("points", pts);
  line.setAttribute("vector-effect", "non-scaling-stroke");
  svg.append(axis, line);
  return el("div", { class: "card chart" }, el("div", { class: "muted", text: `${title} (max ${fmt(max, key === "cost_usd" ? 4 : 0)})` }), svg);
}

function metricsUpdate(data, force) {
  const host = $("#metrics");
  if (!host) return;
  // The live stream pushes the 5-minute window; another chosen window is re-read instead.
  if (!force && data.window_s !== WINDOWS[state.window]) return loadMetrics(state.agent);
  if (!data.available) return host.replaceChildren(el("p", { class: "muted", text: data.reason || "No metrics here." }));
  const l = data.latency_ms || {};
  host.replaceChildren(
    el("div", { class: "grid" },
      el("div", { class: "card" }, el("div", { class: "muted", text: "Requests" }), el("div", { class: "stat", id: "m-requests", text: data.requests })),
      el("div", { class: "card" }, el("div", { class: "muted", text: "Errors (5xx)" }), el("div", { class: "stat", text: `${data.errors} (${pct(data.error_rate)})` })),
      el("div", { class: "card" }, el("div", { class: "muted", text: "Latency p50 / p90 / p99 ms" }), el("div", { class: "stat", text: `${fmt(l.p50, 1)} / ${fmt(l.p90, 1)} / ${fmt(l.p99, 1)}` })),
      el("div", { class: "card" }, el("div", { class: "muted", text: "Tokens in / out" }), el("div", { class: "stat", text: `${data.tokens_in} / ${data.tokens_out}` })),
      el("div", { class: "card" }, el("div", { class: "muted", text: "Cost" }), el("div", { class: "stat", text: "$" + fmt(data.cost_usd, 4) })),
      el("div", { class: "card" }, el("div", { class: "muted", text: "Policy events" }), el("div", { class: "stat", text: data.policy_events }))),
    el("div", { class: "grid" }, chart("Requests", data.series, "requests"), chart("Errors", data.series, "errors"),
      chart("p95 latency ms", data.series, "p95_ms"), chart("Tokens", data.series, "tokens"), chart("Cost USD", data.series, "cost_usd")),
    el("p", { class: "muted", text: "Errors by type: " + (JSON.stringify(data.errors_by_type) || "{}") }));
}

async function move(agent, action, version, button) {
  if (button) button.disabled = true;
  const list = $("#progress");
  if (list) list.replaceChildren();
  try {
    await api("POST", `/agents/${encodeURIComponent(agent)}/${action}`, version ? { version } : {});
  } catch (e) {
    banner(`${action} failed: ${e.message}`);
  } finally {
    if (button) button.disabled = false;
  }
}

function progressStep(item) {
  if (item.agent !== state.agent) return;
  const list = $("#progress");
  if (list) list.append(el("li", { text: item.step }));
}

async function playground(agent, mode, text, key, out) {
  let input;
  try { input = JSON.parse(text || "{}"); } catch (e) { out.textContent = "Input is not JSON: " + e.message; return; }
  out.textContent = "";
  delete out.dataset.done;
  const res = await fetch(`/api/agents/${encodeURIComponent(agent)}/playground`, {
    method: "POST", credentials: "same-origin",
    headers: { "content-type": "application/json", "x-csrf-token": state.csrf },
    body: JSON.stringify({ mode, input, key: key || null }),
  });
  if (!(res.headers.get("content-type") || "").startsWith("text/event-stream") || !res.body) {
    out.textContent = JSON.stringify(await res.json(), null, 2);
    out.dataset.done = "1";
    return;
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = (frame.match(/^event: (.*)$/m) || [])[1];
      const data = (frame.match(/^data: (.*)$/m) || [])[1];
      if (!data) continue;
      const payload = JSON.parse(data);
      if (event === "token") out.textContent += payload.text ?? payload.token ?? "";
      else if (event === "error") out.textContent += `\n[error] ${payload.detail || data}`;
    }
  }
  out.dataset.done = "1";
}

boot();
