// Clock: mock time, freeze, advance; collections with a lifecycle show where each item stands.
import {api, h} from "./api.js";
import {curl, hint, origin} from "./hints.js";

function noItems(coll) {
  const path = coll.createPath && !coll.createPath.includes("{") ? coll.createPath : null;
  const command = path ? curl("-X POST", `${origin()}${path}`, "-H 'Content-Type: application/json'", "-d '{...}'") : null;
  return h("tr", {class: "empty-row"}, h("td", {colspan: 2}, hint("No items yet: create one, then advance the clock.", command)));
}

function show(clock) {
  document.getElementById("clock-now").textContent = clock.now;
  document.getElementById("clock-now").setAttribute("datetime", clock.now);
  document.getElementById("clock-frozen").textContent = clock.frozen ? "(frozen)" : "(running)";
  document.getElementById("clock-badge").textContent = `${clock.now.slice(0, 19).replace("T", " ")}${clock.frozen ? " ❄" : ""}`;
}

export async function loadClock() {
  const {ok, data} = await api("clock");
  if (ok) show(data);
}

export async function loadLifecycles() {
  const {ok, data} = await api("collections");
  if (!ok) return;
  const box = document.getElementById("lifecycles");
  const tables = [];
  for (const coll of data.collections.filter((c) => c.lifecycle)) {
    const items = await api(`collections/${coll.family}/${coll.name}`);
    if (!items.ok) continue;
    tables.push(h("h3", {}, `${coll.family}.${coll.name}`), h("table", {"data-collection": `${coll.family}.${coll.name}`},
      h("thead", {}, h("tr", {}, h("th", {}, coll.keyField), h("th", {}, coll.lifecycle))),
      h("tbody", {}, items.data.items.length ? items.data.items.map((i) => h("tr", {},
        h("td", {}, String(i.key)), h("td", {class: `lifecycle-state state-${i.item[coll.lifecycle]}`}, i.item[coll.lifecycle])))
        : noItems(coll))));
  }
  box.replaceChildren(...(tables.length ? tables :
    [hint("No collection of the loaded specs has a lifecycle: nothing here moves with the clock.")]));
}

async function put(answer) {
  if (answer.ok) show(answer.data);
  await loadLifecycles();
}

export function startClock() {
  document.getElementById("clock-freeze").addEventListener("click", async () => {
    await put(await api("clock", {method: "PUT", json: {frozen: true}}));
  });
  document.getElementById("clock-unfreeze").addEventListener("click", async () => {
    await put(await api("clock", {method: "PUT", json: {frozen: false}}));
  });
  document.getElementById("clock-advance").addEventListener("submit", async (event) => {
    event.preventDefault();
    const seconds = Number(document.getElementById("clock-amount").value) * Number(document.getElementById("clock-unit").value);
    await put(await api("clock/advance", {method: "POST", json: {seconds}}));
  });
  loadClock();
  setInterval(loadClock, 1000);
}
