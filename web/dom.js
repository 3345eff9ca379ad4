// Building the page: elements from data (text is always text, never markup), the notice
// that shows a failure, and the confirmation dialog.

import { signInUrl } from "./api.js";

/** `h("a", {href: "/"}, "Home")`: attributes starting with "on" are listeners. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Replace the main area with `children`, and move the focus there for screen readers. */
export function show(title, ...children) {
  const main = document.getElementById("main");
  main.replaceChildren(...children);
  document.title = title ? `${title} · CodeFlow` : "CodeFlow";
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

let countdown;

/** Show a failure: the problem's title and detail, and what to do next. */
export function showProblem(problem) {
  const notice = document.getElementById("notice");
  clearInterval(countdown);
  const parts = [h("strong", { class: "title" }, problem.title)];
  if (problem.detail) parts.push(" ", h("span", { class: "detail" }, problem.detail));
  if (problem.needsSignIn) {
    parts.push(" ", h("a", { class: "button small", href: signInUrl(currentPath()) }, "Sign in again"));
  }
  if (problem.retryAfter) {
    const wait = h("span", { class: "retry" });
    let left = problem.retryAfter;
    const tick = () => {
      wait.textContent = left > 0 ? `Try again in ${left} s.` : "You can try again now.";
      left -= 1;
      if (left < 0) clearInterval(countdown);
    };
    tick();
    countdown = setInterval(tick, 1000);
    parts.push(" ", wait);
  }
  parts.push(h("button", { class: "close", type: "button", "aria-label": "Dismiss", onclick: clearProblem }, "×"));
  notice.replaceChildren(...parts);
  notice.hidden = false;
}

export function clearProblem() {
  const notice = document.getElementById("notice");
  clearInterval(countdown);
  notice.hidden = true;
  notice.replaceChildren();
}

/** Where the page is, to come back to after signing in again. */
function currentPath() {
  return `/${window.location.hash || ""}`;
}

/** Ask before something that can't be undone; resolves true when confirmed. */
export function confirmAction({ title, body, action }) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-body").replaceChildren(...[body].flat());
  document.getElementById("confirm-action").textContent = action;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.showModal();
  });
}

/** "3 days ago", for an ISO 8601 time; the exact time is the element's title. */
export function timeAgo(iso) {
  if (!iso) return h("span", { class: "muted" }, "not known");
  const then = new Date(iso);
  const seconds = Math.round((Date.now() - then.getTime()) / 1000);
  const units = [
    ["year", 31536000],
    ["month", 2592000],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];
  let text = "just now";
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) {
      const count = Math.round(seconds / size);
      text = new Intl.RelativeTimeFormat("en", { numeric: "auto" }).format(-count, unit);
      break;
    }
  }
  return h("time", { datetime: iso, title: then.toLocaleString() }, text);
}
