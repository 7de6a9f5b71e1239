// The box editor: an <img> with an SVG overlay, driven by the component's value (see ui/box_editor.py).
// Every finished gesture (draw, move, resize, delete, relabel, a burst of keyboard nudges, boxes carried over)
// is ONE commit: props.value gets the shapes and trigger('input') sends them to the server, which stores them as
// one history entry and answers with props.ack = the commit number it stored.
// Item actions (accept, next...) press the page's buttons, but only once every commit sent before them is
// acknowledged and the previous action has answered: overlapping events never act on a stale item version.
// Zoom and pan change only the view (an SVG viewBox over display-copy pixels); pixels for a zoomed view come
// from the server (server.crop) at the resolution the screen needs, laid over the display copy.
const state = {
  sel: -1, drag: null, key: null, mode: "box", label: null,
  view: { z: 1, vx: 0, vy: 0 }, space: false, pointer: null,
  seq: 0, acked: 0, burst: null, busy: false, busyTimer: null, waiting: [], pressing: false,
  lastSel: {}, note: "", detail: null, detailSeq: 0, detailTimer: null, warmed: null,
  fitWidth: 0, windowWidth: window.innerWidth,   // the width the picture was fitted to (0: fitted while hidden)
};
const NS = "http://www.w3.org/2000/svg";
const MIN = 3;          // screen pixels: smaller boxes are taken for a click
const BURST_MS = 600;   // keyboard nudges closer together than this are one commit (one undo step)
const ACTIONS = ["wb-prev", "wb-next", "wb-accept", "wb-reject", "wb-reopen", "wb-undo", "wb-redo"];

function val() { return props.value || {}; }
function shapes() { return (val().shapes || []).map(s => Object.assign({}, s, { c: s.c.slice() })); }
function labels() { return val().labels || []; }
function colorOf(name) { const l = labels().find(x => x.name === name); return l ? l.color : "#888888"; }
function currentLabel() {
  const names = labels().map(l => l.name);
  if (state.label && names.includes(state.label)) return state.label;
  return val().label || names[0] || "object";
}
function origPx(axis) {   // display units per original pixel, per axis (the copy's rounding makes them differ)
  const v = val();
  if (axis === "y") return v.oh ? v.h / v.oh : 1;
  return v.ow ? v.w / v.ow : 1;
}

// -- commits, acknowledgements and the queue of item actions ------------------------------------------------

// A model box's score: P(it survives review) once the dataset is calibrated, else a raw signal in 0-1.
function scored(s) { return s.from === "model" && typeof s.score === "number"; }
function scoreTint(p) { return "hsl(" + Math.round(120 * Math.min(Math.max(p, 0), 1)) + ", 90%, 45%)"; }
function scoreText(p) { return (val().calibrated ? "p " : "raw ") + p.toFixed(2); }
// Tab order: the weakest scored box first, then the others by score, unscored ones last (in drawing order)
function tabOrder(list) {
  return list.map((s, i) => i).sort((a, b) => {
    const sa = scored(list[a]) ? list[a].score : 2, sb = scored(list[b]) ? list[b].score : 2;
    return sa - sb || a - b;
  });
}

function commit(next, sel) {
  clearBurst();
  state.sel = sel;
  state.seq += 1;
  const v = Object.assign({}, val(), { shapes: next, label: currentLabel(), commit: state.seq, sel: sel });
  props.value = v;
  trigger("input");
  drawShapes();  // a value set from here does not re-run watch(): draw the new state now
}

function clearBurst() { if (state.burst) { clearTimeout(state.burst); state.burst = null; } }
function flushBurst() { if (state.burst) { clearBurst(); commit(shapes(), state.sel); } }
function settled() { return !state.burst && !state.busy && state.acked >= state.seq; }

function press(id) {
  const b = document.getElementById(id);
  if (!b) return;
  state.busy = true;
  clearTimeout(state.busyTimer);
  state.busyTimer = setTimeout(release, 20000);  // never wait for ever on an answer that was lost
  state.pressing = true;
  try { b.click(); } finally { state.pressing = false; }
}
function release() { state.busy = false; clearTimeout(state.busyTimer); setTimeout(pump, 0); }
function pump() { if (state.waiting.length && settled()) press(state.waiting.shift()); }
function act(id) { flushBurst(); state.waiting.push(id); setTimeout(pump, 0); }

