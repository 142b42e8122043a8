// A schematic map of the district in SVG, from the units' lat/lon — no tiles, no network.
// Streets are tinted blobs around their villages; incidents, teams and warehouses sit at their unit.
import { esc } from "./format.js";
import { label, t } from "./i18n.js";
import { streetOf } from "./board-model.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const STREET_HUES = [205, 160, 265, 35, 330, 95, 185, 300];
export const LEVEL_COLOR = { I: "#ff3b3b", II: "#ff8a1f", III: "#ffd21f", IV: "#3d8bff" };
const TEAM_COLOR = {
  idle: "#3ddc97", ordered: "#ffb020", acknowledged: "#4fc3ff", departed: "#4fc3ff", arrived: "#b388ff", off_duty: "#6b7a90",
};
const DISPATCH_COLOR = { ordered: "#ffb020", acknowledged: "#4fc3ff", departed: "#4fc3ff", arrived: "#b388ff" };

function hull(points) {
  // Andrew's monotone chain; points as [x, y].
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length < 3) return pts;
  const cross = (o, a, b) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop();
    upper.push(p);
  }
  upper.pop();
  lower.pop();
  return lower.concat(upper);
}

/** Text width estimate: CJK characters are one em, others about 0.58 em. */
function textWidth(s, size) {
  let w = 0;
  for (const ch of String(s)) w += /[\u2E80-\uFFEF]/.test(ch) ? size : size * 0.58;
  return w;
}

function around(cx, cy, i, n, r) {
  if (n <= 1) return [cx, cy];
  const a = -Math.PI / 2 + (2 * Math.PI * i) / n;
  return [cx + r * Math.cos(a), cy + r * Math.sin(a)];
}

/** Fit lat/lon (of units, incidents and warehouses) into the box; null when there is nothing to place. */
function projection(located, docs, width, height, rem) {
  const lats = located.map((u) => u.lat);
  const lons = located.map((u) => u.lon);
  for (const d of docs) {
    if (typeof d.lat === "number" && typeof d.lon === "number") {
      lats.push(d.lat);
      lons.push(d.lon);
    }
  }
  const lat0 = (Math.min(...lats) + Math.max(...lats)) / 2;
  const k = Math.cos((lat0 * Math.PI) / 180);
  const minX = Math.min(...lons) * k, maxX = Math.max(...lons) * k;
  const minY = -Math.max(...lats), maxY = -Math.min(...lats);
  const pad = Math.max(2.2 * rem, Math.min(width, height) * 0.08);
  const spanX = Math.max(maxX - minX, 1e-6), spanY = Math.max(maxY - minY, 1e-6);
  const scale = Math.min((width - 2 * pad) / spanX, (height - 2 * pad - rem) / spanY);
  const offX = (width - spanX * scale) / 2, offY = (height - spanY * scale) / 2;
  return { scale, project: (lat, lon) => [offX + (lon * k - minX) * scale, offY + (-lat - minY) * scale] };
}

const isLocated = (x) => typeof x.lat === "number" && typeof x.lon === "number";

/** Where a unit's code sits: its own place, else its nearest located ancestor's, else its street's, else the middle. */
function unitLocator(byCode, project, width, height) {
  const posOf = (code) => {
    let u = byCode.get(code);
    const seen = new Set();
    while (u && !isLocated(u) && !seen.has(u.code)) {
      seen.add(u.code);
      u = byCode.get(u.parent_code);
    }
    if (u && typeof u.lat === "number") return project(u.lat, u.lon);
    const street = byCode.get(streetOf(code));
    if (street && typeof street.lat === "number") return project(street.lat, street.lon);
    return [width / 2, height / 2];
  };
  const docPos = (d) => (isLocated(d) ? project(d.lat, d.lon) : posOf(d.unit_code));
  return { posOf, docPos };
}

