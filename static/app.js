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
  list.setAttribute("aria-label", area.dataset.mentionsLabel || "");
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
  // "@someone@example.com" who is nobody here: those who may invite are
  // offered to (in a new tab, so the note being written stays).
  const invite = () => {
    if (!area.dataset.invite) return null;
    const before = area.value.slice(0, area.selectionStart);
    const match = /(^|\s)@([^\s@]+@[^\s@]+\.[^\s@]{2,})$/.exec(before);
    if (!match) return null;
    const email = match[2];
    const known = (people || []).some((p) => p.email && p.email.toLowerCase() === email.toLowerCase());
    return known ? null : email;
  };
  const openInvite = (email) => {
    window.open(area.dataset.invite + "?invite=" + encodeURIComponent(email) + "#invite", "_blank", "noopener");
    close();
  };
  const offerInvite = (email) => {
    list.replaceChildren();
    const item = document.createElement("li");
    item.id = "mention-0";
    item.setAttribute("role", "option");
    item.setAttribute("aria-selected", "true");
    item.textContent = area.dataset.inviteLabel.replace("{email}", email);
    item.addEventListener("mousedown", (e) => { e.preventDefault(); openInvite(email); });
    list.append(item);
    list.hidden = false;
    area.setAttribute("aria-activedescendant", "mention-0");
  };
  area.addEventListener("input", async () => {
    const email = invite();
    if (email) {
      if (!people) {
        loading = loading || fetch(area.dataset.mentions, { credentials: "same-origin" })
          .then((response) => (response.ok ? response.json() : []))
          .catch(() => []);
        people = await loading;
      }
      if (invite()) return offerInvite(email);
    }
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
    const email = invite();
    if (email) {
      if (e.key === "Enter") {
        e.preventDefault();
        openInvite(email);
      } else if (e.key === "Escape") {
        close();
      }
      return;
    }
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

// Keyboard shortcuts (listed by "?", and in README): never while typing in
// a field, nor with Ctrl, Alt or Cmd held. In a composer, Ctrl+Enter (or
// Cmd+Enter) sends it.
function keyboardShortcuts() {
  const help = document.getElementById("shortcuts");
  if (!help) return;
  const opener = document.getElementById("shortcuts-open");
  if (opener) {
    opener.hidden = false;
    opener.addEventListener("click", () => help.showModal());
  }
  const typing = (el) =>
    el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  const rows = () => Array.from(document.querySelectorAll("a[data-row-link]"));
  const current = () => {
    const links = rows();
    const at = links.indexOf(document.activeElement);
    return at < 0 ? null : links[at];
  };
  const move = (step) => {
    const links = rows();
    if (!links.length) return;
    const at = links.indexOf(document.activeElement);
    const next = at < 0 ? 0 : Math.min(links.length - 1, Math.max(0, at + step));
    links[next].focus();
    links[next].closest("tr")?.scrollIntoView({ block: "nearest" });
  };
  const focusField = (id) => {
    document.getElementById(`tab-${id}`)?.click();
    const field = document.getElementById(id);
    if (!field) return false;
    field.focus();
    field.scrollIntoView({ block: "center" });
    return true;
  };
  // Sets a select of the properties form and saves the form.
  const setProperty = (name, value) => {
    const form = document.querySelector("form[data-properties]");
    const select = form && form.querySelector(`select[name="${name}"]`);
    if (!select || select.disabled || value === undefined) return false;
    select.value = value;
    form.requestSubmit();
    return true;
  };
  let afterG = false;
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target.matches("textarea")) {
      e.target.form?.requestSubmit();
      e.preventDefault();
      return;
    }
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || help.open) return;
    if (typing(e.target)) return;
    if (afterG) {
      afterG = false;
      if (e.key === "i") {
        window.location.assign("/conversations");
        e.preventDefault();
      }
      return;
    }
    let done = true;
    switch (e.key) {
      case "?": help.showModal(); break;
      case "g": afterG = true; break;
      case "j": move(1); break;
      case "k": move(-1); break;
      case "o": (current() || rows()[0])?.click(); break;
      case "x": {
        const box = current()?.closest("tr")?.querySelector('input[type="checkbox"]');
        if (box) box.click(); else done = false;
        break;
      }
      case "r": done = focusField("reply"); break;
      case "n": done = focusField("note"); break;
      case "e": done = setProperty("status", "done"); break;
      case "a": {
        const form = document.querySelector("form[data-properties]");
        done = setProperty("assignee", form?.dataset.me);
        break;
      }
      case "/": done = focusField("q") || (window.location.assign("/search"), true); break;
      default: done = false;
    }
    if (done) e.preventDefault();
  });
}
document.addEventListener("DOMContentLoaded", keyboardShortcuts);

