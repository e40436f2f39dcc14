// Calls to the admin API, relative to this page (/__specmock/ui/ -> /__specmock/).
export const BASE = new URL("../", import.meta.url);

export function url(path) {
  return new URL(path, BASE).toString();
}

// The admin token, kept in this tab's sessionStorage: per origin (scheme, host and port), where a
// cookie would be sent to every port of the host. /__specmock/ui?token=T hands it over in the
// address's fragment (never sent to a server); it is dropped from the address bar at once.
const TOKEN_KEY = "specmock-admin-token";
const handed = new URLSearchParams(location.hash.slice(1)).get("token");
if (handed !== null) {
  sessionStorage.setItem(TOKEN_KEY, handed);
  history.replaceState(null, "", location.pathname + location.search);
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

// The live event stream's address: an EventSource cannot send a header, so the token rides along.
export function eventsUrl() {
  const address = new URL("events", BASE);
  const given = token();
  if (given !== null) address.searchParams.set("token", given);
  return address.toString();
}

// {ok, status, data}: data is the parsed JSON body (or text, or null).
export async function api(path, {method = "GET", json, text} = {}) {
  const init = {method, credentials: "omit", headers: {}};
  const given = token();
  if (given !== null) init.headers["Authorization"] = `Bearer ${given}`;
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (text !== undefined) {
    init.headers["Content-Type"] = "application/yaml";
    init.body = text;
  }
  const response = await fetch(url(path), init);
  const raw = await response.text();
  let data = null;
  try { data = raw ? JSON.parse(raw) : null; } catch { data = raw; }
  return {ok: response.ok, status: response.status, data};
}

// A small element builder: h("td", {class: "x"}, "text", child).
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export const pretty = (value) => JSON.stringify(value, null, 2);
