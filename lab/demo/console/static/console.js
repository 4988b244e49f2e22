// The console page: buttons POST to the console server, which holds both cookie jars.
"use strict";

const $ = (id) => document.getElementById(id);
const ui = { info: null, timer: null, busy: false, countdown: null };

async function call(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  $("error").textContent = "";
  const response = await fetch("/api/" + path, options);
  const data = await response.json();
  if (!response.ok) {
    $("error").textContent = data.message || response.statusText;
    throw new Error(data.message);
  }
  return data;
}

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

function clock(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : "-";
}

function addLog(listId, text, cls, status) {
  const item = el("li", text, cls);
  if (status !== undefined) item.dataset.status = String(status);
  $(listId).prepend(item);
  while ($(listId).children.length > 40) $(listId).lastChild.remove();
  return item;
}

function statusClass(status) {
  return status === 200 ? "ok" : status === 401 ? "refused" : "other";
}

function statusWord(status) {
  if (status === 200) return "200 LET IN";
  if (status === 401) return "401 REFUSED";
  return status + " (not about the credential)";
}

// -- the lab and its settings --------------------------------------------------------------

function bindingWords(info) {
  if (info.binding === "dbsc") return `bound: DBSC, DBSC_COOKIE_TTL ${info.dbsc_cookie_ttl} s`;
  if (info.binding === "dpop") return "bound: DPoP";
  return "unbound";
}

function renderLab(info) {
  ui.info = info;
  const nav = $("settings");
  nav.replaceChildren();
  for (const s of info.settings) {
    const label = s.server === "session" ? `session · ${s.mode} store` : `JWT · ${s.mode}`;
    const button = el("button", label, s.key === info.current ? "active" : "");
    button.dataset.key = s.key;
    button.addEventListener("click", () => useSetting(s.key, button));
    nav.append(button);
  }
  // The binding toggle of the mode shown: unbound, or bound with the server's own binding.
  const toggle = $("binding");
  toggle.replaceChildren();
  for (const b of info.bindings) {
    const button = el("button", b.name, b.binding === info.binding ? "active" : "");
    button.dataset.binding = b.binding;
    button.setAttribute("aria-pressed", String(b.binding === info.binding));
    button.addEventListener("click", () => useSetting(info.current, button, b.binding));
    toggle.append(button);
  }
  const ttl = info.access_ttl ? `${info.access_ttl} s access tokens` : "the server's default token lifetime";
  $("lab-line").textContent = `${info.current} at ${info.url} · ${bindingWords(info)} · ` +
    `${info.replicas} replicas (${info.lb_policy}) · ${ttl}, leeway ${info.leeway} s, refresh grace ${info.grace} s`;
  $("setting-note").textContent = info.note || "";
  $("binding-note").textContent = info.binding_note || "";
  $("left-alone").classList.toggle("hidden", info.binding === "none");
  $("jar-note").textContent = info.jar_note;
  const refresh = info.current === "jwt/refresh";
  for (const node of document.querySelectorAll(".refresh-only")) node.classList.toggle("hidden", !refresh);
}

function resetStory() {
  stopAttack();
  for (const id of ["victim-log", "attacker-log", "victim-flags", "victim-claims"]) {
    $(id).replaceChildren();
  }
  $("victim-set-cookie").textContent = "-";
  $("attacker-cookie").textContent = "-";
  $("victim-key").textContent = "";
  renderAlone(null);
  const latest = $("attacker-latest");
  latest.textContent = "no request yet";
  latest.dataset.status = "";
  renderPromise(null);
}

async function useSetting(key, button, binding) {
  button.disabled = true;
  const what = binding === undefined ? key : `${key}, ${binding === "none" ? "unbound" : "bound: " + binding}`;
  $("lab-line").textContent = `switching to ${what}: restarting that server's replicas...`;
  try {
    resetStory();
    renderLab(await call("use", binding === undefined ? { key } : { key, binding }));
  } finally {
    button.disabled = false;
  }
}

// -- the victim ----------------------------------------------------------------------------

