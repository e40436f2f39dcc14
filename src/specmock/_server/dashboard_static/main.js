// The dashboard: tabs, and each view started once. Views load their data when shown.
import {record, renderCharts} from "./charts.js";
import {loadClock, loadLifecycles, startClock} from "./clock.js";
import {loadCoverage, startCoverage} from "./coverage.js";
import {loadDrift, startDrift} from "./drift.js";
import {loadScenario, startScenario} from "./scenario.js";
import {loadCollections, startState} from "./state.js";
import {onEntry, startTraffic} from "./traffic.js";

const onShow = {
  traffic: () => {},
  state: loadCollections,
  scenario: loadScenario,
  clock: () => Promise.all([loadClock(), loadLifecycles()]),
  charts: renderCharts,
  coverage: loadCoverage,
  drift: loadDrift,
};
let shown = "traffic";

function select(name) {
  shown = name;
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const on = tab.getAttribute("aria-controls") === name;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    document.getElementById(tab.getAttribute("aria-controls")).hidden = !on;
  }
  onShow[name]();
  if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
}

const tabs = [...document.querySelectorAll("[role=tab]")];
tabs.forEach((tab, index) => {
  tab.addEventListener("click", () => select(tab.getAttribute("aria-controls")));
  tab.addEventListener("keydown", (event) => {  // arrow keys move between tabs, as a tablist should
    const step = {ArrowRight: 1, ArrowLeft: -1}[event.key];
    if (!step) return;
    const next = tabs[(index + step + tabs.length) % tabs.length];
    next.focus();
    select(next.getAttribute("aria-controls"));
  });
});

startTraffic();
startState();
startScenario();
startClock();
startCoverage();
startDrift();
onEntry(record);
setInterval(() => { if (shown === "charts") renderCharts(); }, 1000);
setInterval(() => { if (shown === "drift") loadDrift(); }, 2000);
select(location.hash.slice(1) in onShow ? location.hash.slice(1) : "traffic");
document.body.dataset.ready = "1";
