// Canned replies in the composer: "/" at the start of the message or of a word opens a list of
// shortcuts (arrows to move, Enter or Tab to choose, Esc to close). The chosen reply comes back
// from the server filled in for the conversation; a placeholder it could not fill stays in the
// text, is flagged, and blocks sending until the agent replaces it. A macro says what else it
// will do, and sending it applies its actions with the reply (one request, one transaction).

import { ApiError, api } from "./api.js";
import { el, format } from "./dom.js";

const TRIGGER = /(?:^|\s)\/([a-z0-9-]{0,50})$/;
// Anything that still looks like a placeholder: the same rule as the server's.
const LEFTOVER = /\{\{[\s\S]*?(?:\}\}|$)/g;
const SEARCH_DELAY_MS = 80;
const SHOWN = 10;

/** The placeholders left in a text, with where each one is. */
export function leftovers(text) {
  return [...text.matchAll(LEFTOVER)].map((match) => ({
    text: match[0],
    start: match.index,
    end: match.index + match[0].length,
  }));
}

export class CannedComposer {
  constructor(conversation) {
    this.conversation = conversation;
    this.input = conversation.input;
    this.strings = conversation.app.config.canned;
    this.pending = null; // the chosen reply: {id, shortcut, is_macro, actions}
    this.token = null; // the "/prefix" being typed: {start, end, prefix}
    this.dismissed = null; // a token the agent closed the list for with Esc
    this.items = [];
    this.active = -1;
    this.searchTimer = null;
    this.searchSeq = 0;
    this.build();
  }

  // Building -----------------------------------------------------------------------------

  build() {
    const id = this.conversation.id;
    const box = this.input.closest(".composer-box") ?? this.input.parentElement;
    this.list = el("div", {
      class: "canned-suggest",
      role: "listbox",
      id: `canned-list-${id}`,
      "aria-label": this.strings.list_label,
      "data-testid": "canned-suggestions",
      hidden: true,
    });
    this.announce = el("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
    box.append(this.list, this.announce);
    this.input.setAttribute("aria-autocomplete", "list");
    this.input.setAttribute("aria-controls", this.list.id);

    this.macroBox = el("div", { class: "canned-macro", "data-testid": "canned-macro", hidden: true });
    this.unfilledBox = el("div", {
      class: "canned-unfilled",
      role: "alert",
      "data-testid": "canned-unfilled",
      hidden: true,
    });
    const foot = this.conversation.composer.querySelector(".composer-foot");
    this.conversation.composer.insertBefore(this.macroBox, foot);
    this.conversation.composer.insertBefore(this.unfilledBox, foot);

    // Capture on the form: the list's keys are handled before the composer's own (Esc).
    this.conversation.composer.addEventListener("keydown", (event) => this.onKeyDown(event), true);
    this.input.addEventListener("input", () => this.onInput());
    this.input.addEventListener("click", () => this.onInput());
    this.input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
  }

  // The suggestion list ------------------------------------------------------------------------

  onInput() {
    this.refreshUnfilled();
    if (!this.input.value.trim()) this.forget();
    const caret = this.input.selectionStart ?? this.input.value.length;
    const before = this.input.value.slice(0, caret);
    const match = TRIGGER.exec(before);
    if (!match || this.input.selectionEnd !== caret) {
      this.close();
      return;
    }
    const prefix = match[1];
    const start = caret - prefix.length - 1;
    this.token = { start, end: caret, prefix };
    if (this.dismissed && this.dismissed.start === start && this.dismissed.prefix === prefix) return;
    this.dismissed = null;
    clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => this.search(prefix), SEARCH_DELAY_MS);
  }

  async search(prefix) {
    const ticket = this.conversation.ticket;
    if (!ticket) return;
    const seq = ++this.searchSeq;
    const params = new URLSearchParams({
      ticket_id: String(this.conversation.id),
      language: ticket.language ?? "",
      prefix,
      limit: String(SHOWN),
    });
    let items;
    try {
      items = await api.get(`/api/v1/canned-replies/suggestions?${params}`);
    } catch {
      items = null;
    }
    // Only the answer to the latest question counts, and only while its token is typed.
    if (seq !== this.searchSeq || !this.token || this.token.prefix !== prefix) return;
    this.show(items, prefix);
  }