// The conversation's composer: "Reply" and "Note" tabs over the two forms
// (a WAI-ARIA tablist: arrow keys move between them). The server's choice
// (a form that came back with errors or text) wins, else the last one
// used in this browser.
function composerTabs() {
  const tabs = document.querySelector("[data-composer-tabs]");
  if (!tabs) return;
  const buttons = Array.from(tabs.querySelectorAll("button"));
  const panels = buttons.map((b) => document.getElementById(b.getAttribute("aria-controls")));
  tabs.hidden = false;
  tabs.setAttribute("role", "tablist");
  tabs.setAttribute("aria-label", document.getElementById("compose-title")?.textContent || "");
  const show = (index, remember) => {
    buttons.forEach((button, i) => {
      button.setAttribute("role", "tab");
      button.setAttribute("aria-selected", String(i === index));
      button.tabIndex = i === index ? 0 : -1;
      panels[i].setAttribute("role", "tabpanel");
      panels[i].hidden = i !== index;
    });
    if (remember) {
      try { localStorage.setItem("confer.composer", buttons[index].id); } catch (_) { /* private mode */ }
    }
  };
  buttons.forEach((button, i) => {
    button.addEventListener("click", () => show(i, true));
    button.addEventListener("keydown", (e) => {
      const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
      if (!step) return;
      const next = (i + step + buttons.length) % buttons.length;
      show(next, true);
      buttons[next].focus();
      e.preventDefault();
    });
  });
  let remembered = null;
  try { remembered = localStorage.getItem("confer.composer"); } catch (_) { /* private mode */ }
  const wanted = tabs.dataset.selected ? `tab-${tabs.dataset.selected}` : remembered;
  show(Math.max(0, buttons.findIndex((b) => b.id === wanted)), false);
}
document.addEventListener("DOMContentLoaded", composerTabs);

// "Snoozed until" shows only while the status is Snoozed (without script it
// always shows, and the server ignores it for other statuses).
function snoozeField() {
  const field = document.querySelector("[data-snooze-field]");
  const status = field && field.closest("form")?.querySelector('select[name="status"]');
  if (!status) return;
  const update = () => { field.hidden = status.value !== "snoozed"; };
  status.addEventListener("change", update);
  update();
}
document.addEventListener("DOMContentLoaded", snoozeField);

// On a phone the navigation folds behind a "Menu" button (one short top
// bar); without script it stays a row that scrolls sideways.
function phoneMenu() {
  const toggle = document.querySelector(".menu-toggle");
  const nav = document.getElementById("mainnav");
  const bar = toggle && toggle.closest(".topbar");
  if (!nav || !bar) return;
  toggle.hidden = false;
  bar.classList.add("topbar--menu");
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    bar.classList.toggle("topbar--open", open);
  });
}
document.addEventListener("DOMContentLoaded", phoneMenu);