/** Label placement: greedy, most important first; a label that would cover another is moved or dropped. */
class LabelPlacer {
  constructor(width, height) {
    this.width = width;
    this.height = height;
    this.taken = [];
  }

  /** Keep a marker's square free of labels. */
  block(x, y, r) {
    this.taken.push({ x1: x - r, y1: y - r, x2: x + r, y2: y + r });
  }

  cost(box) {
    const overlap = (a, b) => Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1)) * Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
    const outside = box.x1 < 0 || box.y1 < 0 || box.x2 > this.width || box.y2 > this.height ? 1e6 : 0;
    return this.taken.reduce((s, b) => s + overlap(box, b), 0) + outside;
  }

  /** candidates: [{x, y, anchor}] of the text's baseline point; returns the chosen one (with its box) or null. */
  place(text, size, candidates, mustPlace, padX = 0, padY = 0) {
    const w = textWidth(text, size) + 2 * padX;
    const h = size * 1.15 + 2 * padY;
    let best = null;
    for (const c of candidates) {
      const x1 = c.anchor === "middle" ? c.x - w / 2 : c.anchor === "end" ? c.x - w : c.x;
      const box = { x1, y1: c.y - size * 0.9 - padY, x2: x1 + w, y2: c.y - size * 0.9 - padY + h };
      const k = this.cost(box);
      if (k === 0) {
        best = { ...c, box, k };
        break;
      }
      if (!best || k < best.k) best = { ...c, box, k };
    }
    if (!best || (best.k > 0 && !mustPlace)) return null;
    this.taken.push(best.box);
    return best;
  }
}

function backdrop(width, height, rem) {
  return `<defs>
    <pattern id="map-grid" width="${2 * rem}" height="${2 * rem}" patternUnits="userSpaceOnUse">
      <path d="M ${2 * rem} 0 L 0 0 0 ${2 * rem}" fill="none" stroke="rgba(120,160,220,0.07)" stroke-width="1"/>
    </pattern>
    <radialGradient id="map-glow" cx="50%" cy="50%" r="60%">
      <stop offset="0%" stop-color="rgba(40,90,160,0.20)"/><stop offset="100%" stop-color="rgba(40,90,160,0)"/>
    </radialGradient>
  </defs><rect x="0" y="0" width="${width}" height="${height}" fill="url(#map-grid)"/><rect x="0" y="0" width="${width}" height="${height}" fill="url(#map-glow)"/>`;
}

/** Street areas: the hull of the street and its villages, padded by a thick round stroke. */
function streetAreas(m) {
  const blobPad = Math.max(1.6 * m.rem, m.scale * 0.004);
  const out = ['<g class="map-areas">'];
  for (const s of m.streets) {
    const members = m.located.filter((u) => u.code === s.code || (u.parent_code === s.code));
    const pts = hull(members.map((u) => m.project(u.lat, u.lon)));
    if (!pts.length) continue;
    const hue = m.hueOf.get(s.code);
    const d = pts.length === 1 ? `M ${pts[0][0]} ${pts[0][1]} l 0.01 0` : `M ${pts.map((p) => p.join(" ")).join(" L ")} Z`;
    out.push(`<path d="${d}" fill="hsla(${hue},60%,45%,0.13)" stroke="hsla(${hue},60%,45%,0.13)" stroke-width="${2 * blobPad}" stroke-linejoin="round" stroke-linecap="round"/>`);
    out.push(`<path d="${d}" fill="none" stroke="hsla(${hue},70%,60%,0.35)" stroke-width="1" stroke-dasharray="3 4"/>`);
  }
  out.push("</g>");
  return out.join("");
}

