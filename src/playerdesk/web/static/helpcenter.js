// The help centre's one script: "Start a chat" buttons open the chat widget (/widget.js).
// Without script, or until the widget has loaded, the buttons stay invisible (in their
// place, so that the page does not move when they show): the pages never offer what they
// cannot do.

const WAIT_MS = 250;
const MAX_WAITS = 40;

function connect(widget) {
  for (const button of document.querySelectorAll("[data-start-chat]")) {
    button.removeAttribute("data-waiting");
    button.addEventListener("click", () => widget.open());
  }
}

function whenReady(attempt = 0) {
  if (window.PlayerDeskWidget) {
    connect(window.PlayerDeskWidget);
  } else if (attempt < MAX_WAITS) {
    setTimeout(() => whenReady(attempt + 1), WAIT_MS);
  }
}

whenReady();

// After "was this helpful?", the page comes back scrolled to the thanks: say it aloud too.
if (location.hash === "#feedback") document.getElementById("feedback")?.focus();
