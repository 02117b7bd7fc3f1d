/* The vbis-geo portal: a MapLibre map of our own tiles and the answers of /api.
 *
 * State lives in the URL's hash, so that every view is a permalink:
 *   #map=zoom/lat/lon (MapLibre's own) &lang=vi|en &layers=a,b,c &pa=CODE &taxon=ID &richness=1
 * Every request goes to this server (tiles and styles under /ogc, maps under /maps, answers
 * under /api); the session cookie of a logged-in editor rides along, so an entitled account
 * sees exact locations where the public sees generalised ones.
 */
"use strict";

const CONFIG = window.VBIS;

const TEXT = {
  vi: {
    brand: "Hệ thống thông tin đa dạng sinh học quốc gia",
    search_placeholder: "Tìm khu bảo tồn hoặc loài (vd. cuc phuong)",
    login: "Đăng nhập", logout: "Đăng xuất", panel: "Bảng", cancel: "Hủy",
    username: "Tên đăng nhập", password: "Mật khẩu", layers: "Lớp bản đồ",
    info: "Thông tin", whats_here: "Ở đây có gì", species_in_reserve: "Loài trong khu bảo tồn",
    distribution: "Phân bố loài", permalink: "Liên kết tới bản đồ này",
    richness: "Số loài theo tỉnh", records: "bản ghi", species: "loài",
    protected_areas: "Khu bảo tồn", taxa: "Loài", nothing: "Không tìm thấy",
    nearest: "Khu bảo tồn gần nhất", km: "km", provinces: "Tỉnh, thành phố",
    inside: "Nằm trong", none_here: "Không nằm trong khu vực nào",
    login_failed: "Đăng nhập không thành công", generalised: "vị trí đã được khái quát hóa",
    show_distribution: "Xem phân bố", areas_of_taxon: "Khu bảo tồn có ghi nhận",
  },
  en: {
    brand: "National Biodiversity Information System of Vietnam",
    search_placeholder: "Find a protected area or a species (e.g. cuc phuong)",
    login: "Log in", logout: "Log out", panel: "Panel", cancel: "Cancel",
    username: "Username", password: "Password", layers: "Layers",
    info: "Information", whats_here: "What is here", species_in_reserve: "Species in the reserve",
    distribution: "Distribution", permalink: "Link to this map",
    richness: "Species per province", records: "records", species: "species",
    protected_areas: "Protected areas", taxa: "Species", nothing: "Nothing found",
    nearest: "Nearest protected area", km: "km", provinces: "Provinces",
    inside: "Inside", none_here: "Not inside any area",
    login_failed: "Login failed", generalised: "location generalised",
    show_distribution: "Show distribution", areas_of_taxon: "Protected areas with records",
  },
};

// -- state in the hash ---------------------------------------------------------------------
function hashParams() {
  return new URLSearchParams(window.location.hash.replace(/^#/, ""));
}
function setHash(changes) {
  const params = hashParams();
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === "") params.delete(key);
    else params.set(key, value);
  }
  // keep MapLibre's map=... as it is written, unescaped
  const text = params.toString().replace(/map=([^&]*)/, (_, v) => "map=" + decodeURIComponent(v));
  history.replaceState(null, "", "#" + text);
  updatePermalink();
}
function updatePermalink() {
  document.getElementById("permalink").href = window.location.href;
}

const state = {
  lang: hashParams().get("lang") || CONFIG.lang,
  layers: new Set((hashParams().get("layers") || CONFIG.layers.filter(l => l.shown).map(l => l.id).join(",")).split(",").filter(Boolean)),
  richness: hashParams().get("richness") === "1",
  legends: {},   // layer id -> legend (from the styles' metadata)
  styleLayers: {}, // layer id -> the MapLibre layer ids drawing it
};
const t = key => TEXT[state.lang][key] || key;

function translatePage() {
  document.documentElement.lang = state.lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  document.getElementById("lang").textContent = state.lang === "vi" ? "EN" : "VI";
  document.title = "vbis-geo · " + t("brand");
}

