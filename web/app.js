// CodeFlow's web dashboard: which screen the address names, for whoever is signed in.
//
//   (signed out)        a "Sign in with GitHub" button
//   #/                  the dashboard
//   #/add               "Add repositories"
//   #/account/delete    deleting the account, after a confirmation
//   #/deletion/<id>     the erasure's progress (needs no session: there is none left)

import { call, session, signInUrl } from "./api.js";
import { deleteAccountScreen, deletionScreen, signOut } from "./account.js";
import { availableScreen } from "./available.js";
import { dashboardScreen } from "./dashboard.js";
import { clearProblem, h, show, showProblem } from "./dom.js";

function signedOutScreen() {
  document.getElementById("account").replaceChildren();
  show(
    "",
    h("section", { class: "welcome" },
      h("h1", {}, "Your GitHub repositories at a glance"),
      h("p", {}, "Choose the repositories you care about and see them in one place: what they are called now, when they were last pushed to, and when they are gone."),
      h("a", { class: "button large", href: signInUrl("/") }, "Sign in with GitHub")),
  );
}

async function accountMenu(user) {
  let login = "";
  try {
    login = (await call("GET", "/api/profiles/me")).body.username || "";
  } catch {
    login = ""; // the profile is made moments after the first sign-in; the name will do
  }
  const who = user.name || login || user.email || "Signed in";
  document.getElementById("account").replaceChildren(
    h("span", { class: "who", title: login ? `@${login}` : "" }, who),
    h("button", { type: "button", class: "link", onclick: () => signOut() }, "Sign out"),
    h("button", { type: "button", class: "link", onclick: () => signOut({ everywhere: true }) }, "Sign out everywhere"),
    h("a", { class: "link danger-text", href: "#/account/delete" }, "Delete account"),
  );
}

let signedIn = null;

async function route() {
  const path = window.location.hash.replace(/^#/, "") || "/";
  const deletion = path.match(/^\/deletion\/([A-Za-z0-9-]{1,64})$/);
  try {
    if (deletion) {
      document.getElementById("account").replaceChildren();
      await deletionScreen(deletion[1]);
      return;
    }
    if (signedIn === null) {
      const current = await session();
      if (!current) {
        signedOutScreen();
        return;
      }
      signedIn = current.user;
      await accountMenu(signedIn);
    }
    if (path === "/add") await availableScreen();
    else if (path === "/account/delete") deleteAccountScreen(signedIn);
    else await dashboardScreen();
  } catch (problem) {
    if (problem.status === 401 && problem.kind === "not-signed-in") {
      signedIn = null;
      signedOutScreen();
    } else {
      show("Not shown", h("h1", {}, "This page could not be shown"),
        h("button", { type: "button", onclick: route }, "Try again"));
    }
    showProblem(problem);
  }
}

window.addEventListener("hashchange", () => {
  clearProblem();
  route();
});
route();
