// State: collections with counts; items as JSON to edit, delete or add; reset all.
import {api, h, pretty} from "./api.js";
import {confirmDrop, itemCount} from "./confirm.js";
import {curl, examplePaths, hint, origin} from "./hints.js";

let current = null;  // {family, name}
let lastCollections = [];  // as the collections endpoint last listed them

// Ctrl+Enter (or Cmd+Enter) in an editor runs its Save or Add; Escape folds the item back.
function editorKeys(area, run) {
  area.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); run(); }
    if (event.key === "Escape") {
      const details = area.closest("details");
      details.open = false;
      details.querySelector("summary").focus();
    }
  });
}

function message(text, isError = false) {
  const span = document.getElementById("state-message");
  span.textContent = text;
  span.className = isError ? "errors" : "";
}

// Redraws the collections and the open one; false (with the error shown) when it could not.
export async function loadCollections() {
  const {ok, data} = await api("collections");
  if (!ok) { message(data.error, true); return false; }
  const list = document.getElementById("collections");
  list.replaceChildren(...data.collections.map((c) => {
    const label = `${c.family}.${c.name}`;
    const selected = current && current.family === c.family && current.name === c.name;
    return h("li", {}, h("button", {type: "button", class: selected ? "selected" : null, "data-collection": label,
      title: `${label}: ${c.count} item(s)`,
      onclick: () => openCollection(c.family, c.name)}, h("span", {class: "label"}, label), h("span", {class: "count"}, c.count)));
  }));
  lastCollections = data.collections;
  if (current) await openCollection(current.family, current.name);
  return true;
}

function scopeQuery(scope) {
  return scope.map((s) => `scope=${encodeURIComponent(s)}`).join("&");
}

// What a person would call the item, beside its key.
function title(item) {
  const name = ["name", "title", "label"].map((field) => item[field]).find((value) => typeof value === "string");
  return name ? h("span", {class: "title"}, ` — ${name}`) : null;
}

function itemEditor(entry) {
  const {family, name} = current;
  const path = `collections/${family}/${name}/items/${encodeURIComponent(entry.key)}?${scopeQuery(entry.scope)}`;
  const area = h("textarea", {rows: 8, spellcheck: "false", "aria-label": `item ${entry.key} as JSON`}, pretty(entry.item));
  const errors = h("ul", {class: "errors", role: "alert"});
  const save = async () => {
    errors.replaceChildren();
    let item;
    try { item = JSON.parse(area.value); } catch (error) {
      errors.append(h("li", {}, `not JSON: ${error.message}`)); return;
    }
    const {ok, data} = await api(path, {method: "PUT", json: item});
    if (ok) { if (await loadCollections()) message(`saved ${entry.key}`); return; }
    const problems = data.errors ?? [{path: "", message: data.error}];
    errors.replaceChildren(...problems.map((p) => h("li", {}, p.path ? `${p.path}: ${p.message}` : p.message)));
  };
  const remove = async () => {
    const {ok, data} = await api(path, {method: "DELETE"});
    if (!ok) { message(data.error, true); return; }
    if (await loadCollections()) message(`deleted ${entry.key}`);
  };
  editorKeys(area, save);
  return h("details", {class: "item", "data-key": entry.key},
    h("summary", {}, String(entry.key), title(entry.item), entry.scope.length ? h("small", {}, ` in ${entry.scope.join(" / ")}`) : null),
    area, errors,
    h("div", {class: "toolbar"}, h("button", {type: "button", onclick: save}, "Save"),
      h("button", {type: "button", class: "danger", onclick: remove}, "Delete")));
}

function addForm() {
  const {family, name} = current;
  const area = h("textarea", {rows: 5, spellcheck: "false", "aria-label": "new item as JSON"}, "{\n}");
  const errors = h("ul", {class: "errors", role: "alert"});
  const add = async () => {
    errors.replaceChildren();
    let item;
    try { item = JSON.parse(area.value); } catch (error) {
      errors.append(h("li", {}, `not JSON: ${error.message}`)); return;
    }
    const {ok, data} = await api(`collections/${family}/${name}/items`, {method: "POST", json: item});
    if (ok) { if (await loadCollections()) message(`added ${data.key}`); return; }
    const problems = data.errors ?? [{path: "", message: data.error}];
    errors.replaceChildren(...problems.map((p) => h("li", {}, p.path ? `${p.path}: ${p.message}` : p.message)));
  };
  editorKeys(area, add);
  return h("details", {class: "item add"}, h("summary", {}, "Add an item"), area, errors,
    h("div", {class: "toolbar"}, h("button", {type: "button", onclick: add}, "Add")));
}

export async function openCollection(family, name) {
  current = {family, name};
  for (const button of document.querySelectorAll("#collections button")) {
    button.classList.toggle("selected", button.dataset.collection === `${family}.${name}`);
  }
  const {ok, data} = await api(`collections/${family}/${name}`);
  const box = document.getElementById("items");
  if (!ok) { box.replaceChildren(h("p", {class: "errors"}, data.error)); return; }
  const open = new Set([...box.querySelectorAll("details[open]")].map((d) => d.dataset.key));
  const editors = data.items.map(itemEditor);
  for (const editor of editors) if (open.has(editor.dataset.key)) editor.open = true;
  const empty = editors.length ? null : await emptyItems(family, name);
  box.replaceChildren(h("h2", {}, `${family}.${name} (${data.items.length})`), addForm(), ...editors, ...(empty ? [empty] : []));
}

async function emptyItems(family, name) {
  const coll = lastCollections.find((c) => c.family === family && c.name === name);
  const path = coll?.createPath ?? (await examplePaths()).create;
  const command = path && !path.includes("{") ? curl("-X POST", `${origin()}${path}`,
    "-H 'Content-Type: application/json'", "-d '{...}'") : null;
  return hint(`No items in ${family}.${name}. Add one above (Ctrl+Enter adds), or create one through the API:`, command);
}

// Up and down arrows move between the collections, as in a list.
function onCollectionKey(event) {
  const buttons = [...document.querySelectorAll("#collections button")];
  const index = buttons.indexOf(document.activeElement);
  const to = {ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: buttons.length - 1}[event.key];
  if (index < 0 || to === undefined || to < 0 || to >= buttons.length) return;
  event.preventDefault();
  buttons[to].focus();
}

export function startState() {
  document.getElementById("state-refresh").addEventListener("click", loadCollections);
  document.getElementById("collections").addEventListener("keydown", onCollectionKey);
  document.getElementById("state-reset").addEventListener("click", async () => {
    const choice = await confirmDrop({
      title: "Reset every collection to its fixtures?",
      drops: `The ${itemCount(lastCollections)} item(s) stored now are dropped; the fixtures (the specs', ` +
        "then the active scenario's) are stored again, and the rules' counters restart.",
      keeps: "Kept: the active scenario, the traffic journal, the clock and coverage.",
      choices: [["reset", "Reset all", true]],
    });
    if (choice !== "reset") return;
    const {ok, data} = await api("reset", {method: "POST", json: {}});
    if (!ok) { message(data.error, true); return; }
    if (await loadCollections()) message("reset to the fixtures");
  });
}
