// Contract coverage: per operation, each documented status exercised (✓) or never (✗).
import {api, h} from "./api.js";
import {confirmDrop} from "./confirm.js";
import {curl, examplePaths, hint, origin} from "./hints.js";

export async function loadCoverage() {
  const {ok, data} = await api("coverage");
  const box = document.getElementById("coverage-tables");
  if (!ok) { box.replaceChildren(h("p", {class: "errors"}, data.error)); return; }
  const gapsOnly = document.getElementById("coverage-gaps").checked;
  const called = Object.values(data).some((report) => report.summary.called);
  const example = called ? null : (await examplePaths()).list;
  const none = called ? null : hint("No operation has been called yet: every status below is a gap. Send a request:",
    example ? curl(`${origin()}${example}`) : null);
  box.replaceChildren(...(none ? [none] : []), ...Object.entries(data).flatMap(([family, report]) => {
    const s = report.summary;
    const operations = Object.entries(report.operations).filter(([, op]) => !gapsOnly || op.missing.length);
    return [
      h("h2", {}, `${family}: ${s.called}/${s.operations} operations called, ${s.exercised}/${s.statuses} statuses exercised`),
      h("table", {class: "coverage", "data-family": family},
        h("thead", {}, h("tr", {}, h("th", {}, "operation"), h("th", {}, "statuses"))),
        h("tbody", {}, operations.map(([id, op]) => h("tr", {class: op.called ? null : "never", "data-operation": id},
          h("td", {}, id),
          h("td", {}, op.documented.map((code) => {
            const hit = op.exercised.includes(code);
            return h("span", {class: `cell ${hit ? "hit" : "gap"}`, title: hit ? "exercised" : "never exercised"},
              `${code} ${hit ? "✓" : "✗"}`);
          }), op.undocumented.map((code) => h("span", {class: "cell undocumented", title: "not in the spec"}, `${code} !`)))))))];
  }));
}

export function startCoverage() {
  document.getElementById("coverage-refresh").addEventListener("click", loadCoverage);
  document.getElementById("coverage-gaps").addEventListener("change", loadCoverage);
  document.getElementById("coverage-clear").addEventListener("click", async () => {
    const choice = await confirmDrop({
      title: "Start coverage over?",
      drops: "The operations and statuses seen so far are forgotten: every status counts as a gap again.",
      keeps: "Kept: the items, the traffic journal, the active scenario and the clock.",
      choices: [["clear", "Start over", true]],
    });
    if (choice !== "clear") return;
    await api("coverage", {method: "DELETE"});
    await loadCoverage();
  });
}
