// Scenario: the active one and its rules (switch each on or off), switch to a bundled one, upload a file.
// Switching (or dropping the scenario) resets the items to the fixtures: it asks first, and offers to keep them.
import {api, h} from "./api.js";
import {confirmDrop, itemCount} from "./confirm.js";
import {curl, hint, origin} from "./hints.js";

let active = null;  // the active scenario's name, or null

function showErrors(text) {
  const pre = document.getElementById("scenario-errors");
  pre.hidden = !text;
  pre.textContent = text ?? "";
}

// The dropdown shows the active scenario; one that is not bundled (an upload) is shown as such.
function selectActive() {
  const select = document.getElementById("scenario-bundled");
  select.querySelector("option[data-uploaded]")?.remove();
  if (!active) return;
  if (![...select.options].some((o) => o.value === active)) {
    select.append(h("option", {value: active, "data-uploaded": "", disabled: true}, `${active} (uploaded)`));
  }
  select.value = active;
}

function noRules() {
  const command = curl("-X PUT", `${origin()}/__specmock/scenario`, "-H 'Content-Type: application/json'",
    `-d '{"use": "${document.getElementById("scenario-bundled").options[0]?.value ?? "default"}"}'`);
  const text = active ? "This scenario has no rules: it seeds fixtures or tokens only." :
    "No scenario is active: pick one above and switch, upload a file, or:";
  return h("tr", {class: "empty-row"}, h("td", {colspan: 5}, hint(text, active ? null : command)));
}

export async function loadScenario() {
  const {ok, data} = await api("scenario");
  if (!ok) { showErrors(data.error); return; }
  active = data.active ?? null;
  document.getElementById("scenario-active").textContent = data.active ?? "none";
  document.getElementById("scenario-description").textContent = data.description ? `— ${data.description}` : "";
  selectActive();
  const rules = data.rules ?? [];
  document.getElementById("rules").replaceChildren(...(rules.length ? rules.map((rule, index) => {
    const box = h("input", {type: "checkbox", checked: rule.enabled, "aria-label": `rule ${rule.name} on`});
    box.addEventListener("change", async () => {
      const answer = await api(`scenario/rules/${index}`, {method: "PUT", json: {enabled: box.checked}});
      if (!answer.ok) { showErrors(answer.data.error); box.checked = !box.checked; }
    });
    return h("tr", {class: rule.enabled ? null : "off"}, h("td", {}, box), h("td", {}, rule.name),
      h("td", {}, rule.chaos ? "chaos" : "response"), h("td", {class: "num"}, rule.matched),
      h("td", {class: "num"}, rule.fired));
  }) : [noRules()]));
}

async function loadBundled() {
  const {ok, data} = await api("scenarios");
  if (!ok) return;
  document.getElementById("scenario-bundled").replaceChildren(
    ...data.scenarios.map((s) => h("option", {value: s.name, title: s.description}, s.name)));
  selectActive();
}

async function apply(answer) {
  showErrors(answer.ok ? null : answer.data.error);
  await loadScenario();
}

// "reset", "keep" or null: what the person chose for the items a change of scenario would drop.
async function askAboutItems(title) {
  const {ok, data} = await api("collections");
  const count = ok ? itemCount(data.collections) : 0;
  return confirmDrop({
    title,
    drops: `The items go back to the fixtures: the ${count} item(s) stored now are dropped.`,
    keeps: "Kept either way: the traffic journal, the clock and coverage. " +
      "Keep the items instead, and the new scenario's fixtures are not added.",
    choices: [["reset", "Switch and reset the items", true], ["keep", "Switch, keep the items"]],
  });
}

export function startScenario() {
  loadBundled();
  document.getElementById("scenario-switch").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = document.getElementById("scenario-bundled").value;
    const choice = await askAboutItems(`Switch to the scenario ${name}?`);
    if (!choice) { selectActive(); return; }
    await apply(await api(`scenario?reset=${choice === "reset"}`, {method: "PUT", json: {use: [name]}}));
  });
  document.getElementById("scenario-clear").addEventListener("click", async () => {
    const choice = await askAboutItems("Switch to no scenario (the specs alone)?");
    if (!choice) return;
    await apply(await api(`scenario?reset=${choice === "reset"}`, {method: "DELETE"}));
  });
  document.getElementById("scenario-upload").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = document.getElementById("scenario-file").files[0];
    if (!file) { showErrors("choose a file first"); return; }
    const choice = await askAboutItems(`Switch to the scenario in ${file.name}?`);
    if (!choice) return;
    const name = encodeURIComponent(file.name);
    await apply(await api(`scenario?name=${name}&reset=${choice === "reset"}`, {method: "PUT", text: await file.text()}));
  });
}
