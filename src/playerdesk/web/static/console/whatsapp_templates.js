// WhatsApp's template messages in the composer. Once the 24-hour customer-service window of
// a WhatsApp conversation has closed (the notice above the composer says so), WhatsApp
// delivers only a template Meta approved: the reply box gives way to a choice of the
// approved templates (those in the conversation's language first), a field for each value
// of the chosen one's body, a preview of what the player will see, and a Send button.
// Internal notes are written as ever. Texts come from config.whatsapp.

import { ApiError, api } from "./api.js";
import { el, format, uuid } from "./dom.js";

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;
// WhatsApp refuses these in a value (error 132018); the server says so too.
const BAD_VALUE = /[\n\r\t]| {5,}/;

export class WhatsAppTemplates {
  constructor(conversation) {
    this.conversation = conversation;
    this.strings = conversation.app.config.whatsapp ?? {};
    this.choice = null; // the server's answer: {configured, language, templates}
    this.shown = []; // the templates in the list
    this.template = null;
    this.loading = false;
    this.sending = false;
    this.pendingClientId = null;
    this.build();
  }

  // Building ------------------------------------------------------------------------------

  build() {
    const id = this.conversation.id;
    this.select = el("select", { id: `wa-template-${id}`, "data-testid": "whatsapp-template-select" });
    this.languageNote = el("p", {
      class: "wa-template-note",
      "data-testid": "whatsapp-template-other-languages",
      text: this.strings.other_languages,
      hidden: true,
    });
    this.state = el("p", { class: "wa-template-state", "data-testid": "whatsapp-template-state", hidden: true });
    this.retry = el("button", { type: "button", class: "button button-quiet", text: this.strings.retry, hidden: true });
    this.fields = el("div", { class: "wa-template-fields", "data-testid": "whatsapp-template-fields" });
    this.preview = el("div", { class: "wa-template-preview", "data-testid": "whatsapp-template-preview" });
    this.form = el(
      "div",
      { class: "wa-template-form", hidden: true },
      el("label", { class: "wa-template-choose", for: this.select.id }, this.strings.choose),
      this.select,
      this.languageNote,
      this.fields,
      el("p", { class: "wa-template-preview-label", text: this.strings.preview }),
      this.preview,
    );
    this.error = el("p", { class: "composer-error", role: "alert", "data-testid": "whatsapp-template-error", hidden: true });
    this.sendButton = el("button", {
      type: "button",
      class: "button button-primary",
      "data-testid": "whatsapp-template-send",
      text: this.strings.send,
      disabled: true,
    });
    this.root = el(
      "section",
      { class: "wa-templates", "data-testid": "whatsapp-templates", "aria-label": this.strings.title, hidden: true },
      el("h4", { class: "wa-templates-title", text: this.strings.title }),
      this.state,
      this.retry,
      this.form,
      el("div", { class: "wa-templates-foot" }, this.error, this.sendButton),
    );
    // In the composer, in place of the reply box and its Send button while a reply would
    // be refused.
    const composer = this.conversation.composer;
    composer.insertBefore(this.root, composer.querySelector(".composer-foot"));

    this.select.addEventListener("change", () => this.choose(Number(this.select.value)));
    this.retry.addEventListener("click", () => this.load());
    this.sendButton.addEventListener("click", () => this.send());
    this.fields.addEventListener("input", (event) => {
      this.pendingClientId = null; // other values are another message
      this.error.hidden = true;
      event.target.removeAttribute?.("aria-invalid");
      this.renderPreview();
    });
    this.fields.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      // Enter must not submit the composer's form (a reply, refused outside the window).
      event.preventDefault();
      if (event.ctrlKey || event.metaKey) this.send();
    });
  }

  /** Whether the composer sends templates now: a WhatsApp conversation whose window has
   * closed, in reply mode. Called when the window, the mode or the ticket changes. */
  get wanted() {
    const conversation = this.conversation;
    const ticket = conversation.ticket;
    return (
      ticket?.channel === "whatsapp" &&
      ticket.status !== "closed" &&
      !conversation.whatsappWindow.hidden &&
      conversation.mode === "reply"
    );
  }

  refresh() {
    const active = this.wanted;
    this.root.hidden = !active;
    this.conversation.composer.classList.toggle("is-template", active);
    if (active && this.choice === null && !this.loading) this.load();
  }

  // The templates -------------------------------------------------------------------------

  showState(text, { retry = false } = {}) {
    this.state.textContent = text ?? "";
    this.state.hidden = !text;
    this.retry.hidden = !retry;
  }

  async load() {
    this.loading = true;
    this.showState(this.strings.loading);
    this.form.hidden = true;
    this.sendButton.disabled = true;
    try {
      this.choice = await api.get(`/api/v1/tickets/${this.conversation.id}/whatsapp-templates`);
    } catch {
      this.choice = null;
      this.showState(this.strings.load_failed, { retry: true });
      return;
    } finally {
      this.loading = false;
    }
    this.fill();
  }

  fill() {
    const { configured, templates } = this.choice;
    if (!configured || templates.length === 0) {
      this.showState(configured ? this.strings.none : this.strings.not_configured);
      return;
    }
    const own = templates.filter((item) => item.in_conversation_language);
    this.shown = own.length ? own : templates;
    this.languageNote.hidden = own.length > 0;
    this.select.replaceChildren(
      ...this.shown.map((item, index) =>
        el("option", { value: index, text: `${item.name} · ${item.language}` }),
      ),
    );
    this.showState(null);
    this.form.hidden = false;
    this.choose(0);
  }

  choose(index) {
    this.template = this.shown[index] ?? null;
    this.select.value = String(index);
    this.pendingClientId = null;
    this.error.hidden = true;
    const template = this.template;
    this.fields.replaceChildren(
      ...(template?.parameters ?? []).map((name, position) => {
        const placeholder = `{{${name}}}`;
        return el(
          "label",
          { class: "wa-template-field" },
          el("span", { text: format(this.strings.value_for, { placeholder }) }),
          el("input", {
            type: "text",
            maxlength: "1024",
            "data-testid": "whatsapp-template-value",
            dataset: { parameter: name },
            placeholder: template.examples?.[position] ?? "",
          }),
        );
      }),
    );
    this.sendButton.disabled = !template;
    this.renderPreview();
  }

  values() {
    return [...this.fields.querySelectorAll("input")].map((input) => input.value.trim());
  }

  /** Header, body (values filled in, missing ones marked), footer and buttons. */
  renderPreview() {
    const template = this.template;
    if (!template) {
      this.preview.replaceChildren();
      return;
    }
    const values = Object.fromEntries(template.parameters.map((name, index) => [name, this.values()[index]]));
    const body = [];
    let last = 0;
    for (const match of template.body.matchAll(PLACEHOLDER)) {
      body.push(template.body.slice(last, match.index));
      const value = values[match[1]];
      body.push(value ? value : el("mark", { class: "wa-template-missing", text: match[0] }));
      last = match.index + match[0].length;
    }
    body.push(template.body.slice(last));
    this.preview.replaceChildren(
      template.header ? el("p", { class: "wa-template-header", text: template.header }) : null,
      el("p", { class: "wa-template-body" }, ...body),
      template.footer ? el("p", { class: "wa-template-footer", text: template.footer }) : null,
      template.buttons?.length
        ? el(
            "ul",
            { class: "wa-template-buttons" },
            template.buttons.map((label) => el("li", { text: label })),
          )
        : null,
    );
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = false;
  }

  // Sending -------------------------------------------------------------------------------

  async send() {
    const template = this.template;
    if (!template || this.sending || this.root.hidden) return;
    const inputs = [...this.fields.querySelectorAll("input")];
    const values = this.values();
    for (const [index, input] of inputs.entries()) {
      const bad = !values[index] ? this.strings.missing_value : BAD_VALUE.test(values[index]) ? this.strings.bad_value : null;
      input.toggleAttribute("aria-invalid", Boolean(bad));
      if (bad) {
        this.showError(bad);
        input.focus();
        return;
      }
    }
    this.sending = true;
    this.sendButton.disabled = true;
    this.sendButton.textContent = this.strings.sending;
    this.error.hidden = true;
    // Kept across a failed attempt: sending the same values again cannot store them twice.
    this.pendingClientId ??= uuid();
    const conversation = this.conversation;
    try {
      const message = await api.post(`/api/v1/tickets/${conversation.id}/template-messages`, {
        name: template.name,
        language: template.language,
        parameters: values,
        client_msg_id: this.pendingClientId,
      });
      this.pendingClientId = null;
      for (const input of inputs) input.value = "";
      this.renderPreview();
      conversation.addMessage(
        {
          id: message.id,
          ticket_id: message.ticket_id,
          author: message.author_kind,
          author_name: conversation.app.me.name,
          kind: message.kind,
          body: message.body,
          redacted: message.redacted,
          created_at: message.created_at,
          attachments: message.attachments,
        },
        { own: true },
      );
      conversation.app.inbox.activity(conversation.id, { author: "agent", read: true });
      conversation.markRead();
      conversation.app.toast(this.strings.sent);
    } catch (error) {
      const reason =
        error instanceof ApiError && error.status === 422 && error.problem?.detail
          ? error.problem.detail
          : conversation.errorText(error, conversation.strings.send_failed);
      this.showError(format(this.strings.failed, { reason }));
    } finally {
      this.sending = false;
      this.sendButton.disabled = !this.template;
      this.sendButton.textContent = this.strings.send;
    }
  }
}
