// Keyboard shortcuts for the frequent actions; "?" shows them all.

import { isMac, isTyping } from "./dom.js";

export function installShortcuts(app) {
  const help = document.querySelector("[data-help]");
  if (isMac) {
    for (const key of document.querySelectorAll("[data-mod-key]")) key.textContent = "⌘";
  }

  const toggleHelp = () => {
    if (!help) return;
    if (help.open) help.close();
    else help.showModal();
  };
  document.querySelector('[data-action="help"]')?.addEventListener("click", toggleHelp);

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    // In a text field only the composer's own keys apply (handled there); Escape leaves it.
    if (isTyping(event.target)) {
      if (event.key === "Escape" && event.target.matches("select, input")) event.target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (help?.open && event.key !== "?") return;
    if (app.dialogs?.open) return; // Escalate or Transfer is asking: its own keys apply

    const conversation = app.activeConversation;
    const actions = {
      "?": toggleHelp,
      j: () => app.inbox.move(1),
      k: () => app.inbox.move(-1),
      o: () => app.inbox.openCursor(),
      "]": () => app.cycle(1),
      "[": () => app.cycle(-1),
      x: () => conversation && app.close(conversation.id),
      r: () => conversation?.setMode("reply"),
      n: () => conversation?.setMode("note"),
      a: () => conversation?.assignToMe(),
      e: () => conversation?.resolve(),
      "!": () => conversation?.escalate(),
      t: () => conversation?.transfer(),
    };
    let action = actions[event.key];
    // Enter on a focused link or button does what it always does; elsewhere it opens.
    if (event.key === "Enter" && !(event.target instanceof Element && event.target.closest("a, button"))) {
      action = () => app.inbox.openCursor();
    }
    if (!action) return;
    event.preventDefault();
    action();
  });
}
