// The dashboard: the repositories the person monitors, as GitHub last described them.

import { call } from "./api.js";
import { clearProblem, confirmAction, h, show, showProblem, timeAgo } from "./dom.js";

const PAGE_SIZE = 50;

function githubUrl(repository) {
  return repository.html_url || `https://github.com/${repository.full_name}`;
}

function detail(label, value) {
  return [h("dt", {}, label), h("dd", {}, value)];
}

function repositoryCard(repository, { onStop }) {
  const gone = repository.github_state === "unavailable";
  const badges = [];
  if (repository.visibility) badges.push(h("span", { class: `badge ${repository.visibility}` }, repository.visibility));
  if (!repository.is_active) badges.push(h("span", { class: "badge stopped" }, "not monitored"));
  const facts = [];
  if (repository.default_branch) facts.push(...detail("Default branch", h("code", {}, repository.default_branch)));
  if ("pushed_at" in repository) facts.push(...detail("Last push", timeAgo(repository.pushed_at)));
  if (typeof repository.stargazers_count === "number") {
    facts.push(...detail("Stars", repository.stargazers_count.toLocaleString("en")));
  }
  if (repository.refreshed_at) facts.push(...detail("Checked with GitHub", timeAgo(repository.refreshed_at)));
  return h(
    "li",
    { class: gone ? "repo unavailable" : "repo", "data-github-id": repository.github_id },
    h(
      "div",
      { class: "repo-head" },
      h("h3", {}, h("a", { href: githubUrl(repository), rel: "noopener noreferrer" }, repository.full_name)),
      ...badges,
    ),
    gone
      ? h("p", { class: "gone", role: "note" }, "No longer on GitHub or not visible to you.")
      : null,
    h("p", { class: repository.description ? "description" : "description muted" },
      repository.description || "No description."),
    facts.length ? h("dl", { class: "facts" }, ...facts) : null,
    repository.is_active
      ? h(
          "button",
          {
            type: "button",
            class: "secondary",
            "aria-label": `Stop monitoring ${repository.full_name}`,
            onclick: () => onStop(repository),
          },
          "Stop monitoring",
        )
      : null,
  );
}

/** The dashboard screen; `message` is said once at the top (after a change). */
export async function dashboardScreen({ message } = {}) {
  const includeInactive = sessionStorage.getItem("includeInactive") === "1";
  const list = h("ul", { class: "repos", "aria-label": "Monitored repositories" });
  const content = h("div", {}, list);
  const status = h("p", { class: "status", role: "status" }, message || "");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show more");
  let cursor = null;

  async function stop(repository) {
    const confirmed = await confirmAction({
      title: `Stop monitoring ${repository.full_name}?`,
      body: h("p", {}, "It leaves your dashboard. Nothing changes on GitHub; you can add it again at any time."),
      action: "Stop monitoring",
    });
    if (!confirmed) return;
    try {
      await call("DELETE", `/api/repositories/${encodeURIComponent(repository.id)}`);
      clearProblem();
      await dashboardScreen({ message: `Stopped monitoring ${repository.full_name}.` });
    } catch (problem) {
      showProblem(problem);
    }
  }

  async function loadPage() {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (includeInactive) query.set("include_inactive", "true");
    if (cursor) query.set("cursor", cursor);
    const { body } = await call("GET", `/api/repositories?${query}`);
    list.append(...body.items.map((repository) => repositoryCard(repository, { onStop: stop })));
    cursor = body.next_cursor;
    more.hidden = !cursor;
    if (!list.children.length) {
      content.replaceChildren(
        h("div", { class: "empty" },
          h("p", {}, "You monitor no repositories yet."),
          h("a", { class: "button", href: "#/add" }, "Add repositories")),
      );
    }
  }

  async function refresh(event) {
    const button = event.currentTarget;
    button.disabled = true;
    status.textContent = "Asking GitHub…";
    try {
      const { body } = await call("POST", "/api/repositories/refresh");
      clearProblem();
      await dashboardScreen({
        message: `Refreshed from GitHub: ${body.refreshed} updated, ${body.unchanged} unchanged, ${body.unavailable} unavailable.`,
      });
    } catch (problem) {
      status.textContent = "";
      button.disabled = false;
      showProblem(problem);
    }
  }

  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      await loadPage();
    } catch (problem) {
      showProblem(problem);
    } finally {
      more.disabled = false;
    }
  });

  const toggle = h("input", {
    type: "checkbox",
    id: "include-inactive",
    checked: includeInactive,
    onchange: (event) => {
      sessionStorage.setItem("includeInactive", event.currentTarget.checked ? "1" : "0");
      dashboardScreen();
    },
  });
  await loadPage();
  show(
    "Dashboard",
    h("div", { class: "heading" },
      h("h1", {}, "Your repositories"),
      h("div", { class: "toolbar" },
        h("a", { class: "button", href: "#/add" }, "Add repositories"),
        h("button", { type: "button", class: "secondary", onclick: refresh }, "Refresh from GitHub"))),
    h("p", { class: "option" }, toggle, " ", h("label", { for: "include-inactive" }, "Show repositories no longer monitored")),
    status,
    content,
    more,
  );
}
