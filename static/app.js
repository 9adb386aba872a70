// Progressive enhancement only: every page works without this file.
"use strict";

// Add/edit user form: collaborators hold no role, and only seasonal users
// have an access window, so those fields hide when they do not apply.
function userTypeFields() {
  const types = document.querySelectorAll('input[name="user_type"]');
  if (!types.length) return;
  const role = document.querySelector("[data-role-field]");
  const roleSelect = role ? role.querySelector("select") : null;
  const season = document.querySelector("[data-seasonal-field]");
  let lastRole = roleSelect ? roleSelect.value : "";
  const update = () => {
    const checked = document.querySelector('input[name="user_type"]:checked');
    const type = checked ? checked.value : "";
    if (roleSelect) {
      const collaborator = type === "collaborator";
      if (collaborator && roleSelect.value) {
        lastRole = roleSelect.value;
        roleSelect.value = "";
      }
      if (!collaborator && !roleSelect.value && lastRole) roleSelect.value = lastRole;
      role.hidden = collaborator;
    }
    if (season) season.hidden = type !== "seasonal";
  };
  types.forEach((input) => input.addEventListener("change", update));
  update();
}

document.addEventListener("DOMContentLoaded", userTypeFields);

// @mention suggestions in the note composer. Without this script, typing
// "@Full Name" or "@email" works just the same.
function mentionSuggestions() {
  const area = document.querySelector("textarea[data-mentions]");
  if (!area) return;
  let people = null;
  let loading = null;
  const list = document.createElement("ul");
  list.className = "mention-list";
  list.id = "mention-list";
  list.setAttribute("role", "listbox");
  list.hidden = true;
  area.after(list);
  area.setAttribute("aria-controls", "mention-list");
  let active = 0;
  const query = () => {
    const before = area.value.slice(0, area.selectionStart);
    const match = /(^|\s)@([^\s@]{0,30}(?: [^\s@]{0,30})?)$/.exec(before);
    return match ? match[2].toLowerCase() : null;
  };
  const close = () => { list.hidden = true; area.removeAttribute("aria-activedescendant"); };
  const choose = (person) => {
    const start = area.selectionStart;
    const before = area.value.slice(0, start).replace(/@[^@]*$/, "@" + person.name + " ");
    area.value = before + area.value.slice(start);
    area.selectionStart = area.selectionEnd = before.length;
    close();
    area.focus();
  };
  const render = (matches) => {
    list.replaceChildren();
    matches.forEach((person, i) => {
      const item = document.createElement("li");
      item.id = "mention-" + i;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", i === active ? "true" : "false");
      item.textContent = person.email ? person.name + " <" + person.email + ">" : person.name;
      item.addEventListener("mousedown", (e) => { e.preventDefault(); choose(person); });
      list.append(item);
    });
    list.hidden = matches.length === 0;
    if (matches.length) area.setAttribute("aria-activedescendant", "mention-" + active);
  };
  const matches = () => {
    const q = query();
    if (q === null || !people) return [];
    return people.filter((p) => p.name.toLowerCase().includes(q) || p.email.toLowerCase().startsWith(q)).slice(0, 8);
  };
  area.addEventListener("input", async () => {
    if (query() === null) return close();
    if (!people) {
      // One request, however fast the typing.
      loading = loading || fetch(area.dataset.mentions, { credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : []))
        .catch(() => []);
      people = await loading;
    }
    active = 0;
    render(matches());
  });
  area.addEventListener("keydown", (e) => {
    if (list.hidden) return;
    const found = matches();
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      active = (active + (e.key === "ArrowDown" ? 1 : found.length - 1)) % found.length;
      render(found);
    } else if (e.key === "Enter" || e.key === "Tab") {
      if (found[active]) { e.preventDefault(); choose(found[active]); }
    } else if (e.key === "Escape") {
      close();
    }
  });
  area.addEventListener("blur", () => setTimeout(close, 100));
}

document.addEventListener("DOMContentLoaded", mentionSuggestions);

// Knowledge-base links in the reply composer: the search form (which opens
// the knowledge base in a new tab without JavaScript) lists published
// articles here; "Insert" puts a Markdown link at the cursor in the reply.
function knowledgeBaseLinks() {
  const form = document.querySelector("form[data-kb-links]");
  const list = document.getElementById("kb-results");
  const target = form && document.getElementById(form.dataset.kbTarget);
  if (!form || !list || !target) return;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const q = new FormData(form).get("q") || "";
    const response = await fetch(form.dataset.kbLinks + "?q=" + encodeURIComponent(q), { credentials: "same-origin" });
    const articles = response.ok ? await response.json() : [];
    list.replaceChildren();
    if (!articles.length) {
      const none = document.createElement("li");
      none.textContent = list.dataset.noneLabel;
      list.append(none);
    }
    articles.forEach((article) => {
      const item = document.createElement("li");
      const title = document.createElement("span");
      title.textContent = article.title + " ";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button button--quiet";
      button.textContent = list.dataset.insertLabel;
      button.setAttribute("aria-label", list.dataset.insertLabel + ": " + article.title);
      button.addEventListener("click", () => {
        const link = "[" + article.title.replace(/[\[\]]/g, "") + "](" + article.url + ")";
        const at = target.selectionStart ?? target.value.length;
        target.value = target.value.slice(0, at) + link + target.value.slice(target.selectionEnd ?? at);
        target.focus();
        target.selectionStart = target.selectionEnd = at + link.length;
      });
      item.append(title, button);
      list.append(item);
    });
  });
}

document.addEventListener("DOMContentLoaded", knowledgeBaseLinks);
