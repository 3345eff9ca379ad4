// The account: signing out (here or everywhere), and erasing it with the erasure's progress.

import { authWrite, call, Problem } from "./api.js";
import { h, show, showProblem } from "./dom.js";

const POLL_MILLISECONDS = 1000;
const POLL_FOR_MILLISECONDS = 10 * 60 * 1000;
const SERVICE_NAMES = {
  auth: "Your account and sessions",
  profiles: "Your profile",
  repositories: "Your monitored repositories",
};

export async function signOut({ everywhere = false } = {}) {
  try {
    await authWrite("POST", everywhere ? "/auth/signout/everywhere" : "/auth/signout");
    window.location.hash = "";
    window.location.reload();
  } catch (problem) {
    showProblem(problem);
  }
}

export function deleteAccountScreen(user) {
  const understood = h("input", { type: "checkbox", id: "understood" });
  const erase = h("button", { type: "submit", class: "danger", disabled: true }, "Delete my account");
  understood.addEventListener("change", () => {
    erase.disabled = !understood.checked;
  });
  const form = h(
    "form",
    {
      class: "danger-zone",
      onsubmit: async (event) => {
        event.preventDefault();
        erase.disabled = true;
        try {
          const { body } = await authWrite("DELETE", "/auth/me");
          if (body && body.deletionId) window.location.hash = `#/deletion/${body.deletionId}`;
          else show("Account deleted", h("h1", {}, "Your account is being deleted"),
            h("p", {}, "You are signed out everywhere. Everything is erased within moments."));
        } catch (problem) {
          erase.disabled = false;
          showProblem(problem);
        }
      },
    },
    h("p", { class: "option" }, understood, " ",
      h("label", { for: "understood" }, "I understand this can't be undone.")),
    h("div", { class: "actions" }, h("a", { class: "button secondary", href: "#/" }, "Cancel"), erase),
  );
  show(
    "Delete your account",
    h("h1", {}, "Delete your account"),
    h("p", {}, `Deleting the account of ${user.name || user.email || "this person"} erases, from every part of CodeFlow:`),
    h("ul", { class: "erased" },
      h("li", {}, "your account, and every session on every device (you are signed out at once);"),
      h("li", {}, "your profile (GitHub login, name, email address and avatar);"),
      h("li", {}, "every repository you monitor, and the list of them;"),
      h("li", {}, "CodeFlow's access to your GitHub account.")),
    h("p", {}, "Nothing on GitHub itself changes: your repositories stay as they are."),
    form,
  );
}

/** The erasure's progress, asked every second until it is complete. It needs no session. */
export async function deletionScreen(deletionId) {
  const state = h("p", { class: "status", role: "status" }, "Waiting for the erasure to start…");
  const steps = h("ul", { class: "steps" });
  show("Deleting your account", h("h1", {}, "Deleting your account"), state, steps);
  const path = `/api/janitor/deletions/${encodeURIComponent(deletionId)}/progress`;
  const deadline = Date.now() + POLL_FOR_MILLISECONDS;
  for (;;) {
    if (!document.body.contains(state)) return; // the person went elsewhere
    if (Date.now() > deadline) {
      state.textContent = "The erasure is taking longer than usual. Reload this page to see how far it is.";
      return;
    }
    try {
      const { body } = await call("GET", path);
      steps.replaceChildren(
        ...body.services.map((service) =>
          h("li", { class: service.done ? "done" : "pending" },
            h("span", { class: "mark", "aria-hidden": "true" }, service.done ? "✓" : "…"),
            ` ${SERVICE_NAMES[service.service] || service.service}: `,
            service.done ? "erased" : "being erased")),
      );
      if (body.status === "complete") {
        state.textContent = "Your account is deleted. Everything CodeFlow held about you is erased.";
        state.classList.add("complete");
        return;
      }
      if (body.status === "cancelled") {
        state.textContent = "The erasure was cancelled.";
        return;
      }
      state.textContent = "Erasing…";
    } catch (problem) {
      // Not recorded yet (404): the erasure has not reached the janitor. Keep asking.
      if (!(problem instanceof Problem) || problem.status !== 404) showProblem(problem);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MILLISECONDS));
  }
}