// The inbox: on a phone the filters fold behind "Filters" unless one is
// set (the order is not a filter); a new order applies as it is chosen;
// the bulk bar shows once a conversation is selected, and a header
// checkbox selects the whole page. Without script the form simply shows.
function inboxControls() {
  // A view strip wider than the screen scrolls to show the current view
  // (Trash or Spam sit at its far end).
  const current = document.querySelector("nav.tabs [aria-current]");
  const strip = current && current.closest("nav.tabs");
  if (strip && strip.scrollWidth > strip.clientWidth) {
    strip.scrollLeft += current.getBoundingClientRect().left - strip.getBoundingClientRect().left - 16;
  }
  const fold = document.querySelector("details[data-fold-on-phone]");
  const phone = window.matchMedia("(max-width: 40rem)");
  // On a phone the filters fold behind their summary unless one is set.
  const foldIfIdle = () => {
    const active = Array.from(fold.querySelectorAll("select, input:not([type=hidden])"))
      .some((field) => !field.hasAttribute("data-submit-on-change") && field.value !== "");
    if (!active) fold.open = false;
  };
  if (fold && phone.matches) foldIfIdle();
  // A new order shows at once.
  const sort = document.querySelector("select[data-submit-on-change]");
  if (sort) sort.addEventListener("change", () => sort.form.requestSubmit());
  // Widened past a phone's width (a turned tablet), the filters unfold;
  // narrowed to one, they fold as on a phone.
  phone.addEventListener("change", (e) => {
    if (!fold) return;
    if (e.matches) foldIfIdle();
    else fold.open = true;
  });
  const bulk = document.getElementById("bulk-form");
  if (!bulk) return;
  const boxes = Array.from(document.querySelectorAll('input[name="ids"][form="bulk-form"]'));
  const header = document.querySelector("th.cell-select");
  let all = null;
  if (header && boxes.length) {
    all = document.createElement("input");
    all.type = "checkbox";
    all.setAttribute("aria-label", bulk.dataset.selectAllLabel || "");
    header.replaceChildren(all);
    all.addEventListener("change", () => {
      boxes.forEach((box) => { box.checked = all.checked; });
      update();
    });
  }
  const update = () => {
    const chosen = boxes.filter((box) => box.checked).length;
    bulk.hidden = chosen === 0;
    if (all) {
      all.checked = chosen === boxes.length;
      all.indeterminate = chosen > 0 && chosen < boxes.length;
    }
  };
  boxes.forEach((box) => box.addEventListener("change", update));
  update();
}
document.addEventListener("DOMContentLoaded", inboxControls);

// A conversation's properties save as they change (the same form, posted in
// the background); the Save button stays for those without script. A
// snooze waits for its time; a refusal posts the form for real, so the
// page shows the message beside its field.
function propertiesInPlace() {
  const form = document.querySelector("form[data-properties]");
  const said = form && form.querySelector("[data-properties-status]");
  if (!said) return;
  const status = form.querySelector('select[name="status"]');
  const snooze = form.querySelector('input[name="snoozed_until"]');
  const save = async () => {
    said.textContent = "";
    let response = null;
    try {
      response = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin",
      });
    } catch (_) { /* offline: the real post below says so */ }
    if (response && response.ok && response.redirected) {
      said.textContent = said.dataset.saved || "";
      const label = document.querySelector("[data-status-label]");
      if (label && status) label.textContent = status.selectedOptions[0]?.textContent || "";
    } else {
      form.submit();
    }
  };
  form.querySelectorAll("select").forEach((select) => {
    select.addEventListener("change", () => {
      if (select === status && status.value === "snoozed") return;
      save();
    });
  });
  snooze?.addEventListener("change", () => {
    if (status?.value === "snoozed" && snooze.value) save();
  });
  form.querySelector('input[name="tags"]')?.addEventListener("change", save);
}
document.addEventListener("DOMContentLoaded", propertiesInPlace);

// A form that came back with errors: the focus goes to their summary, and
// each of its links to the field it names.
function errorSummary() {
  const summary = document.querySelector("[data-error-summary]");
  if (!summary) return;
  summary.focus();
  summary.addEventListener("click", (e) => {
    const link = e.target.closest("a[data-field]");
    if (!link) return;
    const name = link.dataset.field;
    const field =
      document.querySelector(`[aria-describedby~="${name}-error"]`) ||
      document.getElementById(name) ||
      document.querySelector(`[name="${name}"]`);
    if (!field) return;
    e.preventDefault();
    field.focus();
    field.scrollIntoView({ block: "center" });
  });
}
document.addEventListener("DOMContentLoaded", errorSummary);