/** The tree: district → streets, streets → villages. */
function treeLinks(m) {
  const out = ['<g class="map-links">'];
  for (const u of m.located) {
    const parent = m.byCode.get(u.parent_code);
    if (!parent || typeof parent.lat !== "number") continue;
    const [x1, y1] = m.project(parent.lat, parent.lon);
    const [x2, y2] = m.project(u.lat, u.lon);
    const top = parent.kind === "district";
    out.push(`<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${top ? "rgba(120,170,255,0.35)" : "rgba(150,180,220,0.16)"}" stroke-width="${top ? 1.5 : 1}" ${top ? 'stroke-dasharray="6 5"' : ""}/>`);
  }
  out.push("</g>");
  return out.join("");
}

/** Units: dots now, names later. */
function unitDots(m, placer) {
  const { rem } = m;
  const out = ['<g class="map-units">'];
  for (const u of m.located) {
    const [x, y] = m.project(u.lat, u.lon);
    const tip = `<title>${esc(u.name)} · ${esc(label("unitKind", u.kind))}</title>`;
    if (u.kind === "district") {
      out.push(`<g class="map-district"><circle cx="${x}" cy="${y}" r="${0.9 * rem}" fill="none" stroke="#7fb2ff" stroke-width="2"/>
        <circle cx="${x}" cy="${y}" r="${0.45 * rem}" fill="#7fb2ff"/>
        <circle cx="${x}" cy="${y}" r="${1.35 * rem}" fill="none" stroke="rgba(127,178,255,0.35)" stroke-width="1" stroke-dasharray="2 3"/>${tip}</g>`);
      placer.block(x, y, 1.0 * rem);
    } else if (u.kind === "street" || u.kind === "cluster") {
      const hue = m.hueOf.get(u.code);
      out.push(`<g><circle cx="${x}" cy="${y}" r="${0.5 * rem}" fill="hsl(${hue},70%,62%)" stroke="#0b1524" stroke-width="2"/>${tip}</g>`);
      placer.block(x, y, 0.55 * rem);
    } else {
      out.push(`<g><circle cx="${x}" cy="${y}" r="${0.2 * rem}" fill="rgba(190,210,235,0.75)"/>${tip}</g>`);
      placer.block(x, y, 0.22 * rem);
    }
  }
  out.push("</g>");
  return out.join("");
}

/** Warehouses: squares, amber when a material is below its minimum. */
function warehouseMarkers(m, warehouses, placer) {
  const out = ['<g class="map-warehouses">'];
  for (const w of warehouses) {
    const [x, y] = m.docPos(w);
    const low = Object.values(w.stock || {}).some((l) => l.minimum && l.on_hand - l.reserved < l.minimum);
    const s = 0.62 * m.rem;
    out.push(`<g data-warehouse="${esc(w.id)}"><rect x="${x - s / 2}" y="${y - s / 2}" width="${s}" height="${s}" fill="${low ? "#ffb020" : "#2ec4b6"}" stroke="#08111e" stroke-width="1.5"/>
      <title>${esc(w.name)}</title></g>`);
    placer.block(x, y, s / 2);
  }
  out.push("</g>");
  return out.join("");
}

/** Positions spread around a point when several share it: teams beside their unit, incidents on their place. */
function spread(items, keyOf, centreOf, radius) {
  const groups = new Map();
  for (const item of items) {
    const key = keyOf(item);
    const list = groups.get(key) ?? [];
    list.push(item);
    groups.set(key, list);
  }
  const pos = new Map();
  for (const list of groups.values()) {
    const [cx, cy] = centreOf(list[0]);
    list.forEach((item, i) => pos.set(item.id, around(cx, cy, i, list.length, radius)));
  }
  return pos;
}

/** Dispatch routes: from the team to its incident. */
function routes(m, dispatches, teamPos, incPos) {
  const out = ['<g class="map-routes">'];
  for (const d of dispatches) {
    const from = teamPos.get(d.team_id);
    const to = incPos.get(d.incident_id);
    if (!from || !to) continue;
    const color = DISPATCH_COLOR[d.status] ?? "#4fc3ff";
    const [x1, y1] = from, [x2, y2] = to;
    const mx = (x1 + x2) / 2 - (y2 - y1) * 0.15, my = (y1 + y2) / 2 + (x2 - x1) * 0.15;
    out.push(`<path class="map-route" d="M ${x1} ${y1} Q ${mx} ${my} ${x2} ${y2}" fill="none" stroke="${color}" stroke-width="${0.14 * m.rem}" stroke-dasharray="${0.5 * m.rem} ${0.35 * m.rem}" opacity="0.9"><title>${esc(d.team_name)} → ${esc(d.incident_title)}</title></path>`);
  }
  out.push("</g>");
  return out.join("");
}

