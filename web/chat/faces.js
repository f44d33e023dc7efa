// The team that is there to answer, before a chat starts (issue 15): GET /api/v1/availability's
// `team` (up to 5 available staff as {name, title?, avatar_url?}) as a row of photos or
// initials over the greeting, with their names in words for everyone (the faces are decoration).

import { el, setChildren, initials } from "/shared/format.js";
import { t } from "./texts.js";
import { $, state } from "./state.js";

/** Shows the row while no chat is under way; hides it when nobody is listed. */
export function showTeam(team) {
  const box = $("team");
  const faces = Array.isArray(team)
    ? team.filter((f) => f && typeof f.name === "string" && f.name.trim()).slice(0, 5)
    : [];
  if (!faces.length || state.phase !== "new") {
    box.hidden = true;
    return;
  }
  setChildren($("team-faces"), faces.map((f) => el("span", { class: "team-face" },
    typeof f.avatar_url === "string" && f.avatar_url.startsWith("/api/v1/staff/")
      ? el("img", { src: f.avatar_url, alt: "" })
      : initials(f.name))));
  const named = faces.map((f) => (typeof f.title === "string" && f.title ? `${f.name} (${f.title})` : f.name));
  const names = named.length > 3 ? t("team_more", { names: named.slice(0, 3).join(", "), more: named.length - 3 }) : named.join(", ");
  $("team-text").textContent = t("team_here", { names });
  box.hidden = false;
}