  show(items, prefix) {
    this.items = items ?? [];
    this.active = this.items.length ? 0 : -1;
    const options = this.items.map((item, index) =>
      el(
        "div",
        {
          class: "canned-option",
          role: "option",
          id: `canned-${this.conversation.id}-${item.id}`,
          "aria-selected": String(index === this.active),
          "data-testid": "canned-option",
          dataset: { shortcut: item.shortcut, cannedId: item.id },
        },
        el("code", { class: "canned-option-shortcut", text: `/${item.shortcut}` }),
        el("span", { class: "canned-option-title", text: item.title }),
        item.is_macro ? el("span", { class: "canned-badge", text: this.strings.macro }) : null,
        item.language !== this.conversation.ticket?.language
          ? el("span", {
              class: "canned-option-language",
              title: this.strings.other_language,
              text: item.language.toUpperCase(),
            })
          : null,
      ),
    );
    for (const [index, option] of options.entries()) {
      // mousedown, not click: the message box keeps the focus.
      option.addEventListener("mousedown", (event) => {
        event.preventDefault();
        this.choose(index);
      });
    }
    if (!options.length) {
      const text = items === null ? this.strings.search_failed : format(this.strings.none, { prefix: `/${prefix}` });
      options.push(el("p", { class: "canned-empty", text }));
    }
    this.list.replaceChildren(...options);
    this.list.hidden = false;
    this.markActive();
    this.announce.textContent = this.items.length
      ? format(this.strings.found, { count: this.items.length })
      : "";
  }

  get isOpen() {
    return !this.list.hidden;
  }

  close() {
    clearTimeout(this.searchTimer);
    this.searchSeq += 1;
    this.list.hidden = true;
    this.list.replaceChildren();
    this.items = [];
    this.active = -1;
    this.input.removeAttribute("aria-activedescendant");
  }