/** Teams: small triangles coloured by state. */
function teamMarkers(m, teams, teamPos, placer) {
  const out = ['<g class="map-teams">'];
  for (const tm of teams) {
    const p = teamPos.get(tm.id);
    if (!p) continue;
    const [x, y] = p;
    const r = 0.36 * m.rem;
    const color = TEAM_COLOR[tm.status] ?? "#9fb3c8";
    out.push(`<g data-team="${esc(tm.id)}"><path d="M ${x} ${y - r} L ${x + r * 0.95} ${y + r * 0.7} L ${x - r * 0.95} ${y + r * 0.7} Z" fill="${color}" stroke="#08111e" stroke-width="1.2"/>
      <title>${esc(tm.name)} · ${esc(label("teamStatus", tm.status))}</title></g>`);
    placer.block(x, y, r * 0.8);
  }
  out.push("</g>");
  return out.join("");
}

/**
 * Incidents gravest first, then the earliest, then by id: the same board draws the same map whatever order
 * its records arrived in (a live update re-sorts nothing), so labels do not jump between two loads.
 */
function gravestFirst(incidents) {
  const order = { I: 0, II: 1, III: 2, IV: 3 };
  const key = (inc) => [order[inc.level] ?? 9, String(inc.occurred_at ?? ""), String(inc.id)];
  return [...incidents].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return x[0] - y[0] || x[1].localeCompare(y[1]) || x[2].localeCompare(y[2]);
  });
}

/** Incidents (gravest first), each with its marker's size; their places are kept free before any label is placed. */
function incidentSpots(m, incidents, incPos, placer) {
  return incidents.map((inc) => {
    const [x, y] = incPos.get(inc.id);
    const r = (inc.level === "I" ? 0.8 : inc.level === "II" ? 0.72 : 0.64) * m.rem;
    placer.block(x, y, r);
    return { inc, x, y, r };
  });
}

/** Incident labels are placed first of all: one of eight spots around the marker, the first that is free. */
function placeIncidentLabels(m, spots, placer) {
  return spots.map(({ inc, x, y, r }) => {
    const fs = 0.8 * m.rem;
    const title = inc.title.length > 14 ? inc.title.slice(0, 13) + "…" : inc.title;
    const padX = 0.4 * m.rem, padY = 0.22 * m.rem;
    const g = r + 0.35 * m.rem;
    const spot = placer.place(title, fs, [
      { x: x + g + padX, y: y + fs * 0.35, anchor: "start" },
      { x: x - g - padX, y: y + fs * 0.35, anchor: "end" },
      { x, y: y - g - padY, anchor: "middle" },
      { x, y: y + g + fs + padY, anchor: "middle" },
      { x: x + g, y: y - g, anchor: "start" },
      { x: x - g, y: y - g, anchor: "end" },
      { x: x + g, y: y + g + fs, anchor: "start" },
      { x: x - g, y: y + g + fs, anchor: "end" },
    ], true, padX, padY);
    return { inc, title, fs, spot, padX };
  });
}

