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
