// The registry's web page (issue 12 §1): hash routes over the JSON API at /ui/api/ (workers/registry/src/ui/).
// No framework, no external files; every text goes in through textContent.
const main = document.getElementById("main");
const store = window.sessionStorage;

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c.nodeType ? c : String(c));
  return el;
}

async function api(path, init) {
  const headers = { ...init?.headers };
  const token = store.getItem("token");
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(`/ui/api/${path}`, { ...init, headers });
  const body = await r.json().catch(() => ({}));
  if (r.status === 401 && token) signOut();
  if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
  return body;
}

const size = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);
const when = (ms) => (ms ? new Date(ms).toLocaleString() : "never");
const short = (d) => d.replace(/^sha256:/, "").slice(0, 12);
const repoLink = (name) => `#/r/${encodeURIComponent(name)}`;
const imageLink = (name, ref) => `#/i/${encodeURIComponent(name)}/${encodeURIComponent(ref)}`;

function show(...nodes) {
  main.replaceChildren(...nodes);
}

function failed(e) {
  show(h("p", { role: "alert", class: "bad" }, e.message));
}

// Home: search and a paged list of repositories.
async function home(q) {
  const input = h("input", { type: "search", name: "q", value: q, "aria-label": "Search repositories", placeholder: "Search repositories" });
  const list = h("ul", { class: "list", id: "repositories" });
  const more = h("button", { type: "button", id: "more", hidden: true }, "More");
  let next = null;
  const load = async (reset) => {
    const p = new URLSearchParams({ q: input.value, n: "25" });
    if (!reset && next) {
      p.set("after", next.after);
      p.set("skip", String(next.skip));
    }
    const page = await api(`repositories?${p}`);
    if (reset) list.replaceChildren();
    for (const name of page.items) list.append(h("li", {}, h("a", { href: repoLink(name) }, name)));
    if (reset && page.items.length === 0) list.append(h("li", { class: "muted" }, "No repositories"));
    next = page.next;
    more.hidden = !next;
  };
  const search = (e) => {
    e.preventDefault();
    history.replaceState(null, "", `#/?q=${encodeURIComponent(input.value)}`);
    load(true).catch(failed);
  };
  const form = h("form", { role: "search", onsubmit: search }, input, " ", h("button", { type: "submit" }, "Search"));
  more.addEventListener("click", () => load(false).catch(failed));
  show(h("h1", {}, "Repositories"), form, h("p"), list, h("p"), more);
  await load(true);
}

// A repository: its tags, paged.
async function repository(name) {
  const body = h("tbody");
  const more = h("button", { type: "button", id: "more", hidden: true }, "More tags");
  const summary = h("p", { class: "muted" });
  let last = "";
  const load = async () => {
    const page = await api(`tags?${new URLSearchParams({ repository: name, n: "50", ...(last ? { last } : {}) })}`);
    if (page.totals) summary.textContent = `${page.totals.tags} tags, ${page.totals.manifests} manifests, ${page.totals.pulls} pulls`;
    for (const t of page.items) {
      body.append(
        h("tr", {},
          h("td", {}, h("a", { href: imageLink(name, t.name) }, t.name), t.immutable ? h("span", { class: "badge", title: "immutable tag" }, " immutable") : null),
          h("td", { class: "mono" }, h("a", { href: imageLink(name, t.digest) }, short(t.digest))),
          h("td", {}, size(t.size)),
          h("td", { class: "wide mono" }, t.mediaType.replace(/^application\//, "")),
          h("td", { class: "wide" }, when(t.pushedAt)),
          h("td", { class: "wide" }, when(t.pulledAt)),
          h("td", {}, t.pulls)),
      );
      last = t.name;
    }
    more.hidden = !page.more;
  };
  more.addEventListener("click", () => load().catch(failed));
  const head = h("tr", {}, ...["Tag", "Digest", "Size", "Type", "Pushed", "Last pulled", "Pulls"].map((c, i) => h("th", { scope: "col", class: i >= 3 && i <= 5 ? "wide" : null }, c)));
  show(h("p", {}, h("a", { href: "#/" }, "Repositories"), " / "), h("h1", {}, name), summary, h("table", { id: "tags" }, h("thead", {}, head), body), h("p"), more);
  await load();
}

function pullLine(label, text, id) {
  const code = h("code", { id }, text);
  const button = h("button", { type: "button", "aria-label": `Copy ${label}`, onclick: async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      getSelection().selectAllChildren(code);
      button.textContent = "Press Ctrl+C";
    }
  } }, "Copy");
  return h("div", { class: "pull" }, h("span", {}, label), code, button);
}