// a person's click on an action button waits for the edits before it, as a key press does
function guardClicks(ev) {
  const b = ev.target && ev.target.closest ? ev.target.closest("button") : null;
  if (!b || !ACTIONS.includes(b.id) || state.pressing) return;
  if (!settled() || state.waiting.length) { ev.preventDefault(); ev.stopImmediatePropagation(); act(b.id); return; }
  state.busy = true; clearTimeout(state.busyTimer); state.busyTimer = setTimeout(release, 20000);
}

// -- view: zoom and pan --------------------------------------------------------------------------------------

function stageBox() { const s = element.querySelector(".wb-stage"); return s ? s.getBoundingClientRect() : null; }
function viewW() { return val().w / state.view.z; }
function viewH() { return val().h / state.view.z; }
function maxZoom() {
  const r = stageBox(), v = val();
  if (!r || !r.width) return 8;
  return Math.max(2, 8 * (v.ow || v.w) / r.width);  // up to 8 screen pixels per original pixel
}
function clampView() {
  const v = val(), vw = viewW(), vh = viewH();
  state.view.vx = Math.min(Math.max(state.view.vx, 0), Math.max(0, v.w - vw));
  state.view.vy = Math.min(Math.max(state.view.vy, 0), Math.max(0, v.h - vh));
}
function zoomAt(factor, cx, cy) {   // cx, cy: display pixels that stay under the same screen point
  const v = val(), old = state.view;
  const z = Math.min(Math.max(old.z * factor, 1), maxZoom());
  const fx = (cx - old.vx) / viewW(), fy = (cy - old.vy) / viewH();
  state.view = { z, vx: cx - fx * v.w / z, vy: cy - fy * v.h / z };
  clampView(); applyView();
}
function resetView() { state.view = { z: 1, vx: 0, vy: 0 }; applyView(); }

function applyView() {
  const v = val(), stage = element.querySelector(".wb-stage");
  if (!stage || !v.image) return;
  const W = stage.clientWidth, k = W * state.view.z / v.w;   // screen pixels per display pixel
  const img = stage.querySelector("img");
  img.style.width = (v.w * k) + "px"; img.style.height = (v.h * k) + "px";
  img.style.transform = "translate(" + (-state.view.vx * k) + "px," + (-state.view.vy * k) + "px)";
  const svg = stage.querySelector("svg");
  svg.setAttribute("viewBox", state.view.vx + " " + state.view.vy + " " + viewW() + " " + viewH());
  placeDetail();
  drawShapes();
  stage.dataset.zoom = state.view.z.toFixed(3);
  if (state.view.z > 1.0001) warm();
  scheduleDetail();
}

function warm() {   // zooming in starts: the server decodes the original now, while the wheel still turns
  const v = val();
  if (state.warmed === v.key || !v.ow || v.w >= v.ow || typeof server === "undefined" || !server.crop) return;
  state.warmed = v.key;
  server.crop({ key: v.key, sha: v.sha, warm: true }).catch(() => {});
}

function placeDetail() {
  const stage = element.querySelector(".wb-stage"), d = element.querySelector(".wb-detail"), v = val();
  if (!stage || !d) return;
  const det = state.detail;
  if (!det || det.key !== v.key || state.view.z <= 1.0001) { d.style.display = "none"; return; }
  const k = stage.clientWidth * state.view.z / v.w, s = v.w / v.ow;   // display pixels per original pixel
  d.style.display = "";
  d.style.left = ((det.box[0] * s - state.view.vx) * k) + "px"; d.style.top = ((det.box[1] * s - state.view.vy) * k) + "px";
  d.style.width = ((det.box[2] - det.box[0]) * s * k) + "px"; d.style.height = ((det.box[3] - det.box[1]) * s * k) + "px";
}

function scheduleDetail() {
  const stage = element.querySelector(".wb-stage");
  if (stage) stage.dataset.detail = "pending";   // the pixels shown are not yet this view's
  clearTimeout(state.detailTimer);
  state.detailTimer = setTimeout(fetchDetail, 90);  // once the wheel or the drag has stopped
}

