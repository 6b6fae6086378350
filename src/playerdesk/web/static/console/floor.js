// The floor page: the server-rendered panel is read again every few seconds while the page
// is on screen (one request, whatever happens on the floor), and its countdowns tick between.

import { fetchPage } from "./api.js";
import { ServerClock, SlaBadges } from "./sla.js";

function panel() {
  return document.querySelector("[data-floor-panel]");
}

const first = panel();
if (first) {
  const clock = new ServerClock(first.dataset.now);
  const badges = new SlaBadges({ clock, daysTemplate: first.dataset.daysTemplate });
  const every = Math.max(2, Number(first.dataset.refreshSeconds) || 5) * 1000;
  let busy = false;
  let stopped = false;

  const refresh = async () => {
    if (busy || stopped || document.visibilityState !== "visible") return;
    busy = true;
    try {
      const page = await fetchPage(location.pathname);
      const fresh = page.querySelector("[data-floor-panel]");
      const current = panel();
      if (!fresh || !current) {
        stopped = true; // signed out, or no longer allowed: the page says so on reload
        return;
      }
      // Keep the keyboard where it was: the same link in the new panel.
      const focused = current.contains(document.activeElement) ? document.activeElement.getAttribute("href") : null;
      current.replaceWith(document.adoptNode(fresh));
      clock.sync(fresh.dataset.now);
      badges.tickAll();
      if (focused) fresh.querySelector(`a[href="${CSS.escape(focused)}"]`)?.focus();
    } catch {
      // Try again on the next round.
    } finally {
      busy = false;
    }
  };

  badges.start(document);
  setInterval(refresh, every);
  document.addEventListener("visibilitychange", refresh);
}
