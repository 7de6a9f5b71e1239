// The box editor: an <img> with an SVG overlay, driven by the component's value (see ui/box_editor.py).
// Every finished gesture (draw, move, resize, delete, relabel) is ONE commit: props.value gets the shapes and
// trigger('change') sends them to the server, which stores them as one history entry.
const state = { sel: -1, drag: null, key: null, mode: "box", label: null };
const NS = "http://www.w3.org/2000/svg";
const MIN = 3;  // display pixels: smaller boxes are taken for a click

function val() { return props.value || {}; }
function shapes() { return (val().shapes || []).map(s => Object.assign({}, s, { c: s.c.slice() })); }
function labels() { return val().labels || []; }
function colorOf(name) { const l = labels().find(x => x.name === name); return l ? l.color : "#888888"; }
function currentLabel() {
  const names = labels().map(l => l.name);
  if (state.label && names.includes(state.label)) return state.label;
  return val().label || names[0] || "object";
}

function commit(next, sel) {
  state.sel = sel;
  const v = Object.assign({}, val(), { shapes: next, label: currentLabel(), commit: (val().commit || 0) + 1, sel: sel });
  props.value = v;
  trigger("input");
  render();  // a value set from here does not re-run watch(): draw the new state now
}

function toImage(svg, ev) {
  const r = svg.getBoundingClientRect(), v = val();
  const x = (ev.clientX - r.left) / r.width * v.w, y = (ev.clientY - r.top) / r.height * v.h;
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

function render() {
  const v = val();
  const root = element.querySelector(".wb-editor");
  if (!v.image) { root.innerHTML = "<div class='wb-empty'>" + (v.empty || "No image to show.") + "</div>"; return; }
  if (v.key !== state.key) { state.key = v.key; state.sel = -1; state.drag = null; }
  if (typeof v.sel === "number" && v.sel < (v.shapes || []).length && state.sel === -1 && v.key === state.key) state.sel = v.sel;
  const list = v.shapes || [];
  if (state.sel >= list.length) state.sel = -1;
  root.innerHTML = "";
  const bar = document.createElement("div"); bar.className = "wb-toolbar";
  const picked = (list => state.sel >= 0 && state.sel < list.length ? list[state.sel].label : currentLabel())(v.shapes || []);
  labels().forEach((l, i) => {
    const b = document.createElement("button"); b.type = "button"; b.className = "wb-chip" + (l.name === picked ? " wb-on" : "");
    b.style.borderColor = l.color; b.textContent = (i < 9 ? (i + 1) + " " : "") + l.name; b.title = "label for new boxes and the selected one";
    b.addEventListener("click", () => setLabel(l.name));
    bar.appendChild(b);
  });
  const add = document.createElement("input"); add.className = "wb-newlabel"; add.placeholder = "+ new label (Enter)";
  add.addEventListener("keydown", ev => {
    if (ev.key !== "Enter") return;
    ev.preventDefault(); ev.stopPropagation();
    const name = add.value.trim().replace(/\s+/g, " ");
    if (!name) return;
    const v = val();
    if (!labels().some(l => l.name === name)) {
      const palette = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45"];
      props.value = Object.assign({}, v, { labels: labels().concat([{ name, color: palette[labels().length % palette.length] }]) });
    }
    setLabel(name);
  });
  bar.appendChild(add);
  const mode = document.createElement("button"); mode.type = "button"; mode.className = "wb-mode";
  mode.textContent = state.mode === "box" ? "▭ boxes (P: points)" : "• points (P: boxes)";
  mode.addEventListener("click", () => { state.mode = state.mode === "box" ? "point" : "box"; render(); });
  bar.appendChild(mode);
  root.appendChild(bar);
  const stage = document.createElement("div"); stage.className = "wb-stage";
  const img = document.createElement("img"); img.src = v.image; img.draggable = false; img.alt = v.alt || "image";
  img.style.aspectRatio = v.w + " / " + v.h;
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 " + v.w + " " + v.h); svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "wb-overlay"); svg.setAttribute("data-w", v.w); svg.setAttribute("data-h", v.h);
  const px = Math.max(v.w, v.h) / 800;  // about one screen pixel, whatever the display size
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
    const color = colorOf(s.label);
    if (s.kind === "point") {
      const c = document.createElementNS(NS, "circle"); c.setAttribute("cx", s.c[0]); c.setAttribute("cy", s.c[1]); c.setAttribute("r", (i === state.sel ? 7 : 5) * px);
      c.setAttribute("fill", color); c.setAttribute("stroke", "#fff"); c.setAttribute("stroke-width", 1.5 * px); g.appendChild(c);
    } else {
      const r = document.createElementNS(NS, "rect");
      r.setAttribute("x", s.c[0]); r.setAttribute("y", s.c[1]); r.setAttribute("width", Math.max(s.c[2] - s.c[0], 0)); r.setAttribute("height", Math.max(s.c[3] - s.c[1], 0));
      r.setAttribute("stroke", color); r.setAttribute("fill", color); r.setAttribute("fill-opacity", i === state.sel ? 0.18 : 0.06);
      r.setAttribute("stroke-width", (i === state.sel ? 3.5 : 2) * px); g.appendChild(r);
      if (i === state.sel) {
        [[0, 1], [2, 1], [0, 3], [2, 3]].forEach(([a, b]) => {
          const h = document.createElementNS(NS, "rect"); const hs = 8 * px;
          h.setAttribute("x", s.c[a] - hs / 2); h.setAttribute("y", s.c[b] - hs / 2); h.setAttribute("width", hs); h.setAttribute("height", hs);
          h.setAttribute("class", "wb-handle"); g.appendChild(h);
        });
      }
    }
    const t = document.createElementNS(NS, "text"); t.setAttribute("x", s.c[0] + 2 * px); t.setAttribute("y", Math.max(s.c[1] - 4 * px, 12 * px));
    t.setAttribute("font-size", 13 * px); t.setAttribute("fill", color); t.setAttribute("class", "wb-tag"); t.textContent = s.label || "(no label)";
    g.appendChild(t);
    svg.appendChild(g);
  });
  const band = document.createElementNS(NS, "rect"); band.setAttribute("class", "wb-band"); band.setAttribute("stroke-width", 2 * px);
  band.style.display = "none"; svg.appendChild(band);
  stage.appendChild(img); stage.appendChild(svg); root.appendChild(stage);
  // as large as the column allows, but never taller than about two thirds of the window (portraits fit)
  const fit = Math.min(Math.max(root.clientWidth, 200) / v.w, window.innerHeight * 0.66 / v.h);
  img.style.width = Math.round(v.w * fit) + "px"; img.style.height = "auto";
  const info = document.createElement("div"); info.className = "wb-info";
  const s = list[state.sel];
  info.textContent = s ? ("selected: " + (s.label || "(no label)") + " · " + (s.from === "model" ? "from the model" : "by hand")) :
    "Drag to draw · click a box to select, drag to move, corners to resize · Shift+drag draws inside a box · Del deletes · L cycles its label · 1–9 pick a label · P boxes/points · Esc deselects";
  root.appendChild(info);
  svg.addEventListener("pointerdown", ev => down(svg, ev));
  svg.addEventListener("pointermove", ev => move(svg, ev));
  svg.addEventListener("pointerup", ev => up(svg, ev));
  svg.addEventListener("pointercancel", () => { state.drag = null; render(); });
}