async function fetchDetail() {
  const v = val(), stage = element.querySelector(".wb-stage");
  if (!stage || !v.image || !v.ow || typeof server === "undefined" || !server.crop) return;
  const W = stage.clientWidth, H = stage.clientHeight, dpr = window.devicePixelRatio || 1;
  const needed = W * state.view.z / v.w * dpr;   // screen pixels per display pixel
  if (state.view.z <= 1.0001 || needed <= 1.001 || v.w >= v.ow) { stage.dataset.detail = "none"; return; }
  const s = v.ow / v.w, seq = ++state.detailSeq, key = v.key;
  const box = [state.view.vx * s, state.view.vy * s, (state.view.vx + viewW()) * s, (state.view.vy + viewH()) * s];
  stage.dataset.detail = "loading";
  let res;
  try { res = await server.crop({ key: v.key, sha: v.sha, box: box, out: [Math.round(W * dpr), Math.round(H * dpr)] }); }
  catch (e) { res = { error: String(e) }; }
  if (seq !== state.detailSeq || val().key !== key) return;   // a newer view asked since
  if (!res || res.error) { stage.dataset.detail = "error"; note(res && res.error ? res.error : "no zoomed pixels"); return; }
  const pic = new Image();
  pic.src = res.url;
  try { await pic.decode(); } catch (e) { return; }
  if (seq !== state.detailSeq || val().key !== key) return;
  state.detail = { key: key, box: res.box, size: res.size };
  const d = element.querySelector(".wb-detail");
  if (!d) return;
  d.style.backgroundImage = "url(" + res.url + ")";
  placeDetail();
  stage.dataset.detail = "ready"; stage.dataset.detailSeq = String(seq);
  stage.dataset.detailSize = res.size.join("x");
}

// -- drawing ---------------------------------------------------------------------------------------------------

function toImage(svg, ev) {
  const r = svg.getBoundingClientRect(), v = val();
  const x = state.view.vx + (ev.clientX - r.left) / r.width * viewW(), y = state.view.vy + (ev.clientY - r.top) / r.height * viewH();
  return [Math.min(Math.max(x, 0), v.w), Math.min(Math.max(y, 0), v.h)];
}

function hit(list, x, y, tol) {
  for (let i = list.length - 1; i >= 0; i--) {   // the last drawn is on top
    const s = list[i], c = s.c;
    if (s.kind === "point") { if (Math.hypot(c[0] - x, c[1] - y) <= tol * 1.5) return i; }
    else if (x >= c[0] - tol && x <= c[2] + tol && y >= c[1] - tol && y <= c[3] + tol) return i;
  }
  return -1;
}

function handleAt(s, x, y, tol) {
  if (!s || s.kind !== "box") return null;
  const [x1, y1, x2, y2] = s.c;
  const near = (a, b) => Math.abs(a - b) <= tol;
  const h = (near(y, y1) ? "n" : near(y, y2) ? "s" : "") + (near(x, x1) ? "w" : near(x, x2) ? "e" : "");
  const inside = x >= x1 - tol && x <= x2 + tol && y >= y1 - tol && y <= y2 + tol;
  return inside && h ? h : null;
}

function screenPx() {   // display units per screen pixel at the current zoom: handles keep their screen size
  const stage = element.querySelector(".wb-stage");
  return viewW() / Math.max(stage ? stage.clientWidth : 800, 1);
}