function renderCookies(answer) {
  $("victim-set-cookie").textContent = answer.set_cookie.length
    ? answer.set_cookie.map((h) => "Set-Cookie: " + h).join("\n")
    : "(no Set-Cookie in this answer)";
  const table = $("victim-flags");
  table.replaceChildren();
  const head = el("tr");
  for (const h of ["cookie", "HttpOnly", "Secure", "SameSite", "Path", "Max-Age"]) head.append(el("th", h));
  table.append(head);
  const claims = $("victim-claims");
  // A logout's expiring cookies carry no token: keep showing the claims of the one stolen.
  if (answer.cookies.some((c) => c.claims)) claims.replaceChildren();
  for (const c of answer.cookies) {
    const row = el("tr");
    row.append(el("td", c.name));
    for (const flag of ["HttpOnly", "Secure"]) {
      row.append(el("td", c.flags[flag] ? "yes" : "no", c.flags[flag] ? "yes" : "no"));
    }
    for (const flag of ["SameSite", "Path", "Max-Age"]) row.append(el("td", c.flags[flag] || "-"));
    table.append(row);
    if (c.claims) {
      claims.append(el("h3", `${c.name}: a JWT, readable by anyone who holds it (base64url, not encrypted)`));
      const times = Object.entries(c.claims.times).map(([k, v]) => `${k} = ${v}`).join(", ");
      claims.append(el("pre", JSON.stringify(c.claims.payload, null, 1) + "\n" + times, "claims"));
    }
  }
}

async function victimLogin() {
  resetStory();
  const data = await call("login", {});
  renderCookies(data.answer);
  addLog("victim-log", `logged in as ${data.email} (answered by ${data.answer.replica})`, "ok", 200);
  renderState(data.state);
}

async function victimMe() {
  const data = await call("probe", { who: "victim" });
  for (const t of data.tries) {
    const bound = ui.info.binding !== "none" && t.since === null && t.since_theft !== null;
    const when = bound ? ` · ${t.since_theft.toFixed(1)} s after the theft` : "";
    addLog("victim-log", `GET /auth/me → ${statusWord(t.status)} (${t.replica || "?"})${when}`, statusClass(t.status), t.status);
  }
  renderState(data.state);
}

// -- the copy left alone (bound modes): the story's own verdict, built from these clicks ----

function renderState(state) {
  $("victim-key").textContent = state.victim_key ? `The victim's browser ${state.victim_key}.` : "";
  renderAlone(state.alone);
}

function renderAlone(alone) {
  const band = $("left-alone");
  if (!alone || !alone.tries) {
    band.dataset.state = "none";
    $("left-alone-text").textContent = "Nothing yet: the victim logs in, the attacker copies the cookie and keeps trying.";
    return;
  }
  band.dataset.state = alone.refused_after_s === null ? "working" : "refused";
  $("left-alone-text").textContent = alone.text;
}

async function victimRefresh() {
  const data = await call("refresh", { who: "victim" });
  const a = data.answer;
  const why = a.body.error ? ` ${a.body.error}: ${a.body.message}` : " new tokens, the old refresh token is now spent";
  addLog("victim-log", `POST /auth/refresh → ${a.status}${why}`, statusClass(a.status), a.status);
  if (a.set_cookie.length) renderCookies(a);
}

async function act(action) {
  const data = await call("act", { action });
  const a = data.answer;
  addLog("victim-log", `${ui.info.actions[action]} → ${a.status} (handled by ${a.replica || "?"})`, statusClass(a.status), a.status);
  if (a.set_cookie.length) renderCookies(a);
  renderPromise(data.state.revocation);
  renderState(data.state);
}

// -- what the server promised ----------------------------------------------------------------

function renderPromise(rev) {
  const band = $("promise");
  clearInterval(ui.countdown);
  if (!rev) {
    band.dataset.state = "none";
    $("promise-text").textContent = "Nothing yet: the victim logs in, the attacker copies the cookie, then the victim ends it.";
    $("promise-message").textContent = "";
    return;
  }
  $("promise-message").textContent = rev.message ? `message: "${rev.message}"` : "";
  if (rev.status !== 200) {
    band.dataset.state = "none";
    $("promise-text").textContent = `${rev.action} failed with ${rev.status}.`;
    return;
  }
  if (rev.revoked) {
    band.dataset.state = "revoked";
    $("promise-text").textContent = `revoked: true, valid_until: null: a copy must be refused from now on.`;
    return;
  }
  band.dataset.state = "not-revoked";
  const tick = () => {
    const left = rev.valid_until ? (new Date(rev.valid_until) - Date.now()) / 1000 : null;
    const when = left === null ? "(no end given)" : left > 0 ? `${left.toFixed(0)} s from now` : "passed";
    $("promise-text").textContent = `revoked: false, valid_until: ${clock(rev.valid_until)} ${when}: ` +
      "a copy keeps working until then.";
  };
  tick();
  ui.countdown = setInterval(tick, 1000);
}

