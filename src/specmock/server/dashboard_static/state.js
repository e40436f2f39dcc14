// State: collections with counts; items as JSON to edit, delete or add; reset all.
import {api, h, pretty} from "./api.js";

let current = null;  // {family, name}

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
      onclick: () => openCollection(c.family, c.name)}, label, h("span", {class: "count"}, c.count)));
  }));
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
  box.replaceChildren(h("h2", {}, `${family}.${name} (${data.items.length})`), addForm(), ...editors);
}

export function startState() {
  document.getElementById("state-refresh").addEventListener("click", loadCollections);
  document.getElementById("state-reset").addEventListener("click", async () => {
    const {ok, data} = await api("reset", {method: "POST", json: {}});
    if (!ok) { message(data.error, true); return; }
    if (await loadCollections()) message("reset to the fixtures");
  });
}