// -- requests ------------------------------------------------------------------------------
async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).description || message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return response.json();
}
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}
function name(item) {
  return (state.lang === "en" ? item.name_en : item.name_vi) || item.name_vi || item.code;
}

// -- the map ---------------------------------------------------------------------------------
const map = new maplibregl.Map({
  container: "map",
  style: { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#dfeef5" } }] },
  bounds: CONFIG.bounds,
  hash: "map",
  attributionControl: { compact: true, customAttribution: "vbis-geo" },
  transformRequest: url => ({ url, credentials: "same-origin" }),
});
map.addControl(new maplibregl.NavigationControl(), "bottom-right");
map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
map.on("moveend", updatePermalink);

async function addCollection(layer) {
  const style = await getJSON(`/ogc/collections/${layer.id}/styles/default?f=mapbox&lang=${state.lang}`);
  for (const [id, source] of Object.entries(style.sources)) {
    if (!map.getSource(id)) map.addSource(id, source);
  }
  const ids = [];
  for (const styleLayer of style.layers) {
    if (layer.id === "admin_units") {
      // the units in force today: the 34 of 2025 (a unit's valid_to is absent from its tiles),
      // drawn as the land of the base map
      styleLayer.filter = ["!", ["has", "valid_to"]];
      if (styleLayer.type === "fill") styleLayer.paint = { "fill-color": "#f4f1ea", "fill-opacity": 1 };
    }
    styleLayer.layout = { ...(styleLayer.layout || {}), visibility: state.layers.has(layer.id) ? "visible" : "none" };
    map.addLayer(styleLayer);
    ids.push(styleLayer.id);
  }
  state.styleLayers[layer.id] = ids;
  state.legends[layer.id] = style.metadata["vbis-geo:legend"];
}

async function addChoropleth() {
  const style = await getJSON(`/maps/${CONFIG.choropleth}/style.json?lang=${state.lang}`);
  const ids = [];
  for (const [id, source] of Object.entries(style.sources)) {
    if (!map.getSource(id)) map.addSource(id, source);
  }
  const before = (state.styleLayers.protected_areas || [])[0];
  for (const styleLayer of style.layers) {
    if (styleLayer.type === "background") continue;
    styleLayer.id = "choropleth-" + styleLayer.id;
    styleLayer.layout = { ...(styleLayer.layout || {}), visibility: state.richness ? "visible" : "none" };
    map.addLayer(styleLayer, before);
    ids.push(styleLayer.id);
  }
  state.styleLayers.__richness = ids;
  state.legends.__richness = { title: t("richness"), entries: style.metadata["vbis-geo:legend"][0].entries.map(e => ({ value: e.label, colour: e.colour })) };
}

function setVisible(key, visible) {
  for (const id of state.styleLayers[key] || []) map.setLayoutProperty(id, "visibility", visible ? "visible" : "none");
}

function renderLayerList() {
  const list = document.getElementById("layer-list");
  list.replaceChildren();
  const entries = CONFIG.layers.map(l => ({ key: l.id, title: l.title[state.lang], on: state.layers.has(l.id) }));
  entries.push({ key: "__richness", title: t("richness"), on: state.richness });
  for (const entry of entries.reverse()) {
    const legend = state.legends[entry.key];
    const box = el("input", { type: "checkbox", id: "layer-" + entry.key, "data-layer": entry.key });
    box.checked = entry.on;
    box.addEventListener("change", () => toggleLayer(entry.key, box.checked));
    const swatches = el("ul", { class: "legend" });
    for (const item of (legend && legend.entries) || []) {
      swatches.append(el("li", {}, el("span", { class: "swatch", style: `background:${item.colour}` }), item.label || item.value || ""));
    }
    list.append(el("li", {}, el("label", { for: "layer-" + entry.key }, box, " ", entry.title), swatches));
  }
}

function toggleLayer(key, on) {
  if (key === "__richness") {
    state.richness = on;
    setHash({ richness: on ? "1" : null });
  } else {
    if (on) state.layers.add(key); else state.layers.delete(key);
    setHash({ layers: [...state.layers].join(",") });
  }
  setVisible(key, on);
}

// -- click: feature information and what is here ---------------------------------------------
function show(sectionId, content) {
  const section = document.getElementById(sectionId);
  const body = section.querySelector("div");
  body.replaceChildren(...[].concat(content));
  section.hidden = false;
  document.body.classList.add("panel-open");
}

map.on("click", async event => {
  const ours = Object.entries(state.styleLayers).flatMap(([, ids]) => ids).filter(id => map.getLayer(id));
  const features = map.queryRenderedFeatures(event.point, { layers: ours });
  if (features.length) {
    const items = features.slice(0, 5).map(f => {
      const props = f.properties;
      const rows = Object.entries(props).filter(([k]) => !["feature_id"].includes(k)).slice(0, 8)
        .map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v)));
      return el("div", { class: "feature" }, el("h3", {}, props.name_vi ? name(props) : f.sourceLayer), el("table", {}, ...rows));
    });
    show("info-section", items);
    const area = features.find(f => f.sourceLayer === "protected_areas" && f.properties.code);
    if (area) selectProtectedArea(area.properties.code, false);
  }
  const { lng, lat } = event.lngLat;
  try {
    const here = await getJSON(`/api/whats-here?lon=${lng.toFixed(6)}&lat=${lat.toFixed(6)}`);
    const lines = [];
    const inside = [...here.provinces, ...here.protected_areas, ...here.wetlands, ...here.ecosystems];
    lines.push(el("p", {}, inside.length ? t("inside") + ": " + inside.map(name).join(", ") : t("none_here")));
    if (here.nearest_protected_area) {
      const near = here.nearest_protected_area;
      lines.push(el("p", {}, `${t("nearest")}: ${name(near)} (${(near.distance_m / 1000).toFixed(1)} ${t("km")})`));
    }
    show("here-section", lines);
  } catch (error) {
    show("here-section", el("p", { class: "error" }, error.message));
  }
});