function drawShapes() {
  const v = val(), svg = element.querySelector(".wb-overlay");
  if (!svg || !v.image) return;
  const list = v.shapes || [];
  if (state.sel >= list.length) state.sel = -1;
  if (state.sel >= 0) state.lastSel[v.key] = state.sel; else delete state.lastSel[v.key];  // as the item is left
  const px = screenPx();
  svg.innerHTML = "";
  (v.proposals || []).forEach(p => {
    const e = p.kind === "point" ? document.createElementNS(NS, "circle") : document.createElementNS(NS, "rect");
    if (p.kind === "point") { e.setAttribute("cx", p.c[0]); e.setAttribute("cy", p.c[1]); e.setAttribute("r", 5 * px); }
    else { e.setAttribute("x", p.c[0]); e.setAttribute("y", p.c[1]); e.setAttribute("width", p.c[2] - p.c[0]); e.setAttribute("height", p.c[3] - p.c[1]); }
    e.setAttribute("class", "wb-proposal"); e.setAttribute("stroke-width", 2 * px); e.setAttribute("stroke-dasharray", (6 * px) + " " + (4 * px));
    svg.appendChild(e);
  });
  list.forEach((s, i) => {
    const g = document.createElementNS(NS, "g"); g.setAttribute("class", "wb-shape" + (i === state.sel ? " wb-selected" : "") + (s.from === "model" ? " wb-model" : ""));
    g.setAttribute("data-index", i); g.setAttribute("data-label", s.label);
    if (scored(s)) g.setAttribute("data-score", s.score);
    const color = colorOf(s.label);
    if (s.kind === "point") {
      const c = document.createElementNS(NS, "circle"); c.setAttribute("cx", s.c[0]); c.setAttribute("cy", s.c[1]); c.setAttribute("r", (i === state.sel ? 7 : 5) * px);
      c.setAttribute("fill", color); c.setAttribute("stroke", "#fff"); c.setAttribute("stroke-width", 1.5 * px); g.appendChild(c);
    } else {
      const r = document.createElementNS(NS, "rect");
      r.setAttribute("x", s.c[0]); r.setAttribute("y", s.c[1]); r.setAttribute("width", Math.max(s.c[2] - s.c[0], 0)); r.setAttribute("height", Math.max(s.c[3] - s.c[1], 0));
      r.setAttribute("stroke", color); r.setAttribute("fill", scored(s) ? scoreTint(s.score) : color);
      r.setAttribute("fill-opacity", scored(s) ? (i === state.sel ? 0.35 : 0.22) : (i === state.sel ? 0.18 : 0.06));
      r.setAttribute("stroke-width", (i === state.sel ? 3.5 : 2) * px); g.appendChild(r);
      if (i === state.sel) {
        [[0, 1], [2, 1], [0, 3], [2, 3]].forEach(([a, b]) => {
          const h = document.createElementNS(NS, "rect"); const hs = 8 * px;
          h.setAttribute("x", s.c[a] - hs / 2); h.setAttribute("y", s.c[b] - hs / 2); h.setAttribute("width", hs); h.setAttribute("height", hs);
          h.setAttribute("stroke-width", px); h.setAttribute("class", "wb-handle"); g.appendChild(h);
        });
      }
    }
    const t = document.createElementNS(NS, "text"); t.setAttribute("x", s.c[0] + 2 * px); t.setAttribute("y", Math.max(s.c[1] - 4 * px, state.view.vy + 12 * px));
    t.setAttribute("font-size", 13 * px); t.setAttribute("fill", color); t.setAttribute("class", "wb-tag"); t.textContent = s.label || "(no label)";
    t.setAttribute("stroke-width", 0.6 * px);
    if (scored(s)) {
      const sc = document.createElementNS(NS, "tspan"); sc.setAttribute("class", "wb-score"); sc.setAttribute("fill", scoreTint(s.score));
      sc.textContent = " " + scoreText(s.score); t.appendChild(sc);
    }
    g.appendChild(t);
    svg.appendChild(g);
  });
  const band = document.createElementNS(NS, "rect"); band.setAttribute("class", "wb-band"); band.setAttribute("stroke-width", 2 * px);
  band.style.display = "none"; svg.appendChild(band);
  const picked = state.sel >= 0 && state.sel < list.length ? list[state.sel].label : currentLabel();
  element.querySelectorAll(".wb-chip").forEach(b => b.classList.toggle("wb-on", b.dataset.label === picked));
  info();
}

const SHORT = "Drag draws · Tab selects · Ctrl+arrows move · Alt(+Shift)+arrow moves an edge · C copies the previous " +
  "item's boxes · wheel or +/− zooms, 0 fits · Space+drag pans (hover for every key)";
const HELP = "Drag to draw · click a box to select, drag to move, corners to resize · Shift+drag draws inside a box · " +
  "Del deletes · L cycles its label · 1–9 pick a label · Tab next box · Ctrl+arrows move it (Shift: 10 px) · " +
  "Alt+arrow pushes that edge out, Alt+Shift+arrow pulls it in · C copies the previous item's boxes (Shift+C: the " +
  "one selected there) · wheel or +/− zooms, 0 fits, Space+drag or middle button pans · P boxes/points · Esc deselects";

function info() {
  const el = element.querySelector(".wb-info");
  if (!el) return;
  const list = val().shapes || [], s = list[state.sel];
  const zoom = state.view.z > 1.0001 ? " · zoom " + state.view.z.toFixed(1) + "×" : "";
  el.title = HELP;
  const why = s && scored(s) ? (val().calibrated ? " · P(survives review) " + s.score.toFixed(2)
                                                 : " · raw signal " + s.score.toFixed(2) + " (not calibrated yet)") : "";
  el.textContent = (state.note ? state.note + " · " : "") + (s ? ("selected: " + (s.label || "(no label)") + " · " +
    (s.from === "model" ? "from the model" : "by hand") + why + zoom) : SHORT + zoom);
}

function note(text) { state.note = text; info(); }

