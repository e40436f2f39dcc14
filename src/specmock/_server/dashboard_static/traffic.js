// Live traffic: the journal pushed over Server-Sent Events, filtered, one row per request.
import {api, eventsUrl, h, pretty, url} from "./api.js";
import {curl, examplePaths, hint, origin} from "./hints.js";

const MAX_ROWS = 500;
// Outside the contract, or the mock's own failure: these rows stand out. (Refused requests
// are the contract working: a missing token gets its 401. They show their error, unhighlighted.)
const PROBLEMS = new Set(["invalid", "unmatched", "error"]);
const entries = [];           // newest last, at most MAX_ROWS
const listeners = [];         // called with each new entry (the charts)

export function onEntry(listener) { listeners.push(listener); }

function statusClass(entry) { return `s${String(entry.status)[0]}`; }

// The family's error document, compact: its details (which field, why) are the point.
function problemText(entry) {
  if (entry.problem === undefined || entry.problem === null) return null;
  return typeof entry.problem === "string" ? entry.problem : JSON.stringify(entry.problem);
}

function matches(entry) {
  const family = document.getElementById("filter-family").value;
  const operation = document.getElementById("filter-operation").value;
  const status = document.getElementById("filter-status").value;
  if (family && entry.family !== family) return false;
  if (operation && entry.operationId !== operation) return false;
  if (status === "problem") return PROBLEMS.has(entry.outcome);
  return !status || String(entry.status)[0] === status;
}

// The whole row opens the request (a click anywhere on it); its path button is the row's
// keyboard stop (Tab reaches one row, the arrow keys the others, Enter opens).
function row(entry) {
  const problem = PROBLEMS.has(entry.outcome);
  const open = () => showDetail(entry.seq);
  const target = entry.path + (entry.query ? `?${entry.query}` : "");
  const tr = h("tr", {class: `${statusClass(entry)}${problem ? " problem" : ""} opens`, "data-seq": entry.seq, onclick: open},
    h("td", {}, entry.time.slice(11, 23)),
    h("td", {}, entry.method),
    h("td", {class: "path"}, h("button", {type: "button", class: "link", tabindex: -1, title: target,
      "aria-label": `${entry.method} ${target}: show the bodies`}, target)),
    h("td", {}, entry.operationId ?? (entry.outcome === "unmatched" ? "(unmatched)" : "—")),
    h("td", {class: "status"}, entry.status, problem ? h("span", {class: "outcome"}, ` ${entry.outcome}`) : null),
    h("td", {class: "num"}, entry.durationMs.toFixed(1)),
    h("td", {}, entry.rule ?? ""));
  const text = problemText(entry);
  if (!text) return [tr];
  return [tr, h("tr", {class: `problem-detail${problem ? "" : " quiet"} opens`, "data-seq": entry.seq, onclick: open},
    h("td", {colspan: 7}, text))];
}

let example = null;  // a list path of this mock, for the empty view's curl line

function emptyRow() {
  const text = entries.length ? "No request matches these filters: set them back to all to see every request."
    : "No requests yet. Point your client at this mock, or send one:";
  const command = !entries.length && example ? curl(`${origin()}${example}`) : null;
  return h("tr", {class: "empty-row"}, h("td", {colspan: 7}, hint(text, command)));
}

function rowButtons() {
  return [...document.querySelectorAll("#traffic-rows tr[data-seq]:not(.problem-detail) button.link")];
}

// Redraws the rows, keeping the keyboard's place: the focused row keeps the focus when it is still shown.
function render() {
  const body = document.getElementById("traffic-rows");
  const focused = document.activeElement?.closest?.("#traffic-rows tr[data-seq]")?.dataset.seq;
  const shown = entries.filter(matches).reverse();
  body.replaceChildren(...(shown.length ? shown.flatMap(row) : [emptyRow()]));
  const buttons = rowButtons();
  const keep = buttons.find((b) => b.closest("tr").dataset.seq === focused);
  (keep ?? buttons[0])?.setAttribute("tabindex", "0");
  if (keep) keep.focus();
}