/** Then the district, streets, and villages where room is left. */
function placeUnitNames(m, placer) {
  const { rem, project } = m;
  const labels = [];
  const text = (spot, cls, size, name) => `<text x="${spot.x}" y="${spot.y}" text-anchor="${spot.anchor}" class="map-label ${cls}" font-size="${size}">${esc(name)}</text>`;
  const district = m.units.find((u) => u.kind === "district");
  if (district && typeof district.lat === "number") {
    const [x, y] = project(district.lat, district.lon);
    const s = 1.0 * rem;
    const spot = placer.place(district.name, s, [
      { x, y: y + 1.45 * rem + s, anchor: "middle" }, { x, y: y - 1.5 * rem, anchor: "middle" },
      { x: x + 1.5 * rem, y: y + s * 0.35, anchor: "start" }, { x: x - 1.5 * rem, y: y + s * 0.35, anchor: "end" },
    ], true);
    labels.push(text(spot, "map-label-district", s, district.name));
  }
  const mid = 0.95 * rem;
  for (const s of m.streets) {
    if (typeof s.lat !== "number") continue;
    const [x, y] = project(s.lat, s.lon);
    const g = 0.75 * rem;
    const spot = placer.place(s.name, mid, [
      { x, y: y - g, anchor: "middle" }, { x, y: y + g + mid * 0.85, anchor: "middle" },
      { x: x + g, y: y + mid * 0.35, anchor: "start" }, { x: x - g, y: y + mid * 0.35, anchor: "end" },
      { x: x + g * 0.7, y: y - g, anchor: "start" }, { x: x - g * 0.7, y: y - g, anchor: "end" },
    ], true);
    labels.push(text(spot, "map-label-street", mid, s.name));
  }
  const small = 0.62 * rem;
  for (const u of m.located) {
    if (u.kind !== "village" && u.kind !== "community") continue;
    const [x, y] = project(u.lat, u.lon);
    const g = 0.32 * rem;
    const spot = placer.place(u.name, small, [
      { x: x + g, y: y + small * 0.35, anchor: "start" }, { x: x - g, y: y + small * 0.35, anchor: "end" },
      { x, y: y - g, anchor: "middle" }, { x, y: y + g + small * 0.8, anchor: "middle" },
    ], false);
    if (spot) labels.push(text(spot, "map-label-village", small, u.name));
  }
  return labels;
}

/** Incidents: level-coloured diamonds with a pulse, the gravest drawn last (on top). */
function incidentMarkers(m, spots, selectedId) {
  const { rem } = m;
  const out = ['<g class="map-incidents">'];
  for (const { inc, x, y, r } of [...spots].reverse()) {
    const color = LEVEL_COLOR[inc.level] ?? "#ccc";
    const sel = inc.id === selectedId;
    out.push(`<g class="map-incident${sel ? " selected" : ""}" data-incident="${esc(inc.id)}" tabindex="0" role="button">
      <circle class="pulse" cx="${x}" cy="${y}" r="${r}" fill="none" stroke="${color}" stroke-width="2"/>
      ${sel ? `<circle cx="${x}" cy="${y}" r="${r + 0.55 * rem}" fill="none" stroke="#fff" stroke-width="2" stroke-dasharray="4 3"/>` : ""}
      <path d="M ${x} ${y - r} L ${x + r} ${y} L ${x} ${y + r} L ${x - r} ${y} Z" fill="${color}" stroke="#08111e" stroke-width="1.5"/>
      <text x="${x}" y="${y + 0.22 * rem}" text-anchor="middle" font-size="${0.6 * rem}" font-weight="700" fill="#08111e">${esc(inc.level)}</text>
      <title>${esc(inc.title)} · ${esc(label("levelShort", inc.level))} ${esc(label("level", inc.level))}</title></g>`);
  }
  out.push("</g>");
  return out.join("");
}