function render() {
  const v = val();
  const root = element.querySelector(".wb-editor");
  if (!v.image) { root.innerHTML = "<div class='wb-empty'></div>"; root.firstChild.textContent = v.empty || "No image to show."; return; }
  if (v.key !== state.key) {
    state.key = v.key; state.sel = -1; state.drag = null; state.note = ""; state.detail = null;
    state.view = { z: 1, vx: 0, vy: 0 }; clearBurst();
  }
  if (typeof v.sel === "number" && v.sel < (v.shapes || []).length && state.sel === -1) state.sel = v.sel;
  root.innerHTML = "";
  const bar = document.createElement("div"); bar.className = "wb-toolbar";
  const list = v.shapes || [];
  const picked = state.sel >= 0 && state.sel < list.length ? list[state.sel].label : currentLabel();
  labels().forEach((l, i) => {
    const b = document.createElement("button"); b.type = "button"; b.className = "wb-chip" + (l.name === picked ? " wb-on" : "");
    b.style.borderColor = l.color; b.textContent = (i < 9 ? (i + 1) + " " : "") + l.name; b.title = "label for new boxes and the selected one";
    b.dataset.label = l.name;
    b.addEventListener("click", () => setLabel(l.name));
    bar.appendChild(b);
  });
  const add = document.createElement("input"); add.className = "wb-newlabel"; add.placeholder = "+ new label (Enter)";
  add.addEventListener("keydown", ev => {
    if (ev.key !== "Enter") return;
    ev.preventDefault(); ev.stopPropagation();
    const name = add.value.trim().replace(/\s+/g, " ");
    if (!name) return;
    if (!labels().some(l => l.name === name)) {
      const palette = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45"];
      props.value = Object.assign({}, val(), { labels: labels().concat([{ name, color: palette[labels().length % palette.length] }]) });
    }
    setLabel(name);
  });
  bar.appendChild(add);
  const mode = document.createElement("button"); mode.type = "button"; mode.className = "wb-mode";
  mode.textContent = state.mode === "box" ? "▭ boxes (P: points)" : "• points (P: boxes)";
  mode.addEventListener("click", () => { state.mode = state.mode === "box" ? "point" : "box"; render(); });
  bar.appendChild(mode);
  if (!v.readonly) {
    const carryAll = document.createElement("button"); carryAll.type = "button"; carryAll.className = "wb-mode wb-carry";
    carryAll.textContent = "⇣ previous item's boxes (C)"; carryAll.title = "copy the previous item's boxes onto this one";
    carryAll.addEventListener("click", () => carry(false));
    bar.appendChild(carryAll);
  }
  const fitButton = document.createElement("button"); fitButton.type = "button"; fitButton.className = "wb-mode wb-fit";
  fitButton.textContent = "fit (0)"; fitButton.addEventListener("click", resetView);
  bar.appendChild(fitButton);
  root.appendChild(bar);

  state.fitWidth = element.clientWidth;   // 0 while the tab is hidden: fitted again once it shows
  const stage = document.createElement("div"); stage.className = "wb-stage";
  const img = document.createElement("img"); img.src = v.image; img.draggable = false; img.alt = v.alt || "image";
  const detail = document.createElement("div"); detail.className = "wb-detail"; detail.style.display = "none";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "wb-overlay"); svg.setAttribute("data-w", v.w); svg.setAttribute("data-h", v.h);
  stage.appendChild(img); stage.appendChild(detail); stage.appendChild(svg); root.appendChild(stage);
  const infoLine = document.createElement("div"); infoLine.className = "wb-info"; root.appendChild(infoLine);
  // as large as the column allows, but never taller than the window below the editor's top (portraits fit)
  const top = stage.getBoundingClientRect().top + window.scrollY;
  const room = top < window.innerHeight * 0.5 ? window.innerHeight - top - 40 : window.innerHeight * 0.66;
  const fit = Math.min(Math.max(root.clientWidth, 200) / v.w, Math.max(room, 240) / v.h, window.innerHeight * 0.7 / v.h);
  stage.style.width = Math.round(v.w * fit) + "px"; stage.style.height = Math.round(v.h * fit) + "px";
  clampView(); applyView();
  svg.addEventListener("pointerdown", ev => down(svg, ev));
  svg.addEventListener("pointermove", ev => move(svg, ev));
  svg.addEventListener("pointerup", ev => up(svg, ev));
  svg.addEventListener("pointercancel", () => { state.drag = null; drawShapes(); });
  svg.addEventListener("auxclick", ev => { if (ev.button === 1) ev.preventDefault(); });
  stage.addEventListener("wheel", ev => wheel(stage, ev), { passive: false });
}

function wheel(stage, ev) {
  if (!val().image) return;
  ev.preventDefault();
  const svg = stage.querySelector("svg"), [x, y] = toImage(svg, ev);
  const speed = ev.ctrlKey ? 0.01 : 0.0015;   // a pinch arrives as a wheel with Ctrl, in smaller steps
  const delta = ev.deltaMode === 1 ? ev.deltaY * 16 : ev.deltaY;
  zoomAt(Math.exp(-delta * speed), x, y);
}