// -- the species of a protected area ---------------------------------------------------------
async function selectProtectedArea(code, fly, bbox) {
  setHash({ pa: code });
  if (fly && bbox) map.fitBounds([[bbox[0], bbox[1]], [bbox[2], bbox[3]]], { padding: 40, duration: 0 });
  try {
    const answer = await getJSON(`/api/protected-areas/${encodeURIComponent(code)}/species`);
    const rows = answer.species.slice(0, 200).map(s => el("li", {},
      el("i", {}, s.scientific_name), (state.lang === "vi" ? s.vernacular_name_vi : s.vernacular_name_en) ? " – " + (state.lang === "vi" ? s.vernacular_name_vi : s.vernacular_name_en) : "",
      ` (${s.records} ${t("records")})`));
    show("species-section", [
      el("h3", { id: "species-area" }, name(answer.area)),
      el("p", {}, `${answer.species.length} ${t("species")}`),
      el("ol", { id: "species-list" }, ...rows),
    ]);
  } catch (error) {
    show("species-section", el("p", { class: "error" }, error.message));
  }
}

// -- one taxon's distribution --------------------------------------------------------------
async function selectTaxon(taxon) {
  setHash({ taxon: taxon.id });
  const url = `/maps/taxon_distribution/layers/records.geojson?taxon=${taxon.id}`;
  if (map.getSource("taxon")) map.getSource("taxon").setData(url);
  else {
    map.addSource("taxon", { type: "geojson", data: url });
    map.addLayer({ id: "taxon-points", type: "circle", source: "taxon",
      paint: { "circle-color": "#D55E00", "circle-radius": 5, "circle-stroke-color": "#ffffff", "circle-stroke-width": 1 } });
    state.styleLayers.__taxon = ["taxon-points"];
  }
  const heading = el("i", {}, taxon.scientific_name);
  const content = [el("h3", {}, heading)];
  try {
    const areas = await getJSON(`/api/taxa/${taxon.id}/protected-areas`);
    heading.textContent = taxon.scientific_name || areas.taxon.scientific_name;
    content.push(el("p", {}, `${areas.records} ${t("records")}`));
    content.push(el("h4", {}, t("areas_of_taxon")));
    content.push(el("ul", {}, ...areas.areas.slice(0, 50).map(a => el("li", {}, `${name(a)} (${a.records})`))));
  } catch (error) {
    content.push(el("p", { class: "error" }, error.message));
  }
  show("taxon-section", content);
}