function tolerance(svg) { const r = svg.getBoundingClientRect(); return 6 * val().w / Math.max(r.width, 1); }

function down(svg, ev) {
  if (val().readonly) return;
  ev.preventDefault(); svg.setPointerCapture(ev.pointerId);
  const [x, y] = toImage(svg, ev), list = shapes(), tol = tolerance(svg);
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
  const d = state.drag; if (!d) return;
  const [x, y] = toImage(svg, ev), v = val();
  if (d.type === "draw") {
    d.now = [x, y];
    const band = svg.querySelector(".wb-band");
    band.style.display = ""; band.setAttribute("x", Math.min(d.start[0], x)); band.setAttribute("y", Math.min(d.start[1], y));
    band.setAttribute("width", Math.abs(x - d.start[0])); band.setAttribute("height", Math.abs(y - d.start[1]));
    return;
  }
  const dx = x - d.start[0], dy = y - d.start[1];
  if (Math.abs(dx) + Math.abs(dy) > 0.5) d.moved = true;
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
  const list = d.work || shapes();
  if (d.type === "draw") {
    const [x1, y1] = d.start, [x2, y2] = d.now;
    if (Math.abs(x2 - x1) < MIN || Math.abs(y2 - y1) < MIN) { state.sel = -1; render(); return; }
    const next = list.concat([{ aid: null, kind: "box", c: [Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)],
                                label: currentLabel(), from: "human", dirty: true }]);
    commit(next, next.length - 1); return;
  }
  if (!d.moved) { render(); return; }
  const s = list[d.index];
  if (s.kind === "box") s.c = [Math.min(s.c[0], s.c[2]), Math.min(s.c[1], s.c[3]), Math.max(s.c[0], s.c[2]), Math.max(s.c[1], s.c[3])];
  if (s.kind === "box" && (s.c[2] - s.c[0] < MIN || s.c[3] - s.c[1] < MIN)) { render(); return; }
  s.dirty = true; s.from = "human";
  commit(list, d.index);
}