function tolerance() { return 6 * screenPx(); }

function down(svg, ev) {
  if (!val().image) return;
  if (ev.button === 1 || (ev.button === 0 && state.space)) {   // pan: middle button, or Space held
    ev.preventDefault(); svg.setPointerCapture(ev.pointerId);
    state.drag = { type: "pan", sx: ev.clientX, sy: ev.clientY, view: Object.assign({}, state.view) }; return;
  }
  if (val().readonly || ev.button !== 0) return;
  flushBurst();
  ev.preventDefault(); svg.setPointerCapture(ev.pointerId);
  const [x, y] = toImage(svg, ev), list = shapes(), tol = tolerance();
  let handle = handleAt(list[state.sel], x, y, tol), index = state.sel;
  if (!handle && !ev.shiftKey) {   // a corner of any box resizes it too, selected or not (its edges move it)
    const j = hit(list, x, y, tol), h = j >= 0 ? handleAt(list[j], x, y, tol) : null;
    if (h && h.length === 2) { handle = h; index = j; state.sel = j; }
  }
  if (handle && !ev.shiftKey) { state.drag = { type: "resize", handle, index, start: [x, y], orig: list[index].c.slice(), moved: false, work: list }; return; }
  const i = ev.shiftKey ? -1 : hit(list, x, y, tol);
  if (i >= 0) { state.sel = i; state.drag = { type: "move", index: i, start: [x, y], orig: list[i].c.slice(), moved: false, work: list }; return; }
  if (state.mode === "point") {
    const next = list.concat([{ aid: null, kind: "point", c: [x, y], label: currentLabel(), from: "human", dirty: true }]);
    commit(next, next.length - 1); return;
  }
  state.drag = { type: "draw", start: [x, y], now: [x, y] };
}

function move(svg, ev) {
  state.pointer = toImage(svg, ev);
  const d = state.drag; if (!d) return;
  if (d.type === "pan") {
    const r = svg.getBoundingClientRect(), k = viewW() / r.width;
    state.view.vx = d.view.vx - (ev.clientX - d.sx) * k; state.view.vy = d.view.vy - (ev.clientY - d.sy) * k;
    clampView(); applyView(); return;
  }
  const [x, y] = state.pointer, v = val();
  if (d.type === "draw") {
    d.now = [x, y];
    const band = svg.querySelector(".wb-band");
    band.style.display = ""; band.setAttribute("x", Math.min(d.start[0], x)); band.setAttribute("y", Math.min(d.start[1], y));
    band.setAttribute("width", Math.abs(x - d.start[0])); band.setAttribute("height", Math.abs(y - d.start[1]));
    return;
  }
  const dx = x - d.start[0], dy = y - d.start[1];
  if (Math.abs(dx) + Math.abs(dy) > 0.5 * screenPx()) d.moved = true;
  const s = d.work[d.index], o = d.orig;
  if (d.type === "move") {
    if (s.kind === "point") s.c = [Math.min(Math.max(o[0] + dx, 0), v.w), Math.min(Math.max(o[1] + dy, 0), v.h)];
    else {
      const w = o[2] - o[0], h = o[3] - o[1];
      const nx = Math.min(Math.max(o[0] + dx, 0), v.w - w), ny = Math.min(Math.max(o[1] + dy, 0), v.h - h);
      s.c = [nx, ny, nx + w, ny + h];
    }
  } else {
    const c = o.slice();
    if (d.handle.includes("w")) c[0] = x; if (d.handle.includes("e")) c[2] = x;
    if (d.handle.includes("n")) c[1] = y; if (d.handle.includes("s")) c[3] = y;
    s.c = c;
  }
  const g = svg.querySelector("g[data-index='" + d.index + "']");
  if (g && s.kind === "box") {
    const r = g.querySelector("rect"); const c = s.c;
    r.setAttribute("x", Math.min(c[0], c[2])); r.setAttribute("y", Math.min(c[1], c[3]));
    r.setAttribute("width", Math.abs(c[2] - c[0])); r.setAttribute("height", Math.abs(c[3] - c[1]));
  } else if (g) { const c = g.querySelector("circle"); c.setAttribute("cx", s.c[0]); c.setAttribute("cy", s.c[1]); }
}

