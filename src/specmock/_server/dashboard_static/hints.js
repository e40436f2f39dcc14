// What to do next when a view is empty: a curl line against this very mock, from its own paths.
import {api, h} from "./api.js";

let examples = null;

// The first collection a plain GET lists (no path parameter), and the first one can be created in.
export async function examplePaths() {
  if (examples) return examples;
  const {ok, data} = await api("collections");
  const all = ok ? data.collections : [];
  const plain = (path) => path && !path.includes("{");
  examples = {
    list: all.find((c) => plain(c.listPath))?.listPath ?? null,
    create: all.find((c) => plain(c.createPath))?.createPath ?? null,
  };
  return examples;
}

export function curl(...words) {
  return h("code", {class: "curl"}, ["curl", ...words].join(" "));
}

// A hint paragraph: the sentence, then (when there is one) the command to paste.
export function hint(text, command = null) {
  return h("p", {class: "empty"}, text, command ? [h("br"), command] : null);
}

export function origin() {
  return window.location.origin;
}