// -- search ------------------------------------------------------------------------------------
let searchTimer = null;
const searchInput = document.getElementById("search");
const results = document.getElementById("search-results");
searchInput.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(runSearch, 250);
});
async function runSearch() {
  const q = searchInput.value.trim();
  if (q.length < 2) { results.hidden = true; return; }
  const found = await getJSON(`/api/search?q=${encodeURIComponent(q)}&limit=8`);
  results.replaceChildren();
  for (const area of found.protected_areas) {
    results.append(el("li", { role: "option", class: "result-area", "data-code": area.code,
      onclick: () => { results.hidden = true; searchInput.value = name(area); selectProtectedArea(area.code, true, area.bbox); } },
      name(area), el("small", {}, " · " + t("protected_areas"))));
  }
  for (const taxon of found.taxa) {
    const common = state.lang === "vi" ? taxon.vernacular_name_vi : taxon.vernacular_name_en;
    results.append(el("li", { role: "option", class: "result-taxon", "data-taxon": taxon.id,
      onclick: () => { results.hidden = true; searchInput.value = taxon.scientific_name; selectTaxon(taxon); } },
      el("i", {}, taxon.scientific_name), common ? " – " + common : "", el("small", {}, " · " + t("taxa"))));
  }
  if (!results.children.length) results.append(el("li", { class: "empty" }, t("nothing")));
  results.hidden = false;
}

// -- login -------------------------------------------------------------------------------------
async function refreshWho() {
  const me = await getJSON("/api/me");
  const who = document.getElementById("who");
  who.hidden = !me.authenticated;
  who.textContent = me.authenticated ? (me.display_name || me.username) : "";
  document.getElementById("logout").hidden = !me.authenticated;
  document.getElementById("login-open").hidden = me.authenticated;
  return me;
}
const dialog = document.getElementById("login-dialog");
document.getElementById("login-open").addEventListener("click", () => dialog.showModal());
document.getElementById("login-cancel").addEventListener("click", () => dialog.close());
document.getElementById("login-form").addEventListener("submit", async event => {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch("/api/login", { method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: form.get("username"), password: form.get("password") }) });
  if (!response.ok) { document.getElementById("login-error").textContent = t("login_failed"); return; }
  dialog.close();
  window.location.reload(); // tiles and answers again, now as the account sees them
});
document.getElementById("logout").addEventListener("click", async () => {
  await fetch("/api/logout", { method: "POST", credentials: "same-origin" });
  window.location.reload();
});

// -- language and panel --------------------------------------------------------------------
document.getElementById("lang").addEventListener("click", () => {
  setHash({ lang: state.lang === "vi" ? "en" : "vi" });
  window.location.reload();
});
document.getElementById("panel-toggle").addEventListener("click", () => document.body.classList.toggle("panel-open"));

// -- start -------------------------------------------------------------------------------------
translatePage();
updatePermalink();
refreshWho().catch(() => {});
map.on("load", async () => {
  for (const layer of CONFIG.layers) await addCollection(layer);
  await addChoropleth();
  renderLayerList();
  const params = hashParams();
  if (params.get("pa")) selectProtectedArea(params.get("pa"), false);
  if (params.get("taxon")) selectTaxon({ id: params.get("taxon"), scientific_name: "" });
  document.body.dataset.ready = "1"; // for the browser tests
});