function up(svg, ev) {
  const d = state.drag; state.drag = null; if (!d) return;
  if (d.type === "pan") return;
  const list = d.work || shapes(), min = MIN * screenPx();
  if (d.type === "draw") {
    const [x1, y1] = d.start, [x2, y2] = d.now;
    if (Math.abs(x2 - x1) < min || Math.abs(y2 - y1) < min) { state.sel = -1; drawShapes(); return; }
    const next = list.concat([{ aid: null, kind: "box", c: [Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)],
                                label: currentLabel(), from: "human", dirty: true }]);
    commit(next, next.length - 1); return;
  }
  if (!d.moved) { drawShapes(); return; }
  const s = list[d.index];
  if (s.kind === "box") s.c = [Math.min(s.c[0], s.c[2]), Math.min(s.c[1], s.c[3]), Math.max(s.c[0], s.c[2]), Math.max(s.c[1], s.c[3])];
  if (s.kind === "box" && (s.c[2] - s.c[0] < min || s.c[3] - s.c[1] < min)) { drawShapes(); return; }
  s.dirty = true; s.from = "human"; s.score = null;
  commit(list, d.index);
}

function setLabel(name) {
  flushBurst();
  state.label = name;
  const list = shapes();
  if (state.sel >= 0 && state.sel < list.length && list[state.sel].label !== name) {
    list[state.sel].label = name; list[state.sel].from = "human"; list[state.sel].score = null; commit(list, state.sel);
  } else render();
}

// -- keyboard geometry: nudges are kept on the page and committed as one step when the keys pause ---------------

function nudge(key, ev) {
  const v = val(), list = shapes(), s = list[state.sel];
  if (!s) return false;
  const n = ev.shiftKey && !ev.altKey ? 10 : 1, sx = n * origPx("x"), sy = n * origPx("y");
  const dir = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[key];
  const c = s.c.slice();
  if (ev.altKey) {   // an edge: Alt pushes the edge on that side out, Alt+Shift pulls it in
    if (s.kind !== "box") return false;
    const out = ev.shiftKey ? -1 : 1;
    if (key === "ArrowLeft") c[0] = Math.min(Math.max(c[0] - out * sx, 0), c[2] - origPx("x"));
    if (key === "ArrowRight") c[2] = Math.max(Math.min(c[2] + out * sx, v.w), c[0] + origPx("x"));
    if (key === "ArrowUp") c[1] = Math.min(Math.max(c[1] - out * sy, 0), c[3] - origPx("y"));
    if (key === "ArrowDown") c[3] = Math.max(Math.min(c[3] + out * sy, v.h), c[1] + origPx("y"));
  } else if (s.kind === "point") {
    c[0] = Math.min(Math.max(c[0] + dir[0] * sx, 0), v.w); c[1] = Math.min(Math.max(c[1] + dir[1] * sy, 0), v.h);
  } else {
    const w = c[2] - c[0], h = c[3] - c[1];
    const nx = Math.min(Math.max(c[0] + dir[0] * sx, 0), v.w - w), ny = Math.min(Math.max(c[1] + dir[1] * sy, 0), v.h - h);
    c[0] = nx; c[1] = ny; c[2] = nx + w; c[3] = ny + h;
  }
  s.c = c; s.dirty = true; s.from = "human";
  props.value = Object.assign({}, v, { shapes: list });   // on the page now; stored when the keys pause
  clearBurst();
  state.burst = setTimeout(() => { state.burst = null; commit(shapes(), state.sel); }, BURST_MS);
  drawShapes();
  return true;
}

// -- carry-over: the previous item's boxes onto this one ---------------------------------------------------------

async function carry(onlySelected) {
  flushBurst();
  const v = val();
  if (!v.image || v.readonly || typeof server === "undefined" || !server.previous_boxes) return;
  let res;
  try { res = await server.previous_boxes({ key: v.key, sha: v.sha }); } catch (e) { res = { error: String(e) }; }
  if (val().key !== v.key) return;   // another item opened meanwhile
  if (!res || res.error) { note(res && res.error ? res.error : "no previous item"); return; }
  let found = res.shapes || [];
  if (onlySelected) {
    const i = state.lastSel[res.key];
    if (typeof i !== "number" || !found[i]) { note("select a box on item " + res.item + " first: Shift+C copies the box selected there"); return; }
    found = [found[i]];
  }
  if (!found.length) { note("item " + res.item + " has no boxes to copy"); return; }
  const list = shapes().concat(found.map(s => Object.assign({}, s, { aid: null, from: "human", dirty: true })));
  commit(list, list.length - 1);
  note("copied " + found.length + " box(es) from item " + res.item);
}

// -- keys ----------------------------------------------------------------------------------------------------

function typing(ev) {
  const t = ev.target; if (!t) return false;
  const tag = (t.tagName || "").toLowerCase();
  return tag === "input" || tag === "textarea" || tag === "select" || t.isContentEditable;
}