// Arrow keys, Home and End move between rows; Enter (the button's own) opens; Escape closes the detail.
function onRowKey(event) {
  const buttons = rowButtons();
  const index = buttons.indexOf(document.activeElement);
  if (index < 0) return;
  const to = {ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: buttons.length - 1}[event.key];
  if (to === undefined || to < 0 || to >= buttons.length) return;
  event.preventDefault();
  buttons[index].setAttribute("tabindex", "-1");
  buttons[to].setAttribute("tabindex", "0");
  buttons[to].focus();
}

let openedFrom = null;  // the row button that opened the detail: the focus goes back there on close

function closeDetail() {
  document.getElementById("detail").hidden = true;
  const back = openedFrom && rowButtons().find((b) => b.closest("tr").dataset.seq === openedFrom);
  if (back) back.focus();
}

function addOption(select, value) {
  if (!value || [...select.options].some((o) => o.value === value)) return;
  select.append(h("option", {value}, value));
}

// Why the mock refused a request: the check that said no, its message, the failing fields.
function reasonOf(reason) {
  if (!reason) return [];
  const fields = reason.fields.map((f) => h("li", {}, h("code", {}, f.field), `: ${f.message}`));
  const shown = [h("h3", {}, "Refused by"),
    h("p", {id: "detail-reason"}, h("strong", {}, reason.check), ` (${reason.kind}): ${reason.message}`)];
  return fields.length ? [...shown, h("ul", {id: "detail-fields"}, ...fields)] : shown;
}

async function showDetail(seq) {
  const aside = document.getElementById("detail");
  const {ok, data} = await api(`journal/${seq}`);
  aside.hidden = false;
  if (!ok) { aside.replaceChildren(h("p", {class: "errors"}, data.error)); return; }
  openedFrom = String(seq);
  const close = h("button", {type: "button", onclick: closeDetail}, "Close");
  aside.replaceChildren(
    h("h2", {}, `${data.method} ${data.path}`),
    h("p", {}, `${data.operationId ?? "unmatched"} → ${data.status} (${data.outcome}) in ${data.durationMs} ms`,
      data.rule ? ` · rule ${data.rule}` : ""),
    ...reasonOf(data.reason),
    h("h3", {}, "Request body"), h("pre", {class: "body", id: "detail-request"}, pretty(data.requestBody)),
    h("h3", {}, "Response body"), h("pre", {class: "body", id: "detail-response"}, pretty(data.responseBody)),
    close);
  close.focus();
}

export function startTraffic() {
  for (const id of ["filter-family", "filter-operation", "filter-status"]) {
    document.getElementById(id).addEventListener("change", render);
  }
  document.getElementById("traffic-clear").addEventListener("click", () => { entries.length = 0; render(); });
  document.getElementById("traffic-rows").addEventListener("keydown", onRowKey);
  document.getElementById("detail").addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.preventDefault(); closeDetail(); }
  });
  render();
  examplePaths().then((paths) => { example = paths.list; render(); });
  const badge = document.getElementById("connection");
  const source = new EventSource(eventsUrl());
  let pending = false;
  source.addEventListener("open", () => { badge.textContent = "live"; badge.className = "badge live"; });
  source.addEventListener("error", () => { badge.textContent = "reconnecting…"; badge.className = "badge"; });
  source.addEventListener("request", (event) => {
    const entry = JSON.parse(event.data);
    entries.push(entry);
    if (entries.length > MAX_ROWS) entries.shift();
    addOption(document.getElementById("filter-family"), entry.family);
    addOption(document.getElementById("filter-operation"), entry.operationId);
    for (const listener of listeners) listener(entry);
    if (!pending) {  // a burst of events renders once
      pending = true;
      requestAnimationFrame(() => { pending = false; render(); });
    }
  });
}