  markActive() {
    const options = this.list.querySelectorAll('[role="option"]');
    options.forEach((option, index) => option.setAttribute("aria-selected", String(index === this.active)));
    const current = options[this.active];
    if (current) {
      this.input.setAttribute("aria-activedescendant", current.id);
      current.scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  }

  onKeyDown(event) {
    if (event.target !== this.input || !this.isOpen) return;
    const count = this.items.length;
    let handled = true;
    if (event.key === "ArrowDown" && count) {
      this.active = (this.active + 1) % count;
      this.markActive();
    } else if (event.key === "ArrowUp" && count) {
      this.active = (this.active - 1 + count) % count;
      this.markActive();
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.ctrlKey && !event.metaKey && count) {
      this.choose(this.active);
    } else if (event.key === "Escape") {
      this.dismissed = this.token;
      this.close();
    } else {
      handled = false;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }

  // Choosing a reply ---------------------------------------------------------------------------

  async choose(index) {
    const item = this.items[index];
    const token = this.token;
    this.close();
    if (!item || !token) return;
    this.input.setAttribute("aria-busy", "true");
    let preview;
    try {
      preview = await api.post("/api/v1/canned-replies/preview", {
        ticket_id: this.conversation.id,
        canned_id: item.id,
      });
    } catch (error) {
      this.conversation.app.toast(this.conversation.errorText(error, this.strings.preview_failed), "error");
      return;
    } finally {
      this.input.removeAttribute("aria-busy");
    }
    this.insert(token, preview.text);
    this.pending = { ...preview.reply };
    this.showMacro();
    const marks = this.refreshUnfilled({ accountUnavailable: preview.account_unavailable });
    if (marks.length) this.select(marks[0]);
  }

  /** Put the text where "/prefix" was typed (when the agent typed on meanwhile, at the caret). */
  insert(token, text) {
    const value = this.input.value;
    const stillThere = value.slice(token.start, token.end) === `/${token.prefix}`;
    const start = stillThere ? token.start : (this.input.selectionStart ?? value.length);
    const end = stillThere ? token.end : start;
    this.input.focus();
    this.input.setRangeText(text, start, end, "end");
    this.input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  select(mark) {
    this.input.focus();
    this.input.setSelectionRange(mark.start, mark.end);
  }

  // What a macro will do -------------------------------------------------------------------------

  showMacro() {
    const reply = this.pending;
    if (!reply?.is_macro) {
      this.macroBox.hidden = true;
      this.macroBox.replaceChildren();
      return;
    }
    const { labels } = this.conversation.app.config;
    const { actions } = reply;
    const steps = [];
    if (actions.set_status) {
      steps.push(format(this.strings.action_status, { status: labels.status[actions.set_status] ?? actions.set_status }));
    }
    if (actions.set_priority) {
      steps.push(format(this.strings.action_priority, { priority: labels.priority[actions.set_priority] ?? actions.set_priority }));
    }
    if (actions.add_tags?.length) {
      steps.push(format(this.strings.action_tags, { tags: actions.add_tags.join(", ") }));
    }
    if (actions.move_to_team_id) {
      steps.push(format(this.strings.action_team, { team: this.conversation.teamName(actions.move_to_team_id) }));
    }
    const drop = el("button", {
      type: "button",
      class: "button button-quiet button-small",
      "data-testid": "canned-macro-drop",
      text: this.strings.drop_macro,
    });
    drop.addEventListener("click", () => {
      this.pending = null;
      this.showMacro();
      this.input.focus();
    });
    this.macroBox.replaceChildren(
      el(
        "p",
        { class: "canned-macro-head" },
        el("span", { class: "canned-badge", text: this.strings.macro }),
        " ",
        el("span", { text: format(this.strings.macro_intro, { shortcut: `/${reply.shortcut}` }) }),
      ),
      el("ul", { class: "canned-macro-steps" }, steps.map((step) => el("li", { text: step }))),
      drop,
    );
    this.macroBox.hidden = false;
  }

  // Placeholders without a value -------------------------------------------------------------------

  /** Show what is left to fill in; returns where each leftover is. */
  refreshUnfilled({ accountUnavailable = false } = {}) {
    const marks = leftovers(this.input.value);
    const flagged = marks.length > 0;
    this.input.classList.toggle("has-unfilled", flagged);
    if (flagged) this.input.setAttribute("aria-invalid", "true");
    else this.input.removeAttribute("aria-invalid");
    if (accountUnavailable) this.accountUnavailable = true;
    if (!flagged) {
      this.accountUnavailable = false;
      this.unfilledBox.hidden = true;
      this.unfilledBox.replaceChildren();
      return marks;
    }
    const chips = marks.map((mark) => {
      const chip = el("button", {
        type: "button",
        class: "canned-chip",
        "data-testid": "canned-unfilled-placeholder",
        title: this.strings.select_placeholder,
        text: mark.text,
      });
      chip.addEventListener("click", () => {
        // Find it again: the text may have changed since.
        const current = leftovers(this.input.value).find((item) => item.text === mark.text);
        if (current) this.select(current);
      });
      return chip;
    });
    this.unfilledBox.replaceChildren(
      el("p", { text: this.accountUnavailable ? this.strings.unfilled_unavailable : this.strings.unfilled }),
      el("p", { class: "canned-chips" }, chips),
    );
    this.unfilledBox.hidden = false;
    return marks;
  }

  /** Before a reply goes out: false (and the agent told why) while a placeholder is left. */
  readyToSend(body, kind) {
    if (kind !== "reply") return true;
    const marks = this.refreshUnfilled();
    if (!marks.length) return true;
    const error = this.conversation.composerError;
    error.textContent = this.strings.blocked;
    error.hidden = false;
    this.select(marks[0]);
    return false;
  }

  // Sending --------------------------------------------------------------------------------------

  /** Sends a chosen canned reply (and a macro's actions); null when there is none to send, so
   * that the composer sends the text as an ordinary message. */
  async send({ body, kind, clientMsgId }) {
    const reply = this.pending;
    if (!reply || kind !== "reply") return null;
    let result;
    try {
      result = await api.post(`/api/v1/canned-replies/${Number(reply.id)}/apply`, {
        ticket_id: this.conversation.id,
        body,
        client_msg_id: clientMsgId,
      });
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        // Deleted or switched off meanwhile: the text goes out as an ordinary reply.
        this.forget();
        return null;
      }
      // Kept for the retry, unless the agent has chosen another reply since.
      if (!this.pending) {
        this.pending = reply;
        this.showMacro();
      }
      throw error;
    }
    const conversation = this.conversation;
    conversation.applyTicket(conversation.fromApi(result.ticket));
    conversation.app.inbox.upsert({ ...conversation.ticket, unread: undefined });
    if (result.actions.length) conversation.app.toast(this.strings.macro_applied);
    // The composer emptied as the reply went out: a reply chosen since is the next message's.
    if (this.pending === reply) this.forget();
    return result.message;
  }

  forget() {
    this.pending = null;
    this.showMacro();
  }
}