// -- the attacker ----------------------------------------------------------------------------

async function steal() {
  const data = await call("steal", {});
  $("attacker-cookie").textContent = data.state.attacker_cookie.join("\n");
  const key = data.state.victim_key ? " (not the key: it never leaves the victim's browser)" : "";
  addLog("attacker-log", `copied ${data.copied.map((c) => c.name).join(", ")} from the victim's browser${key}`, "other");
  renderState(data.state);
}

function renderTry(t, action) {
  let since = t.since === null ? "before any revocation" : `${t.since.toFixed(1)} s after ${action}`;
  if (t.since === null && t.since_theft !== null && ui.info.binding !== "none") {
    since = `${t.since_theft.toFixed(1)} s after the theft, nobody acted`;
  }
  const where = t.via === "HAProxy" ? `via HAProxy (${t.replica || "?"})` : `${t.via} directly`;
  const item = addLog("attacker-log", `${statusWord(t.status)} · ${where} · ${since}`, statusClass(t.status), t.status);
  if (t.since !== null) item.dataset.since = t.since.toFixed(2);
  if (t.since_theft !== null) item.dataset.theft = t.since_theft.toFixed(2);
  if (t.kept === false) {
    item.classList.add("broken");
    item.textContent += " · BROKEN PROMISE: the server said this copy was dead";
  }
  const latest = $("attacker-latest");
  latest.dataset.status = String(t.status);
  latest.textContent = `${statusWord(t.status)} · ${since}` + (t.expected ? ` · promised: ${t.expected}` : "");
}

async function attackOnce(everywhere) {
  if (ui.busy) return;
  ui.busy = true;
  try {
    const data = await call("probe", { who: "attacker", everywhere });
    const action = data.state.revocation ? data.state.revocation.action : "";
    for (const t of data.tries) renderTry(t, action);
    renderState(data.state);
    // Bound: the victim keeps browsing too (its browser renews with its key when it must).
    if (!everywhere && ui.timer && ui.info.binding !== "none" && !data.state.revocation) await victimMe();
  } catch (e) {
    stopAttack();
  } finally {
    ui.busy = false;
  }
}

function stopAttack() {
  clearInterval(ui.timer);
  ui.timer = null;
  $("attack-toggle").setAttribute("aria-pressed", "false");
}

function toggleAttack() {
  if (ui.timer) return stopAttack();
  $("attack-toggle").setAttribute("aria-pressed", "true");
  attackOnce(false);
  ui.timer = setInterval(() => attackOnce(false), 1000);
}

async function attackerRefresh() {
  const data = await call("refresh", { who: "attacker" });
  const a = data.answer;
  const what = a.status === 200
    ? "the stolen refresh token worked: the attacker now holds a fresh pair"
    : `${a.body.error}: ${a.body.message}`;
  addLog("attacker-log", `POST /auth/refresh with the stolen token → ${a.status} · ${what}`, statusClass(a.status), a.status);
  $("attacker-cookie").textContent = data.state.attacker_cookie.join("\n");
  renderState(data.state);
}

function guard(fn) {
  return (event) => fn(event).catch(() => {});
}

document.addEventListener("DOMContentLoaded", () => {
  $("victim-login").addEventListener("click", guard(victimLogin));
  $("victim-me").addEventListener("click", guard(victimMe));
  $("victim-refresh").addEventListener("click", guard(victimRefresh));
  for (const button of document.querySelectorAll("[data-action]")) {
    button.addEventListener("click", guard(() => act(button.dataset.action)));
  }
  $("attacker-steal").addEventListener("click", guard(steal));
  $("attack-toggle").addEventListener("click", toggleAttack);
  $("attacker-everywhere").addEventListener("click", guard(() => attackOnce(true)));
  $("attacker-refresh").addEventListener("click", guard(attackerRefresh));
  call("lab").then((info) => {
    renderLab(info);
    document.body.dataset.ready = "true";
  });
});
