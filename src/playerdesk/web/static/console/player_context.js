// The player beside a conversation: who they are, their casino account (balance, payments,
// bonuses, verification, responsible-gambling state) and their earlier tickets.
//
// Loaded when the agent asks for it (the read is audited), from
// GET /api/v1/tickets/{id}/player-context. The back office being down, slow or broken is a
// state of the answer, never an error of the page: the panel says "Account data unavailable"
// with a retry button, and the conversation works as before.
//
// A messenger conversation (Telegram, WhatsApp, Viber) whose chat has no casino account
// linked shows a form where the agent types the player's casino ID to link the chat
// (POST /api/v1/tickets/{id}/player-link); the panel then shows that account.

import { ApiError, api } from "./api.js";
import { el, format } from "./dom.js";

// States in which the answer carries (some of) the account.
const WITH_ACCOUNT = new Set(["available", "partial"]);
const ALERT_ORDER = ["self_excluded", "national_register", "cooling_off"];
// Conversations whose chat can be linked to a casino account.
const MESSENGERS = new Set(["telegram", "whatsapp", "viber"]);
const PROBLEM = "urn:playerdesk:problem:";

export class PlayerContextPanel {
  constructor(conversation, root) {
    this.conversation = conversation;
    this.app = conversation.app;
    this.root = root;
    this.loadSeq = 0;
    this.shownAccount = null; // the account last rendered, see channelKnown()
    const find = (selector) => root.querySelector(selector);
    this.alerts = find("[data-pc-alerts]");
    this.identity = find("[data-pc-identity]");
    this.state = find("[data-pc-state]");
    this.stateText = find("[data-pc-state-text]");
    this.stateHint = find("[data-pc-state-hint]");
    this.retryButton = find("[data-pc-retry]");
    this.account = find("[data-pc-account]");
    this.tickets = find("[data-pc-tickets]");
    this.checked = find("[data-pc-checked]");
    this.refreshButton = find("[data-pc-refresh]");
    this.linkForm = find("[data-pc-link-form]");
    this.linkInput = find("[data-pc-link-input]");
    this.linkError = find("[data-pc-link-error]");
    this.linkSubmit = find("[data-pc-link-submit]");
    this.linkForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.link();
    });
    this.retryButton.addEventListener("click", () => this.load());
    this.refreshButton.addEventListener("click", () => this.load());
    const language = this.app.config.language;
    this.language = language;
    this.dates = new Intl.DateTimeFormat(language, { day: "numeric", month: "short", year: "numeric" });
    this.dateTimes = new Intl.DateTimeFormat(language, {
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    });
    this.percent = new Intl.NumberFormat(language, { maximumFractionDigits: 0 });
    this.moneyFormats = new Map();
  }

  get text() {
    return this.app.config.player_context.text;
  }

  /** A code the back office sent, named in the agent's language (or as sent, if unknown). */
  name(group, code) {
    return this.app.config.player_context[group]?.[code] ?? String(code).replaceAll("_", " ");
  }

  /** "Show player details": the first read opens the panel; the button goes. */
  async open(button) {
    button.disabled = true;
    const loaded = await this.load();
    if (loaded) {
      this.root.hidden = false;
      button.hidden = true;
    } else {
      button.disabled = false;
    }
  }

  async load() {
    const seq = ++this.loadSeq;
    this.root.setAttribute("aria-busy", "true");
    this.retryButton.disabled = true;
    this.refreshButton.disabled = true;
    if (!this.root.hidden) this.showState(this.text.loading);
    try {
      const context = await api.get(`/api/v1/tickets/${Number(this.conversation.id)}/player-context`);
      if (seq !== this.loadSeq) return true;
      this.render(context);
      return true;
    } catch (error) {
      if (seq !== this.loadSeq) return false;
      const message =
        error instanceof ApiError && error.status === 403
          ? this.app.strings.forbidden
          : this.text.load_failed;
      if (this.root.hidden) this.app.toast(message, "error");
      else this.showState(message, { retry: true });
      return false;
    } finally {
      if (seq === this.loadSeq) {
        this.root.setAttribute("aria-busy", "false");
        this.retryButton.disabled = false;
        this.refreshButton.disabled = false;
      }
    }
  }

  /** The conversation moved to another player (its chat was linked): an open panel follows. */
  playerChanged() {
    if (!this.root.hidden) this.load();
  }

  // Linking the chat to a casino account ----------------------------------------------------

  async link() {
    const externalId = this.linkInput.value.trim();
    if (!externalId) {
      this.showLinkError(this.text.link_empty);
      this.linkInput.focus();
      return;
    }
    this.linkSubmit.disabled = true;
    this.showLinkError(null);
    try {
      await api.post(`/api/v1/tickets/${Number(this.conversation.id)}/player-link`, {
        external_id: externalId,
      });
    } catch (error) {
      this.showLinkError(this.linkErrorText(error));
      return;
    } finally {
      this.linkSubmit.disabled = false;
    }
    this.linkInput.value = "";
    this.app.toast(format(this.text.linked, { external_id: externalId }));
    await this.load();
  }

  linkErrorText(error) {
    if (!(error instanceof ApiError)) return this.text.link_failed;
    const type = error.problem?.type ?? "";
    if (type === `${PROBLEM}unknown_player`) return this.text.not_found;
    if (type === `${PROBLEM}linked_elsewhere`) return this.text.link_elsewhere;
    if (error.status === 403) return this.app.strings.forbidden;
    if (error.status === 422) return this.text.link_invalid;
    if (error.status === 503) return this.text.link_unavailable;
    return this.text.link_failed;
  }

  showLinkError(message) {
    this.linkError.hidden = !message;
    this.linkError.textContent = message ?? "";
  }

  /** The panel may have answered before the conversation's ticket (and so its channel) was
   * loaded: whether the chat can be linked is decided again once the channel is known. */
  channelKnown() {
    if (this.shownAccount) this.renderLinkForm(this.shownAccount);
  }

  renderLinkForm(account) {
    this.shownAccount = account;
    const linkable = account.state === "not_linked" && MESSENGERS.has(this.conversation.ticket?.channel);
    this.linkForm.hidden = !linkable;
    if (!linkable) this.showLinkError(null);
  }

  // Rendering -----------------------------------------------------------------------------

  render(context) {
    const { account } = context;
    this.root.dataset.accountState = account.state;
    this.renderAlerts(context);
    this.renderIdentity(context.player, account.profile);
    this.renderState(account);
    this.renderLinkForm(account);
    this.account.replaceChildren(...(WITH_ACCOUNT.has(account.state) ? this.accountSections(account) : []));
    this.renderTickets(context);
    this.checked.textContent = format(this.text.checked, { time: this.app.time.short(context.checked_at) });
  }

  showState(message, { hint = null, retry = false, warn = false } = {}) {
    this.state.hidden = false;
    this.state.classList.toggle("is-warning", warn);
    this.stateText.textContent = message;
    this.stateHint.hidden = !hint;
    this.stateHint.textContent = hint ?? "";
    this.retryButton.hidden = !retry;
  }

  renderState(account) {
    const text = this.text;
    switch (account.state) {
      case "available":
        this.state.hidden = true;
        break;
      case "partial":
        this.showState(text.partial, { retry: true, warn: true });
        break;
      case "unavailable":
        this.showState(text.unavailable, { hint: text.unavailable_hint, retry: true, warn: true });
        break;
      default:
        this.showState(text[account.state] ?? account.state);
    }
  }

  /** Protection flags first, in a warning style: they decide what the agent may offer. */
  renderAlerts(context) {
    const protection = context.account.responsible_gambling;
    const registers = (protection?.national_register_hits ?? []).map((code) => this.name("register", code));
    const alerts = [...context.alerts].sort((a, b) => ALERT_ORDER.indexOf(a) - ALERT_ORDER.indexOf(b));
    const text = this.text;
    const items = alerts.map((code) => {
      let title = code;
      let detail = "";
      if (code === "self_excluded") {
        if (!protection?.self_excluded) {
          // Only the profile says so (the responsible-gambling part did not answer).
          title = this.name("account_status", "self_excluded");
        } else if (protection.self_excluded_until) {
          title = format(text.self_excluded_until, { date: this.date(protection.self_excluded_until) });
        } else {
          title = text.self_excluded_forever;
        }
        detail = text.alert_self_excluded;
      } else if (code === "cooling_off") {
        title = format(text.cooling_off_until, { date: this.dateTime(protection?.cooling_off_until) });
        detail = text.alert_cooling_off;
      } else if (code === "national_register") {
        title = format(text.registers, { registers: registers.join(", ") });
        detail = text.alert_national_register;
      }
      return el(
        "div",
        { class: "pc-alert", "data-testid": "player-alert", dataset: { alert: code } },
        el("strong", { class: "pc-alert-title", text: title }),
        el("span", { class: "pc-alert-detail", text: detail }),
      );
    });
    this.alerts.replaceChildren(...items);
  }

  renderIdentity(player, profile) {
    const strings = this.app.strings;
    const labels = this.app.config.labels;
    const language = player.language || profile?.language;
    const rows = [
      [strings.player_name, player.name || profile?.name],
      [strings.player_email, player.email || profile?.email],
      [strings.player_phone, player.phone || profile?.phone],
      [strings.player_id, player.external_id],
      [strings.player_vip, player.vip_tier || profile?.vip_tier, "vip"],
      [this.text.manager, player.personal_manager_name || profile?.personal_manager],
      [strings.player_language, language ? (labels.language[language] ?? language) : null],
      [strings.player_country, player.country || profile?.country],
      [this.text.registered, profile?.registered_at ? this.date(profile.registered_at) : null],
    ];
    const items = rows
      .filter(([, value]) => value)
      .map(([label, value, key]) =>
        el(
          "div",
          { dataset: key ? { field: key } : {} },
          el("dt", { text: label }),
          el("dd", { class: key === "vip" ? "pc-vip" : null, text: value }),
        ),
      );
    if (profile && profile.status !== "active") {
      items.push(
        el(
          "div",
          {},
          el("dt", { text: this.text.account_status }),
          el("dd", {}, this.badge(this.name("account_status", profile.status), `account-${profile.status}`)),
        ),
      );
    }
    this.identity.replaceChildren(...items);
  }

  accountSections(account) {
    return [
      this.section(this.text.balance, "balance", account.balance, (balance) => this.balance(balance)),
      this.section(this.text.payments, "payments", account.payments, (payments) => this.payments(payments)),
      this.section(this.text.bonuses, "bonuses", account.bonuses, (bonuses) => this.bonuses(bonuses)),
      this.section(this.text.verification, "verification", account.verification, (kyc) => this.verification(kyc)),
      this.section(
        this.text.responsible_gambling,
        "responsible-gambling",
        account.responsible_gambling,
        (protection) => this.protection(protection),
      ),
    ];
  }

  /** One part of the account; a part the back office did not give says so on its own. */
  section(title, key, value, build) {
    const body =
      value === null || value === undefined
        ? el("p", { class: "pc-muted", text: this.text.section_unavailable })
        : build(value);
    return el(
      "section",
      { class: "pc-section", "data-testid": `player-${key}` },
      el("h4", { class: "pc-heading", text: title }),
      body,
    );
  }

  balance(balance) {
    const row = (label, amount, key) =>
      el(
        "div",
        { dataset: { field: key } },
        el("dt", { text: label }),
        el("dd", { class: "pc-amount", text: this.money(amount, balance.currency) }),
      );
    return el(
      "dl",
      { class: "pc-figures" },
      row(this.text.real_money, balance.real_money, "real-money"),
      row(this.text.bonus_money, balance.bonus_money, "bonus-money"),
      row(this.text.withdrawable, balance.withdrawable, "withdrawable"),
    );
  }

  payments(payments) {
    if (payments.length === 0) return el("p", { class: "pc-muted", text: this.text.no_payments });
    return el(
      "ol",
      { class: "pc-list" },
      payments.map((payment) =>
        el(
          "li",
          {
            class: `pc-item pc-payment pc-payment-${payment.kind}`,
            "data-testid": "player-payment",
            dataset: { kind: payment.kind, status: payment.status },
          },
          el(
            "div",
            { class: "pc-row" },
            el("span", { class: "pc-kind", text: this.name("payment_kind", payment.kind) }),
            el("strong", { class: "pc-amount", text: this.money(payment.amount, payment.currency) }),
            this.badge(this.name("payment_status", payment.status), `payment-${payment.status}`),
          ),
          el(
            "div",
            { class: "pc-sub" },
            el("span", { text: payment.method }),
            " · ",
            this.app.time.element(payment.updated_at, "pc-time"),
          ),
          payment.reason ? el("p", { class: "pc-reason", text: payment.reason }) : null,
        ),
      ),
    );
  }

  bonuses(bonuses) {
    if (bonuses.length === 0) return el("p", { class: "pc-muted", text: this.text.no_bonuses });
    return el(
      "ul",
      { class: "pc-list" },
      bonuses.map((bonus) => {
        const active = bonus.status === "active";
        const money = (amount) => this.money(amount, bonus.currency);
        const percent = Math.round(Math.min(1, Math.max(0, Number(bonus.wagering_progress))) * 100);
        const wagered = format(this.text.wagering, {
          done: money(bonus.wagering_done),
          required: money(bonus.wagering_required),
          percent: this.percent.format(percent),
        });
        const terms = [
          bonus.expires_at ? format(this.text.expires, { date: this.date(bonus.expires_at) }) : null,
          bonus.max_bet ? format(this.text.max_bet, { amount: money(bonus.max_bet) }) : null,
          bonus.max_cashout ? format(this.text.max_cashout, { amount: money(bonus.max_cashout) }) : null,
        ].filter(Boolean);
        const games = Object.entries(bonus.game_contributions ?? {}).map(
          ([game, share]) => `${this.name("game", game)} ${this.percent.format(Number(share))}%`,
        );
        return el(
          "li",
          {
            class: `pc-item pc-bonus${active ? "" : " is-inactive"}`,
            "data-testid": "player-bonus",
            dataset: { status: bonus.status },
          },
          el(
            "div",
            { class: "pc-row" },
            el("span", { class: "pc-name", text: bonus.name }),
            this.badge(this.name("bonus_status", bonus.status), `bonus-${bonus.status}`),
          ),
          active && Number(bonus.wagering_required) > 0 ? this.progress(percent, wagered) : null,
          Number(bonus.wagering_required) > 0 ? el("p", { class: "pc-sub", text: wagered }) : null,
          active && terms.length ? el("p", { class: "pc-sub", text: terms.join(" · ") }) : null,
          active && games.length
            ? el("p", { class: "pc-sub", text: format(this.text.contributions, { games: games.join(", ") }) })
            : null,
        );
      }),
    );
  }

  /** An accessible progress bar: role=progressbar with its values and a spoken text. */
  progress(percent, valueText) {
    const bar = el("span", { class: "pc-progress-bar" });
    // CSSOM, not a style attribute: the console's CSP allows no inline styles.
    bar.style.width = `${percent}%`;
    return el(
      "div",
      {
        class: "pc-progress",
        role: "progressbar",
        "aria-label": this.text.wagering_label,
        "aria-valuemin": "0",
        "aria-valuemax": "100",
        "aria-valuenow": String(percent),
        "aria-valuetext": valueText,
        "data-testid": "player-bonus-progress",
      },
      bar,
    );
  }

  verification(verification) {
    const open = verification.documents.filter((document) => document.status !== "approved");
    return el(
      "div",
      { class: "pc-kyc" },
      el(
        "p",
        { class: "pc-row" },
        this.badge(this.name("verification_status", verification.status), `kyc-${verification.status}`),
      ),
      open.length === 0
        ? el("p", { class: "pc-muted", text: this.text.all_documents_approved })
        : el(
            "ul",
            { class: "pc-list" },
            open.map((document) =>
              el(
                "li",
                {
                  class: "pc-item pc-document",
                  "data-testid": "player-document",
                  dataset: { kind: document.kind, status: document.status },
                },
                el(
                  "div",
                  { class: "pc-row" },
                  el("span", { class: "pc-name", text: this.name("document_kind", document.kind) }),
                  this.badge(this.name("document_status", document.status), `document-${document.status}`),
                ),
                document.reason ? el("p", { class: "pc-reason", text: document.reason }) : null,
              ),
            ),
          ),
    );
  }

  protection(protection) {
    const text = this.text;
    const lines = [];
    if (protection.self_excluded) {
      lines.push(
        el("li", {
          class: "pc-item pc-flag",
          text: protection.self_excluded_until
            ? format(text.self_excluded_until, { date: this.date(protection.self_excluded_until) })
            : text.self_excluded_forever,
        }),
      );
    }
    if (protection.cooling_off_active && protection.cooling_off_until) {
      lines.push(
        el("li", {
          class: "pc-item pc-flag",
          text: format(text.cooling_off_until, { date: this.dateTime(protection.cooling_off_until) }),
        }),
      );
    }
    if (protection.national_register_hits.length) {
      const registers = protection.national_register_hits.map((code) => this.name("register", code));
      lines.push(el("li", { class: "pc-item pc-flag", text: format(text.registers, { registers: registers.join(", ") }) }));
    }
    for (const limit of protection.limits) {
      const amount = (value) =>
        limit.kind === "session_minutes" || !limit.currency
          ? format(text.minutes, { minutes: this.percent.format(Number(value)) })
          : this.money(value, limit.currency);
      lines.push(
        el(
          "li",
          { class: "pc-item pc-limit", "data-testid": "player-limit", dataset: { kind: limit.kind } },
          el("span", {
            text: format(text.limit, {
              kind: this.name("limit_kind", limit.kind),
              amount: amount(limit.amount),
              period: this.name("limit_period", limit.period),
            }),
          }),
          limit.pending_amount && limit.pending_from
            ? el("p", {
                class: "pc-sub",
                text: format(text.limit_pending, {
                  amount: amount(limit.pending_amount),
                  date: this.dateTime(limit.pending_from),
                }),
              })
            : null,
        ),
      );
    }
    if (lines.length === 0) return el("p", { class: "pc-muted", text: text.no_limits });
    return el("ul", { class: "pc-list" }, lines);
  }

  renderTickets(context) {
    const labels = this.app.config.labels;
    const items = context.earlier_tickets.map((ticket) => {
      const link = el("a", {
        class: "pc-ticket-link",
        href: `/console/tickets/${Number(ticket.id)}`,
        "data-testid": "player-earlier-ticket",
        dataset: { ticketId: ticket.id },
      });
      link.append(el("span", { class: "pc-ticket-number", text: `#${ticket.number}` }), " ", ticket.subject);
      link.addEventListener("click", (event) => {
        if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        this.app.open(Number(ticket.id), { activate: true });
      });
      return el(
        "li",
        { class: "pc-item" },
        link,
        el(
          "div",
          { class: "pc-sub" },
          el("span", { class: `status status-${ticket.status}`, text: labels.status[ticket.status] ?? ticket.status }),
          " ",
          el("span", { text: labels.channel[ticket.channel] ?? ticket.channel }),
          " · ",
          this.app.time.element(ticket.updated_at, "pc-time"),
        ),
      );
    });
    if (items.length === 0) {
      items.push(el("li", { class: "pc-muted", text: this.text.no_earlier_tickets }));
    } else if (context.more_earlier_tickets) {
      items.push(el("li", { class: "pc-muted", text: this.text.more_earlier_tickets }));
    }
    this.tickets.replaceChildren(...items);
  }

  // Formatting ----------------------------------------------------------------------------

  badge(text, kind) {
    return el("span", { class: `pc-badge pc-badge-${kind}`, text });
  }

  money(amount, currency) {
    let formatter = this.moneyFormats.get(currency);
    if (formatter === undefined) {
      try {
        formatter = new Intl.NumberFormat(this.language, { style: "currency", currency });
      } catch {
        formatter = null; // not an ISO 4217 code: show it as the back office wrote it
      }
      this.moneyFormats.set(currency, formatter);
    }
    const value = Number(amount);
    if (formatter === null || !Number.isFinite(value)) return `${amount} ${currency}`;
    return formatter.format(value);
  }

  date(value) {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? "" : this.dates.format(date);
  }

  dateTime(value) {
    const date = new Date(value);
    return value && !Number.isNaN(date.getTime()) ? this.dateTimes.format(date) : "";
  }
}