function setLabel(name) {
  state.label = name;
  const list = shapes();
  if (state.sel >= 0 && state.sel < list.length && list[state.sel].label !== name) {
    list[state.sel].label = name; list[state.sel].from = "human"; commit(list, state.sel);
  } else render();
}

function typing(ev) {
  const t = ev.target; if (!t) return false;
  const tag = (t.tagName || "").toLowerCase();
  return tag === "input" || tag === "textarea" || tag === "select" || t.isContentEditable;
}

function visible() { const r = element.getBoundingClientRect(); return r.width > 0 && r.height > 0; }

function onKey(ev) {
  if (typing(ev) || !visible() || !val().image) return;
  const list = shapes(), sel = state.sel, names = labels().map(l => l.name);
  const key = ev.key;
  if ((key === "Delete" || key === "Backspace") && sel >= 0 && !val().readonly) {
    ev.preventDefault(); list.splice(sel, 1); commit(list, -1); return;
  }
  if (key === "Escape") { state.sel = -1; render(); return; }
  if (key === "Tab" && list.length && !ev.ctrlKey && !ev.metaKey) {
    ev.preventDefault();  // with nothing selected, Tab selects the first box and Shift+Tab the last
    state.sel = sel < 0 ? (ev.shiftKey ? list.length - 1 : 0) : (sel + (ev.shiftKey ? list.length - 1 : 1)) % list.length;
    render(); return;
  }
  if ((key === "l" || key === "L") && !ev.ctrlKey && !ev.metaKey && names.length) {
    ev.preventDefault();
    const from = sel >= 0 ? list[sel].label : currentLabel();
    const i = names.indexOf(from), step = key === "L" ? names.length - 1 : 1;
    setLabel(names[((i < 0 ? -1 : i) + step) % names.length]); return;
  }
  if (/^[1-9]$/.test(key) && !ev.ctrlKey && !ev.metaKey && !ev.altKey && Number(key) <= names.length) {
    ev.preventDefault(); setLabel(names[Number(key) - 1]); return;
  }
  if ((key === "p" || key === "P") && !ev.ctrlKey && !ev.metaKey) { state.mode = state.mode === "box" ? "point" : "box"; render(); return; }
  // item-level keys press the page's own buttons, so the same server handlers run
  const click = id => { const b = document.getElementById(id); if (b) { ev.preventDefault(); b.click(); } };
  const mod = ev.ctrlKey || ev.metaKey;
  if (mod && (key === "z" || key === "Z")) return click(ev.shiftKey ? "wb-redo" : "wb-undo");
  if (mod && (key === "y" || key === "Y")) return click("wb-redo");
  if (mod || ev.altKey) return;
  if (key === "ArrowRight" || key === "n") return click("wb-next");
  if (key === "ArrowLeft" || key === "b") return click("wb-prev");
  if (key === "a") return click("wb-accept");
  if (key === "x") return click("wb-reject");
}

document.addEventListener("keydown", onKey);
watch("value", render);
render();