// Tables, charts and code wider than the screen scroll sideways in their own box:
// such a box takes the keyboard focus (arrow keys scroll it) and is named
// after its table or section (a group, not a second landmark), so it can be
// reached without a mouse.
function scrollRegions() {
  const boxes = Array.from(document.querySelectorAll(".table-wrap, .chart-wrap, pre"));
  if (!boxes.length) return;
  const update = () => {
    for (const box of boxes) {
      if (box.scrollWidth > box.clientWidth + 1) {
        const named =
          box.querySelector("caption")?.textContent ||
          box.closest("section")?.querySelector("h2, h3")?.textContent ||
          "";
        box.tabIndex = 0;
        box.setAttribute("role", "group");
        box.setAttribute("aria-label", named.trim());
      } else if (box.getAttribute("role") === "group") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    }
  };
  window.addEventListener("resize", update);
  update();
}
document.addEventListener("DOMContentLoaded", scrollRegions);

// Saved replies in the composer: typing filters the list; choosing one
// puts its text (placeholders already filled in by the server) at the
// cursor of the Reply or Note box and switches to that tab. Without script
// each is a link that reloads the page with it in the box.
function savedReplies() {
  const picker = document.querySelector("[data-saved-picker]");
  if (!picker) return;
  // Fetched on first opening (the page carries no list by default).
  picker.addEventListener("toggle", async () => {
    const slot = picker.querySelector("[data-saved-slot]");
    if (!picker.open || !slot) return;
    try {
      const response = await fetch(picker.dataset.savedUrl, { credentials: "same-origin" });
      if (!response.ok) return;
      slot.outerHTML = await response.text();
      picker.querySelector("[data-saved-filter]")?.focus();
    } catch (_) {
      /* the link in the slot still works */
    }
  });
  picker.addEventListener("input", (e) => {
    if (!e.target.matches("[data-saved-filter]")) return;
    const words = e.target.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    picker.querySelectorAll("li[data-saved-text]").forEach((item) => {
      const match = words.every((w) => item.dataset.savedText.includes(w));
      item.hidden = !match;
      if (match) shown += 1;
    });
    const none = picker.querySelector("[data-saved-none]");
    if (none) none.hidden = shown > 0;
  });
  picker.addEventListener("click", (e) => {
    const link = e.target.closest("a[data-saved-insert]");
    if (!link) return;
    const box = document.getElementById(link.dataset.kind === "reply" ? "reply" : "note");
    if (!box) return;
    e.preventDefault();
    document.getElementById(`tab-${link.dataset.kind}`)?.click();
    const text = link.dataset.body;
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? box.value.length;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus();
    box.selectionStart = box.selectionEnd = start + text.length;
    picker.open = false;
  });
}
document.addEventListener("DOMContentLoaded", savedReplies);

// A conversation updates itself: its live stream (server-sent events) says
// when a newer message exists — the thread is then fetched and replaced,
// the reply form learns it has been seen, and a screen reader hears it —
// and who else has it open or is replying. Typing in the reply box tells
// the others (at most every 10 s; an emptied box says it stopped). Without
// EventSource the page simply stays as loaded.
function liveConversation() {
  const root = document.querySelector("[data-live]");
  if (!root || !window.EventSource) return;
  const presence = document.querySelector("[data-presence]");
  const announce = document.querySelector("[data-live-announce]");
  const source = new EventSource(root.dataset.live);
  let refreshing = false;
  source.addEventListener("messages", async () => {
    if (refreshing) return;
    refreshing = true;
    try {
      const response = await fetch(location.pathname, { credentials: "same-origin" });
      if (!response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.querySelector("ol.thread");
      const shown = document.querySelector("ol.thread");
      if (fresh && shown) shown.replaceWith(fresh);
      const seen = page.querySelector("[data-seen-last]")?.value;
      if (seen) document.querySelectorAll("[data-seen-last]").forEach((input) => { input.value = seen; });
      if (announce) announce.textContent = announce.dataset.newLabel;
    } catch (_) {
      /* the next event tries again */
    } finally {
      refreshing = false;
    }
  });
  source.addEventListener("presence", (e) => {
    if (!presence) return;
    const { text } = JSON.parse(e.data);
    presence.textContent = text;
    presence.hidden = !text;
  });
  const reply = document.getElementById("reply");
  const form = document.getElementById("reply-form");
  const url = root.dataset.presenceUrl;
  if (!reply || !form || !url) return;
  const csrf = form.querySelector('input[name="csrf_token"]')?.value || "";
  const tell = (replying) => fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded" },
    body: `replying=${replying ? 1 : 0}`,
  }).catch(() => {});
  let active = false;
  let told = 0;
  reply.addEventListener("input", () => {
    if (reply.value.trim() === "") {
      if (active) tell(false);
      active = false;
      return;
    }
    if (!active || Date.now() - told > 10000) {
      active = true;
      told = Date.now();
      tell(true);
    }
  });
}
document.addEventListener("DOMContentLoaded", liveConversation);

