// "Add repositories": the person's repositories on GitHub, searchable, a page at a time;
// the ones picked (on any page) are monitored together.

import { call } from "./api.js";
import { clearProblem, h, show, showProblem } from "./dom.js";

const PER_PAGE = 30;

function choice(repository, picked, onChange) {
  const id = `pick-${repository.github_id}`;
  const box = h("input", {
    type: "checkbox",
    id,
    value: repository.github_id,
    checked: repository.monitored || picked.has(repository.github_id),
    disabled: repository.monitored,
    onchange: (event) => onChange(repository, event.currentTarget.checked),
  });
  return h(
    "li",
    { class: repository.monitored ? "choice monitored" : "choice" },
    box,
    h(
      "label",
      { for: id },
      h("span", { class: "name" }, repository.full_name),
      repository.visibility ? h("span", { class: `badge ${repository.visibility}` }, repository.visibility) : null,
      repository.monitored ? h("span", { class: "badge monitored" }, "monitored") : null,
      h("span", { class: "description" }, repository.description || ""),
    ),
  );
}

export async function availableScreen() {
  const picked = new Map();
  let page = 1;
  let query = "";
  const list = h("ul", { class: "choices", "aria-label": "Your GitHub repositories" });
  const position = h("p", { class: "pager-position", role: "status" });
  const previous = h("button", { type: "button", class: "secondary", "aria-label": "Previous page" }, "‹ Previous");
  const next = h("button", { type: "button", class: "secondary", "aria-label": "Next page" }, "Next ›");
  const add = h("button", { type: "button", disabled: true }, "Add selected");
  const search = h("input", { type: "search", id: "search", name: "q", autocomplete: "off" });

  function updateAdd() {
    add.disabled = picked.size === 0;
    add.textContent = picked.size ? `Add ${picked.size} selected` : "Add selected";
  }

  function onChange(repository, checked) {
    if (checked) picked.set(repository.github_id, repository.full_name);
    else picked.delete(repository.github_id);
    updateAdd();
  }

  async function load(wanted) {
    const params = new URLSearchParams({ page: String(wanted), per_page: String(PER_PAGE) });
    if (query) params.set("q", query);
    const { body } = await call("GET", `/api/repositories/available?${params}`);
    page = body.page || wanted;
    list.replaceChildren(...body.items.map((repository) => choice(repository, picked, onChange)));
    if (!body.items.length) {
      list.append(h("li", { class: "muted" }, query ? `No repository matches “${query}”.` : "GitHub shows you no repositories."));
    }
    previous.disabled = page <= 1;
    next.disabled = !body.next_page;
    const last = body.last_page || (body.next_page ? null : page);
    position.textContent = last ? `Page ${page} of ${last}` : `Page ${page}`;
  }

  async function go(wanted) {
    try {
      await load(wanted);
      clearProblem();
    } catch (problem) {
      showProblem(problem);
    }
  }

  previous.addEventListener("click", () => go(page - 1));
  next.addEventListener("click", () => go(page + 1));
  add.addEventListener("click", async () => {
    add.disabled = true;
    let added = 0;
    try {
      for (const [githubId, fullName] of picked) {
        add.textContent = `Adding ${fullName}…`;
        await call("POST", "/api/repositories", { body: { github_id: githubId } });
        picked.delete(githubId);
        added += 1;
      }
      clearProblem();
      window.location.hash = "#/";
    } catch (problem) {
      showProblem(problem);
      if (added) await go(page);
      updateAdd();
    }
  });

  await load(1);
  show(
    "Add repositories",
    h("div", { class: "heading" },
      h("h1", {}, "Add repositories"),
      h("a", { class: "button secondary", href: "#/" }, "Back to the dashboard")),
    h(
      "form",
      {
        class: "search",
        role: "search",
        onsubmit: (event) => {
          event.preventDefault();
          query = search.value.trim();
          go(1);
        },
      },
      h("label", { for: "search" }, "Search your repositories by name"),
      h("div", { class: "row" }, search, h("button", { type: "submit", class: "secondary" }, "Search")),
    ),
    list,
    h("div", { class: "pager" }, previous, position, next),
    h("div", { class: "sticky-actions" }, add),
  );
  updateAdd();
}
