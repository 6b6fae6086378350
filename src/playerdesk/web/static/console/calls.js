// The phone call pop-up: when a call rings at (or is answered by) this agent, the caller's
// context shows at once: name, number, VIP tier, open tickets, and a way into the
// conversation. One pop-up per call, updated in place; Escape or the button dismisses it.

import { el, format } from "./dom.js";

export class CallPopups {
  constructor({ strings, chime }) {
    this.strings = strings;
    this.chime = chime;
    this.popups = new Map(); // call id -> element
    this.region = el("div", { class: "call-popups", "data-call-popups": true });
    document.body.append(this.region);
  }

  show(frame) {
    const previous = this.popups.get(frame.call_id);
    const popup = this.render(frame);
    if (previous) previous.replaceWith(popup);
    else {
      this.region.append(popup);
      if (frame.state === "ringing") this.chime?.play?.();
    }
    this.popups.set(frame.call_id, popup);
    // Focus moves to the pop-up only when nothing is being typed: an agent mid-reply keeps
    // the keyboard; the live region announces the call either way.
    const typing = document.activeElement?.closest?.("input, textarea, select");
    if (!previous && !typing) popup.querySelector("[data-call-open], [data-call-dismiss]")?.focus();
  }

  dismiss(callId) {
    this.popups.get(callId)?.remove();
    this.popups.delete(callId);
  }

  render(frame) {
    const s = this.strings;
    let title = s.call_ringing;
    if (frame.state === "answered") title = s.call_answered;
    else if (frame.direction === "outbound") title = s.call_ringing_outbound;
    const titleId = `call-title-${frame.call_id}`;
    const tickets = frame.open_tickets ?? [];
    const openTarget = frame.phone_ticket_id ?? tickets[0]?.id ?? null;

    const details = el(
      "dl",
      { class: "call-details" },
      el("dt", { text: s.player_name }),
      el("dd", { text: frame.player_name || s.call_unknown_caller, "data-call-player": true }),
      el("dt", { text: s.player_phone }),
      el("dd", { text: frame.number, "data-call-number": true }),
      frame.vip_tier ? [el("dt", { text: s.player_vip }), el("dd", { class: "vip", text: frame.vip_tier })] : null,
    );
    const list = tickets.length
      ? el(
          "ul",
          { class: "call-tickets", "aria-label": s.call_open_tickets },
          tickets.map((ticket) =>
            el(
              "li",
              {},
              el("a", { href: `/console/tickets/${ticket.id}`, text: `#${ticket.number} ${ticket.subject}` }),
            ),
          ),
        )
      : el("p", { class: "call-none", text: s.call_no_open_tickets });
    const dismiss = el("button", { type: "button", class: "button", "data-call-dismiss": true, text: s.call_dismiss });
    dismiss.addEventListener("click", () => this.dismiss(frame.call_id));
    const popup = el(
      "section",
      {
        class: `call-popup call-${frame.state}`,
        role: "dialog",
        "aria-modal": "false",
        "aria-labelledby": titleId,
        "aria-live": "assertive",
        "data-testid": "call-popup",
        dataset: { callId: frame.call_id },
      },
      el("h2", { id: titleId, text: title }),
      frame.queue ? el("p", { class: "call-queue", text: format(s.call_queue, { queue: frame.queue }) }) : null,
      details,
      el("h3", { text: s.call_open_tickets }),
      list,
      el(
        "p",
        { class: "call-actions" },
        openTarget !== null
          ? el("a", { class: "button primary", href: `/console/tickets/${openTarget}`, "data-call-open": true, text: s.call_open_player })
          : null,
        dismiss,
      ),
    );
    popup.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.dismiss(frame.call_id);
    });
    return popup;
  }
}
