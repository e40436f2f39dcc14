// Calls to the admin API, relative to this page (/__specmock/ui/ -> /__specmock/).
export const BASE = new URL("../", import.meta.url);

export function url(path) {
  return new URL(path, BASE).toString();
}

// {ok, status, data}: data is the parsed JSON body (or text, or null).
export async function api(path, {method = "GET", json, text} = {}) {
  const init = {method, credentials: "same-origin", headers: {}};
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