function visible() { const r = element.getBoundingClientRect(); return r.width > 0 && r.height > 0; }

function onKey(ev) {
  if (typing(ev) || !visible() || !val().image) return;
  const list = shapes(), sel = state.sel, names = labels().map(l => l.name);
  const key = ev.key, mod = ev.ctrlKey || ev.metaKey;
  if (key === " ") {   // held for panning; a focused button or tab keeps its own Space
    if (ev.target && ev.target.closest && ev.target.closest("button, a, [role=button], [role=tab]")) return;
    ev.preventDefault(); state.space = true; return;
  }
  if (key.startsWith("Arrow") && sel >= 0 && (mod || ev.altKey) && !val().readonly) {
    if (nudge(key, ev)) ev.preventDefault();
    return;
  }
  if ((key === "Delete" || key === "Backspace") && sel >= 0 && !val().readonly) {
    ev.preventDefault(); list.splice(sel, 1); commit(list, -1); return;
  }
  if (key === "Escape") { flushBurst(); state.sel = -1; drawShapes(); return; }
  if (key === "Tab" && list.length && !mod) {  // the weakest box first (tabOrder); with nothing selected,
    ev.preventDefault(); flushBurst();         // Tab selects the first of that order and Shift+Tab the last
    const order = tabOrder(list), at = order.indexOf(sel);
    state.sel = order[at < 0 ? (ev.shiftKey ? list.length - 1 : 0) : (at + (ev.shiftKey ? list.length - 1 : 1)) % list.length];
    drawShapes(); return;
  }
  if ((key === "l" || key === "L") && !mod && names.length) {
    ev.preventDefault();
    const from = sel >= 0 ? list[sel].label : currentLabel();
    const i = names.indexOf(from), step = key === "L" ? names.length - 1 : 1;
    setLabel(names[((i < 0 ? -1 : i) + step) % names.length]); return;
  }
  if (/^[1-9]$/.test(key) && !mod && !ev.altKey && Number(key) <= names.length) {
    ev.preventDefault(); setLabel(names[Number(key) - 1]); return;
  }
  if ((key === "p" || key === "P") && !mod) { state.mode = state.mode === "box" ? "point" : "box"; render(); return; }
  if ((key === "c" || key === "C") && !mod && !ev.altKey) { ev.preventDefault(); carry(ev.shiftKey); return; }
  if ((key === "+" || key === "=") && !mod) { ev.preventDefault(); zoomAt(1.5, ...zoomCenter()); return; }
  if ((key === "-" || key === "_") && !mod) { ev.preventDefault(); zoomAt(1 / 1.5, ...zoomCenter()); return; }
  if (key === "0" && !mod) { ev.preventDefault(); resetView(); return; }
  // item-level keys press the page's own buttons (the same server handlers), once earlier edits are stored
  const go = id => { ev.preventDefault(); act(id); };
  if (mod && (key === "z" || key === "Z")) return go(ev.shiftKey ? "wb-redo" : "wb-undo");
  if (mod && (key === "y" || key === "Y")) return go("wb-redo");
  if (mod || ev.altKey) return;
  if (key === "ArrowRight" || key === "n") return go("wb-next");
  if (key === "ArrowLeft" || key === "b") return go("wb-prev");
  if (key === "a") return go("wb-accept");
  if (key === "x") return go("wb-reject");
}

function zoomCenter() {   // the pointer when it is over the picture, else the middle of the view
  if (state.pointer) return state.pointer;
  return [state.view.vx + viewW() / 2, state.view.vy + viewH() / 2];
}

function onKeyUp(ev) { if (ev.key === " ") state.space = false; }

document.addEventListener("keydown", onKey);
document.addEventListener("keyup", onKeyUp);
document.addEventListener("click", guardClicks, true);
// fit again when the editor's width changes: a window resized, or a tab shown that was hidden (zero wide) when
// the item arrived
// (only then: a scrollbar that comes and goes with the picture's height must not make it resize for ever)
new ResizeObserver(() => {
  const w = element.clientWidth;
  if (!w || !val().image || Math.abs(w - state.fitWidth) <= 1) return;
  const hiddenBefore = state.fitWidth === 0, resized = window.innerWidth !== state.windowWidth;
  state.fitWidth = w; state.windowWidth = window.innerWidth;
  if (hiddenBefore || resized) render();
}).observe(element);
watch("value", () => { render(); state.acked = state.seq; release(); });   // the server has spoken for this item
watch("ack", () => { state.acked = Math.max(state.acked, Number(props.ack) || 0); setTimeout(pump, 0); });
watch("done", release);
render();
