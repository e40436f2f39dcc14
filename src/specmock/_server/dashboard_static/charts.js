// Requests per second and mean latency by status class over the last 5 minutes, drawn on canvas;
// requests per operation as a table. Fed by the live traffic, no library.
import {h} from "./api.js";
import {curl, examplePaths, hint, origin} from "./hints.js";

let example = null;
examplePaths().then((paths) => { example = paths.list; });

const WINDOW = 300;  // seconds shown
const BUCKET = 5;    // seconds per bar
const CLASSES = ["2", "4", "5", "3"];
const buckets = new Map();     // bucket start (s) -> {class: {count, ms}}
const perOperation = new Map(); // "family:operationId" -> {total, 2, 4, 5}

function colour(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(`--s${name}`).trim() || "#888";
}

export function record(entry) {
  const start = Math.floor(entry.timestamp / BUCKET) * BUCKET;
  const cls = CLASSES.includes(String(entry.status)[0]) ? String(entry.status)[0] : "3";
  const bucket = buckets.get(start) ?? {};
  const cell = bucket[cls] ?? {count: 0, ms: 0};
  cell.count += 1;
  cell.ms += entry.durationMs;
  bucket[cls] = cell;
  buckets.set(start, bucket);
  const key = `${entry.family}:${entry.operationId ?? "(unmatched)"}`;
  const op = perOperation.get(key) ?? {total: 0, 2: 0, 4: 0, 5: 0};
  op.total += 1;
  if (op[cls] !== undefined) op[cls] += 1;
  perOperation.set(key, op);
}

function draw(canvas, value, stacked) {
  const context = canvas.getContext("2d");
  const {width, height} = canvas;
  context.clearRect(0, 0, width, height);
  const now = Math.floor(Date.now() / 1000 / BUCKET) * BUCKET;
  const starts = [];
  for (let t = now - WINDOW + BUCKET; t <= now; t += BUCKET) starts.push(t);
  for (const t of buckets.keys()) if (t < now - WINDOW) buckets.delete(t);
  const series = starts.map((t) => CLASSES.map((c) => value(buckets.get(t)?.[c])));
  const max = Math.max(1e-9, ...series.map((s) => (stacked ? s.reduce((a, b) => a + b, 0) : Math.max(...s))));
  const bar = width / starts.length;
  context.fillStyle = colour("axis");
  context.font = "11px system-ui, sans-serif";
  context.fillText(`${max.toFixed(max < 10 ? 1 : 0)}`, 2, 11);
  context.fillText(`−${WINDOW / 60} min`, 2, height - 3);
  context.fillText("now", width - 24, 11);
  series.forEach((values, i) => {
    let base = height;
    values.forEach((v, c) => {
      if (!v) return;
      const size = (v / max) * (height - 14);
      context.fillStyle = colour(CLASSES[c]);
      if (stacked) { context.fillRect(i * bar + 1, base - size, bar - 2, size); base -= size; }
      else context.fillRect(i * bar + 1 + (c * (bar - 2)) / 4, height - size, (bar - 2) / 4, size);
    });
  });
}

export function renderCharts() {
  draw(document.getElementById("chart-rate"), (cell) => (cell ? cell.count / BUCKET : 0), true);
  draw(document.getElementById("chart-latency"), (cell) => (cell ? cell.ms / cell.count : 0), false);
  const rows = [...perOperation.entries()].sort((a, b) => b[1].total - a[1].total);
  const empty = h("tr", {class: "empty-row"}, h("td", {colspan: 5},
    hint("No requests since this page opened. Send one:", example ? curl(`${origin()}${example}`) : null)));
  document.getElementById("per-operation").replaceChildren(...(rows.length ? rows.map(([name, op]) => h("tr", {},
    h("td", {}, name), h("td", {class: "num"}, op.total), h("td", {class: "num"}, op[2]),
    h("td", {class: "num"}, op[4]), h("td", {class: "num"}, op[5]))) : [empty]));
}
