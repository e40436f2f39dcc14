// Asking before an action that drops data: a modal dialog that says what goes and what is kept.
// Resolves to the chosen action's value, or null (Cancel, Escape). Cancel has the focus, so an
// Enter pressed by habit drops nothing.
import {h} from "./api.js";

export function confirmDrop({title, drops, keeps, choices}) {
  const dialog = document.getElementById("confirm");
  const cancel = h("button", {value: "", autofocus: true}, "Cancel");
  dialog.replaceChildren(h("form", {method: "dialog"},
    h("h2", {id: "confirm-title"}, title),
    h("p", {id: "confirm-drops"}, drops),
    h("p", {id: "confirm-keeps"}, keeps),
    h("div", {class: "toolbar"}, ...choices.map(([value, label, danger]) =>
      h("button", {value, class: danger ? "danger" : null}, label)), cancel)));
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue || null), {once: true});
    dialog.showModal();
    cancel.focus();
  });
}

// How many items the mock holds now, for the dialog's words.
export function itemCount(collections) {
  return collections.reduce((sum, c) => sum + c.count, 0);
}