function referrerTree(nodes) {
  if (nodes.length === 0) return null;
  return h("ul", {}, nodes.map((n) => h("li", { class: "referrer" },
    h("a", { href: imageLink(currentRepo, n.digest), class: "mono" }, short(n.digest)), " ",
    h("span", { class: "badge" }, n.artifactType || n.mediaType), " ",
    n.via === "referrer" ? null : h("span", { class: "muted" }, `tag ${n.via} `),
    n.signature ? (n.signature.policies.length === 0 ? h("span", { class: "muted" }, "signature (no policy covers this repository)")
      : n.signature.verified ? h("span", { class: "ok signature" }, "✔ verified") : h("span", { class: "bad signature" }, "✘ not verified")) : null,
    referrerTree(n.children))));
}

let currentRepo = "";

// An image or an index: platforms or layers, referrers, pull commands.
async function image(name, ref) {
  currentRepo = name;
  const d = await api(`image?${new URLSearchParams({ repository: name, ref })}`);
  const parts = [h("p", {}, h("a", { href: "#/" }, "Repositories"), " / ", h("a", { href: repoLink(name) }, name)),
    h("h1", {}, ref.includes(":") ? `${name}@${short(ref)}` : `${name}:${ref}`),
    h("p", { class: "mono" }, d.digest), h("p", { class: "muted" }, `${d.kind === "index" ? "Index" : "Image"} · ${d.mediaType} · ${size(d.size)}`),
    h("h2", {}, "Pull"), d.pull.tag ? pullLine("by tag", d.pull.tag, "pull-tag") : null, pullLine("by digest", d.pull.digest, "pull-digest")];
  if (d.kind === "index") {
    parts.push(h("h2", {}, "Platforms"), h("table", { id: "platforms" }, h("tbody", {}, d.manifests.map((m) =>
      h("tr", {}, h("td", { class: "platform" }, m.platform || "(none)"), h("td", { class: "mono" }, h("a", { href: imageLink(name, m.digest) }, short(m.digest))), h("td", {}, size(m.size)))))));
  } else {
    const c = d.config;
    parts.push(h("h2", {}, "Config"), h("p", {}, [c.os, c.architecture].filter(Boolean).join("/") || "", c.created ? ` · created ${new Date(c.created).toLocaleString()}` : "", " ", h("span", { class: "mono" }, short(c.digest)), ` · ${size(c.size)}`));
    parts.push(h("h2", {}, `Layers (${d.layers.length})`), h("table", { id: "layers" }, h("tbody", {}, d.layers.map((l) =>
      h("tr", {}, h("td", { class: "mono" }, short(l.digest)), h("td", { class: "wide mono" }, l.mediaType), h("td", {}, size(l.size)))))));
  }
  parts.push(h("h2", {}, "Referrers"), h("div", { class: "tree", id: "referrers" }, referrerTree(d.referrers) || h("p", { class: "muted" }, "None")));
  show(...parts);
}

function route() {
  const hash = location.hash.slice(1) || "/";
  const repo = /^\/r\/([^/]+)$/.exec(hash);
  const img = /^\/i\/([^/]+)\/([^/]+)$/.exec(hash);
  let done;
  if (repo) done = repository(decodeURIComponent(repo[1]));
  else if (img) done = image(decodeURIComponent(img[1]), decodeURIComponent(img[2]));
  else done = home(new URLSearchParams(hash.split("?")[1] || "").get("q") || "");
  done.then(() => main.focus({ preventScroll: true }), failed);
}

function signOut() {
  store.removeItem("token");
  store.removeItem("user");
  renderWho();
}

function renderWho() {
  const user = store.getItem("user");
  document.getElementById("who").textContent = user ? `Signed in as ${user}` : "Anonymous";
  document.getElementById("signin-toggle").textContent = user ? "Sign out" : "Sign in";
}

document.getElementById("signin-toggle").addEventListener("click", () => {
  const form = document.getElementById("signin");
  if (store.getItem("user")) {
    signOut();
    route();
    return;
  }
  form.hidden = !form.hidden;
  if (!form.hidden) form.username.focus();
});

document.getElementById("signin").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.target;
  try {
    const r = await api("session", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username: form.username.value, secret: form.secret.value }) });
    store.setItem("token", r.token);
    store.setItem("user", r.username);
    form.reset();
    form.hidden = true;
    document.getElementById("signin-error").textContent = "";
    renderWho();
    route();
  } catch (err) {
    document.getElementById("signin-error").textContent = err.message;
  }
});

window.addEventListener("hashchange", route);
renderWho();
route();
