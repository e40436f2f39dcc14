// Scenario: the active one and its rules (switch each on or off), switch to a bundled one, upload a file.
import {api, h} from "./api.js";

function showErrors(text) {
  const pre = document.getElementById("scenario-errors");
  pre.hidden = !text;
  pre.textContent = text ?? "";
}

export async function loadScenario() {
  const {ok, data} = await api("scenario");
  if (!ok) { showErrors(data.error); return; }
  document.getElementById("scenario-active").textContent = data.active ?? "none";
  document.getElementById("scenario-description").textContent = data.description ? `— ${data.description}` : "";
  const rules = data.rules ?? [];
  document.getElementById("rules").replaceChildren(...rules.map((rule, index) => {
    const box = h("input", {type: "checkbox", checked: rule.enabled, "aria-label": `rule ${rule.name} on`});
    box.addEventListener("change", async () => {
      const answer = await api(`scenario/rules/${index}`, {method: "PUT", json: {enabled: box.checked}});
      if (!answer.ok) { showErrors(answer.data.error); box.checked = !box.checked; }
    });
    return h("tr", {class: rule.enabled ? null : "off"}, h("td", {}, box), h("td", {}, rule.name),
      h("td", {}, rule.chaos ? "chaos" : "response"), h("td", {class: "num"}, rule.matched),
      h("td", {class: "num"}, rule.fired));
  }));
}

async function loadBundled() {
  const {ok, data} = await api("scenarios");
  if (!ok) return;
  document.getElementById("scenario-bundled").replaceChildren(
    ...data.scenarios.map((s) => h("option", {value: s.name, title: s.description}, s.name)));
}

async function apply(answer) {
  showErrors(answer.ok ? null : answer.data.error);
  await loadScenario();
}

export function startScenario() {
  loadBundled();
  document.getElementById("scenario-switch").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = document.getElementById("scenario-bundled").value;
    await apply(await api("scenario", {method: "PUT", json: {use: [name]}}));
  });
  document.getElementById("scenario-clear").addEventListener("click", async () => {
    await apply(await api("scenario", {method: "DELETE"}));
  });
  document.getElementById("scenario-upload").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = document.getElementById("scenario-file").files[0];
    if (!file) { showErrors("choose a file first"); return; }
    const name = encodeURIComponent(file.name);
    await apply(await api(`scenario?name=${name}`, {method: "PUT", text: await file.text()}));
  });
}