function incidentLabels(m, placed, selectedId) {
  const out = ['<g class="map-incident-labels">'];
  for (const { inc, title, fs, spot, padX } of placed) {
    const color = LEVEL_COLOR[inc.level] ?? "#ccc";
    const b = spot.box;
    const tx = spot.anchor === "middle" ? (b.x1 + b.x2) / 2 : spot.anchor === "end" ? b.x2 - padX : b.x1 + padX;
    out.push(`<g data-incident="${esc(inc.id)}" class="map-incident-label${inc.id === selectedId ? " selected" : ""}">
      <rect x="${b.x1}" y="${b.y1}" width="${b.x2 - b.x1}" height="${b.y2 - b.y1}" rx="${0.25 * m.rem}" fill="rgba(6,14,26,0.88)" stroke="${color}" stroke-width="${inc.id === selectedId ? 2 : 1}"/>
      <text x="${tx}" y="${spot.y}" text-anchor="${spot.anchor}" font-size="${fs}" class="map-label map-label-incident">${esc(title)}</text></g>`);
  }
  out.push("</g>");
  return out.join("");
}

/**
 * Draw the map into `svg` (an <svg> element) sized to `width`×`height` CSS pixels.
 * data: {units, incidents, teams, warehouses, dispatches, selectedId, rem}
 */
export function renderMap(svg, data, width, height) {
  const { units, teams, warehouses, dispatches, selectedId } = data;
  const incidents = gravestFirst(data.incidents);
  const rem = data.rem || 16;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("xmlns", SVG_NS);
  const located = units.filter(isLocated);
  if (!located.length || width < 50 || height < 50) {
    svg.innerHTML = "";
    return;
  }
  const { project, scale } = projection(located, [...incidents, ...warehouses], width, height, rem);
  const byCode = new Map(units.map((u) => [u.code, u]));
  const streets = units.filter((u) => u.kind === "street" || u.kind === "cluster").sort((a, b) => a.code.localeCompare(b.code));
  const hueOf = new Map(streets.map((s, i) => [s.code, STREET_HUES[i % STREET_HUES.length]]));
  const m = { rem, scale, project, units, located, byCode, streets, hueOf, ...unitLocator(byCode, project, width, height) };
  const placer = new LabelPlacer(width, height);

  const out = [backdrop(width, height, rem), streetAreas(m), treeLinks(m), unitDots(m, placer), warehouseMarkers(m, warehouses, placer)];
  const teamPos = spread(teams, (tm) => tm.unit_code, (tm) => {
    const [cx, cy] = m.posOf(tm.unit_code);
    return [cx + 1.1 * rem, cy + 0.7 * rem];
  }, 0.7 * rem);
  const incPos = spread(incidents, (inc) => m.docPos(inc).map(Math.round).join(":"), m.docPos, 1.1 * rem);
  out.push(routes(m, dispatches, teamPos, incPos), teamMarkers(m, teams, teamPos, placer));
  const spots = incidentSpots(m, incidents, incPos, placer);
  const placed = placeIncidentLabels(m, spots, placer);
  const labels = placeUnitNames(m, placer);
  out.push(incidentMarkers(m, spots, selectedId), `<g class="map-labels">${labels.join("")}</g>`, incidentLabels(m, placed, selectedId));
  svg.innerHTML = out.join("");
}

/** The legend as HTML, shown over the map. */
export function legendHtml() {
  const item = (shape, text) => `<span class="legend-item">${shape}<span>${esc(text)}</span></span>`;
  const lv = ["I", "II", "III", "IV"]
    .map((l) => `<span class="legend-dot diamond" style="background:${LEVEL_COLOR[l]}" title="${esc(label("level", l))}"></span>`)
    .join("");
  return [
    item(`<span class="legend-levels">${lv}</span>`, t("map.legend.incident")),
    item('<span class="legend-dot tri" style="--c:#3ddc97"></span>', t("map.legend.team")),
    item('<span class="legend-dot square" style="background:#2ec4b6"></span>', t("map.legend.warehouse")),
    item('<span class="legend-dot round" style="background:hsl(205,70%,62%)"></span>', t("map.legend.street")),
    item('<span class="legend-dot round small" style="background:#bcd"></span>', t("map.legend.village")),
    item('<span class="legend-line"></span>', t("map.legend.route")),
  ].join("");
}