// Files dropped anywhere on a composer join its file field (as if chosen
// with "Choose files"), and the chosen names are listed under it.
function fileDrops() {
  if (typeof DataTransfer === "undefined") return;
  document.querySelectorAll("form.composer").forEach((form) => {
    const input = form.querySelector('input[type="file"][data-drop-hint]');
    if (!input) return;
    const hint = document.getElementById(`${input.id}-hint`);
    if (hint) hint.textContent = `${hint.textContent} ${input.dataset.dropHint}`;
    const chosen = document.createElement("p");
    chosen.className = "field-hint files-chosen";
    chosen.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", chosen);
    const show = () => {
      const names = Array.from(input.files).map((f) => f.name);
      chosen.textContent = names.length ? `${input.dataset.chosenLabel} ${names.join(", ")}` : "";
    };
    input.addEventListener("change", show);
    const carriesFiles = (e) => Array.from(e.dataTransfer?.types || []).includes("Files");
    form.addEventListener("dragover", (e) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      form.classList.add("composer--drop");
    });
    form.addEventListener("dragleave", (e) => {
      if (!form.contains(e.relatedTarget)) form.classList.remove("composer--drop");
    });
    form.addEventListener("drop", (e) => {
      form.classList.remove("composer--drop");
      if (!e.dataTransfer?.files.length) return;
      e.preventDefault();
      const all = new DataTransfer();
      Array.from(input.files).forEach((f) => all.items.add(f));
      Array.from(e.dataTransfer.files).forEach((f) => all.items.add(f));
      input.files = all.files;
      show();
    });
  });
}
document.addEventListener("DOMContentLoaded", fileDrops);

// "Preview" under a composer box: the text rendered by the server exactly
// as it will show; pressed again, the preview folds away.
function markdownPreviews() {
  document.querySelectorAll("[data-preview-for]").forEach((button) => {
    const box = document.getElementById(button.dataset.previewFor);
    const region = document.getElementById(button.getAttribute("aria-controls"));
    const csrf = box?.form?.querySelector('input[name="csrf_token"]')?.value;
    if (!box || !region || !csrf) return;
    button.hidden = false;
    button.addEventListener("click", async () => {
      if (button.getAttribute("aria-expanded") === "true") {
        button.setAttribute("aria-expanded", "false");
        region.hidden = true;
        return;
      }
      try {
        const response = await fetch("/markdown/preview", {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ text: box.value }),
        });
        if (!response.ok) return;
        const { html } = await response.json();
        region.innerHTML = html || `<p class="muted">${region.dataset.previewEmpty}</p>`;
        region.hidden = false;
        button.setAttribute("aria-expanded", "true");
      } catch (_) {
        /* the preview stays closed */
      }
    });
    box.addEventListener("input", () => {
      button.setAttribute("aria-expanded", "false");
      region.hidden = true;
    });
  });
}
document.addEventListener("DOMContentLoaded", markdownPreviews);
