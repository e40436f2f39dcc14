// Drift (`specmock proxy`): how the provider's answers differ from the spec, one row per distinct
// finding, refreshed while shown. Under `specmock serve` there is no provider: the view says so.
import {api, h} from "./api.js";

export async function loadDrift() {
  const {ok, status, data} = await api("drift");
  const box = document.getElementById("drift-table");
  const summary = document.getElementById("drift-summary");
  if (status === 404) {
    summary.textContent = "";
    box.replaceChildren(h("p", {}, "Drift is reported by specmock proxy --upstream URL: this server is the mock itself."));
    return;
  }
  if (!ok) { box.replaceChildren(h("p", {class: "errors"}, data && data.error)); return; }
  const findings = data.findings;
  summary.textContent = findings.length ? `${findings.length} difference(s) from the spec` : "no difference from the spec so far";
  box.replaceChildren(h("table", {class: "drift", "aria-label": "Differences from the spec"},
    h("thead", {}, h("tr", {}, ["operation", "method", "path", "status", "kind", "pointer", "detail", "seen"]
      .map((name) => h("th", {class: name === "seen" ? "num" : null}, name)))),
    h("tbody", {}, findings.map((f) => h("tr", {"data-kind": f.kind},
      h("td", {}, f.operationId || "(none)"), h("td", {}, f.method), h("td", {}, f.path), h("td", {}, f.status ?? ""),
      h("td", {}, f.kind), h("td", {}, h("code", {}, f.pointer)), h("td", {}, f.detail), h("td", {class: "num"}, f.count))))));
}

export function startDrift() {
  document.getElementById("drift-clear").addEventListener("click", async () => {
    await api("drift", {method: "DELETE"});
    await loadDrift();
  });
}
