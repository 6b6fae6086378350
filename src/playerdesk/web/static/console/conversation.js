// One open conversation: its tab, history, live messages, composer and actions.

import { ApiError, api } from "./api.js";
import { CannedComposer } from "./canned.js";
import { el, fillSelect, format, uuid } from "./dom.js";
import { KnowledgePanel } from "./knowledge.js";
import { PlayerContextPanel } from "./player_context.js";
import { SocketUnavailable } from "./socket.js";
import { WhatsAppTemplates } from "./whatsapp_templates.js";

const DRAFT_KEY = "playerdesk.console.draft.";
const TYPING_IDLE_MS = 3000;
const TYPING_REPEAT_MS = 5000;
const PLAYER_TYPING_TIMEOUT_MS = 8000;
const NEAR_BOTTOM_PX = 96;
// WhatsApp's customer-service window: free-form replies until 24 h after the player wrote.
const WHATSAPP_WINDOW_MS = 24 * 60 * 60 * 1000;
// setTimeout's longest delay (about 24.8 days); the window is shorter anyway.
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Conversation {
  constructor(app, ticketId) {
    this.app = app;
    this.id = ticketId;
    this.ticket = null;
    this.loaded = Promise.resolve(); // the latest load of the conversation, once it is done
    // Whether a load has answered: live frames before it fill `ticket` only in part.
    this.hasLoaded = false;
    this.liveWhileLoading = null; // what live frames changed while the conversation loads
    this.messages = new Map(); // id -> element
    this.lastId = 0;
    this.readSent = 0;
    this.playerReadUpTo = 0;
    this.playerDeliveredUpTo = 0;
    this.mode = "reply";
    this.sending = false;
    this.pendingClientId = null;
    this.typingSentAt = 0;
    this.typingIdle = null;
    this.playerTypingTimer = null;
    this.unread = 0;
    this.buildTab();
    this.buildPane();
    this.restoreDraft();
  }

  get strings() {
    return this.app.strings;
  }

  // Building ------------------------------------------------------------------------------

  buildTab() {
    this.tabNumber = el("span", { class: "tab-number", text: "…" });
    this.tabSubject = el("span", { class: "tab-subject" });
    this.tabUnread = el("span", { class: "tab-unread", hidden: true });
    this.tabButton = el(
      "button",
      {
        type: "button",
        role: "tab",
        class: "tab-button",
        id: `tab-${this.id}`,
        "aria-controls": `pane-${this.id}`,
        "aria-selected": "false",
        "data-testid": "conversation-tab",
      },
      this.tabNumber,
      this.tabSubject,
      this.tabUnread,
    );
    this.tabClose = el("button", {
      type: "button",
      class: "tab-close",
      "aria-label": this.strings.close_tab,
      title: this.strings.close_tab,
      text: "×",
    });
    this.tab = el(
      "div",
      { class: "tab", role: "presentation", dataset: { ticketId: this.id } },
      this.tabButton,
      this.tabClose,
    );
    this.tabButton.addEventListener("click", () => this.app.activate(this.id));
    this.tabClose.addEventListener("click", () => this.app.close(this.id));
  }

  buildPane() {
    const template = document.getElementById("conversation-template");
    this.root = template.content.firstElementChild.cloneNode(true);
    this.root.id = `pane-${this.id}`;
    this.root.setAttribute("aria-labelledby", `tab-${this.id}`);
    this.root.dataset.ticketId = String(this.id);
    this.root.hidden = true;
    const find = (selector) => this.root.querySelector(selector);
    this.fields = {
      subject: find('[data-field="subject"]'),
      number: find('[data-field="number"]'),
      channel: find('[data-field="channel"]'),
      status: find('[data-field="status"]'),
      priority: find('[data-field="priority"]'),
      language: find('[data-field="language"]'),
      statusSelect: find('[data-field="status-select"]'),
      prioritySelect: find('[data-field="priority-select"]'),
      assigneeSelect: find('[data-field="assignee-select"]'),
      teamSelect: find('[data-field="team-select"]'),
      sla: find("[data-sla]"),
      escalationLevel: find('[data-field="escalation-level"]'),
      bot: el("span", {
        class: "bot-badge",
        "data-testid": "conversation-bot",
        title: this.strings.bot_answering,
        text: this.strings.bot,
        hidden: true,
      }),
    };
    this.fields.channel.after(this.fields.bot);
    this.escalationList = find("[data-escalation-list]");
    this.escalationNone = find("[data-escalation-none]");
    this.list = find("[data-messages]");
    this.listState = find("[data-messages-state]");
    this.jump = find("[data-jump]");
    this.typing = find("[data-typing]");
    this.composer = find("[data-composer]");
    this.input = find("[data-composer-input]");
    this.sendButton = find("[data-composer-send]");
    this.composerError = find("[data-composer-error]");
    this.canned = new CannedComposer(this);
    this.playerContext = new PlayerContextPanel(this, find("[data-player-context]"));
    this.knowledge = new KnowledgePanel(this);
    this.addressFailing = find("[data-address-failing]");
    this.whatsappWindow = el("p", {
      class: "address-failing",
      role: "status",
      "data-testid": "whatsapp-window",
      text: this.strings.whatsapp_window_closed,
      hidden: true,
    });
    this.whatsappWindowTimer = null;
    this.composer.before(this.whatsappWindow);
    this.whatsappTemplates = new WhatsAppTemplates(this);
    this.buttons = {
      assignMe: find('[data-action="assign-me"]'),
      resolve: find('[data-action="resolve"]'),
      reopen: find('[data-action="reopen"]'),
      player: find('[data-action="player"]'),
      escalate: find('[data-action="escalate"]'),
      transfer: find('[data-action="transfer"]'),
    };
    for (const radio of this.root.querySelectorAll("[data-mode]")) {
      radio.name = `mode-${this.id}`;
      radio.addEventListener("change", () => this.setMode(radio.value, { focus: false }));
    }
    this.composer.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.send();
      } else if (event.key === "Escape") {
        event.preventDefault();
        this.input.blur();
      }
    });
    this.input.addEventListener("input", () => this.onInput());
    this.input.addEventListener("blur", () => this.stopTyping());
    this.list.addEventListener("scroll", () => {
      if (this.nearBottom()) this.jump.hidden = true;
    });
    this.jump.addEventListener("click", () => this.scrollToEnd());
    this.buttons.assignMe.addEventListener("click", () => this.assignToMe());
    this.buttons.resolve.addEventListener("click", () => this.resolve());
    this.buttons.reopen.addEventListener("click", () => this.change({ status: "open" }));
    this.buttons.player.addEventListener("click", () => this.playerContext.open(this.buttons.player));
    this.buttons.escalate.addEventListener("click", () => this.escalate());
    this.buttons.transfer.addEventListener("click", () => this.transfer());
    this.fields.statusSelect.addEventListener("change", (event) =>
      this.change({ status: event.target.value }),
    );
    this.fields.prioritySelect.addEventListener("change", (event) =>
      this.change({ priority: event.target.value }),
    );
    this.fields.assigneeSelect.addEventListener("change", (event) =>
      this.change({ assignee_id: event.target.value ? Number(event.target.value) : null }),
    );
    this.fields.teamSelect.addEventListener("change", (event) =>
      this.change({ team_id: event.target.value ? Number(event.target.value) : null }),
    );
    this.setMode("reply", { focus: false });
  }

  // Loading -------------------------------------------------------------------------------

  load() {
    this.loaded = this.fetchAndShow();
    return this.loaded;
  }

  async fetchAndShow() {
    // The server may have answered before live frames that arrive while this loads: they
    // are applied again on top of its answer, or the pane would show the older state.
    const live = [];
    this.liveWhileLoading = live;
    try {
      const data = await api.get(`/console/tickets/${this.id}/conversation`);
      this.app.clock.sync(data.now);
      this.applyTicket(data.ticket);
      this.hasLoaded = true;
      this.showEscalations(data.escalations);
      for (const again of live) again();
      this.showAddressFailing(data.address_failing);
      this.showWhatsAppWindow(data.whatsapp_window_closes_at);
      this.playerReadUpTo = data.ticket.player_read_up_to ?? 0;
      this.playerDeliveredUpTo = data.ticket.player_delivered_up_to ?? 0;
      for (const message of data.messages) this.addMessage(message, { live: false });
      if (data.messages.length === 0) this.showState(this.strings.empty_conversation);
      this.updateReceipts();
      this.scrollToEnd();
      this.markRead();
    } catch (error) {
      this.showState(error?.status === 404 ? this.strings.not_found : this.strings.load_failed);
      this.root.classList.add("is-broken");
    } finally {
      if (this.liveWhileLoading === live) this.liveWhileLoading = null;
    }
  }

  /** A live frame's effect: now, and again after a load under way. */
  applyLive(effect) {
    effect();
    this.liveWhileLoading?.push(effect);
  }

  showState(text) {
    this.listState.textContent = text;
    this.listState.hidden = false;
  }

  // The ticket ------------------------------------------------------------------------------

  applyTicket(changes) {
    this.ticket = { ...(this.ticket ?? {}), ...changes };
    const ticket = this.ticket;
    const { labels, transitions } = this.app.config;
    this.app.learnName(ticket.assignee_id, ticket.assignee_name);
    if (ticket.subject !== undefined) {
      this.fields.subject.textContent = ticket.subject;
      this.tabSubject.textContent = ticket.subject;
      this.tabButton.title = ticket.subject;
    }
    if (ticket.number !== undefined) {
      this.fields.number.textContent = `#${ticket.number}`;
      this.tabNumber.textContent = `#${ticket.number}`;
    }
    if (ticket.channel) {
      this.fields.channel.className = `channel channel-${ticket.channel}`;
      this.fields.channel.textContent = labels.channel[ticket.channel] ?? ticket.channel;
      this.playerContext.channelKnown();
    }
    if (ticket.language) {
      this.fields.language.textContent = labels.language[ticket.language] ?? ticket.language;
    }
    if (changes.sla !== undefined) this.app.slaBadges.set(this.fields.sla, ticket.sla);
    this.fields.bot.hidden = ticket.bot_state !== "active";
    if (ticket.escalation_level !== undefined) {
      const level = Number(ticket.escalation_level);
      this.fields.escalationLevel.hidden = level <= 0;
      this.fields.escalationLevel.textContent = format(this.strings.escalation_level, { level });
    }
    if (ticket.priority !== undefined) {
      this.fields.priority.className = `priority priority-${ticket.priority}`;
      this.fields.priority.textContent = labels.priority[ticket.priority] ?? ticket.priority;
      this.fields.prioritySelect.value = ticket.priority;
    }
    // What arrives before the load (an SLA badge, an escalation) may not tell the status:
    // what follows from it waits for the load, instead of hiding actions meanwhile.
    const status = ticket.status;
    if (status === undefined) return;
    this.fields.status.className = `status status-${status}`;
    this.fields.status.textContent = labels.status[status] ?? status;
    this.root.dataset.status = status;

    const reachable = [status, ...(transitions[status] ?? [])];
    fillSelect(
      this.fields.statusSelect,
      reachable.map((value) => [value, labels.status[value] ?? value]),
      status,
    );
    this.fields.statusSelect.disabled = reachable.length === 1;
    fillSelect(this.fields.assigneeSelect, this.app.assigneeOptions(ticket), ticket.assignee_id);
    fillSelect(
      this.fields.teamSelect,
      [["", this.strings.no_team], ...this.app.config.teams.map((team) => [team.id, team.name])],
      ticket.team_id,
    );

    const mine = ticket.assignee_id === this.app.me.id;
    this.buttons.assignMe.hidden = mine;
    const canResolve = (transitions[status] ?? []).includes("resolved");
    this.buttons.resolve.hidden = !canResolve;
    this.buttons.reopen.hidden = status !== "resolved";
    const closed = status === "closed";
    this.input.disabled = closed;
    this.sendButton.disabled = closed || this.sending;
    this.whatsappTemplates?.refresh();
    const done = status === "resolved" || closed;
    this.buttons.escalate.hidden = done;
    this.buttons.transfer.hidden = done;
  }

  /** An answer of the REST API: its `sla` is the API's shape, not the badge's, so the badge
   * asks the console for its own. */
  fromApi(ticket) {
    const { sla: _apiSla, ...rest } = ticket;
    this.app.slaRefresher.want(this.id);
    return rest;
  }

  /** A PATCH through the REST API; the answer (and the ticket.updated frame) update the page. */
  async change(changes, { success } = {}) {
    try {
      const ticket = this.fromApi(await api.patch(`/api/v1/tickets/${this.id}`, changes));
      this.applyTicket(ticket);
      this.app.inbox.upsert({ ...ticket, unread: undefined });
      if (success) this.app.toast(success);
      return true;
    } catch (error) {
      this.app.toast(this.errorText(error, this.strings.update_failed), "error");
      if (this.ticket) this.applyTicket({}); // put the selects back
      return false;
    }
  }

  /** Whether the conversation is known. An action pressed before it has loaded (a busy
   * server) waits for the load instead of doing nothing, or acting on the part of the
   * ticket live frames told; the loaded status then decides whether it applies. */
  async known() {
    if (!this.hasLoaded) await this.loaded;
    return this.hasLoaded;
  }

  async assignToMe() {
    if (!(await this.known()) || this.ticket.assignee_id === this.app.me.id) return;
    this.change({ assignee_id: this.app.me.id }, { success: this.strings.assigned_to_you });
  }

  async resolve() {
    if (!(await this.known()) || this.buttons.resolve.hidden) return;
    this.change({ status: "resolved" }, { success: this.strings.resolved });
  }

  async escalate() {
    if ((await this.known()) && !this.buttons.escalate.hidden) this.app.dialogs.escalate(this);
  }

  async transfer() {
    if ((await this.known()) && !this.buttons.transfer.hidden) this.app.dialogs.transfer(this);
  }

  onEscalated(frame) {
    this.applyLive(() => {
      this.applyTicket({ escalation_level: frame.level, priority: frame.priority, team_id: frame.team_id });
      this.loadEscalations();
    });
  }

  async loadEscalations() {
    try {
      const data = await api.get(`/console/tickets/${this.id}/escalations`);
      this.applyTicket({ escalation_level: data.level });
      this.showEscalations(data.escalations);
    } catch {
      // The history shows again the next time the conversation loads.
    }
  }

  teamName(teamId) {
    if (teamId === null || teamId === undefined) return this.strings.no_team;
    return this.app.config.teams.find((team) => team.id === teamId)?.name ?? `#${teamId}`;
  }

  /** Who escalated, when, why, and what it changed; newest first. */
  showEscalations(escalations = []) {
    const { labels } = this.app.config;
    const items = [...escalations].reverse().map((item) => {
      const changes = [];
      if (item.from_team_id !== item.to_team_id) {
        changes.push(format(this.strings.escalation_team, {
          from: this.teamName(item.from_team_id),
          to: this.teamName(item.to_team_id),
        }));
      }
      if (item.from_priority !== item.to_priority) {
        changes.push(format(this.strings.escalation_priority, {
          from: labels.priority[item.from_priority] ?? item.from_priority,
          to: labels.priority[item.to_priority] ?? item.to_priority,
        }));
      }
      return el(
        "li",
        { class: "escalation", "data-testid": "escalation", dataset: { level: item.level, trigger: item.trigger } },
        el(
          "p",
          { class: "escalation-head" },
          el("span", { class: "escalation-badge", text: format(this.strings.escalation_level, { level: item.level }) }),
          el("span", { class: "escalation-trigger", text: labels.trigger[item.trigger] ?? item.trigger }),
        ),
        el(
          "p",
          { class: "escalation-who" },
          el("span", { text: item.agent_name || this.strings.escalation_automatic }),
          " · ",
          this.app.time.element(item.created_at, "escalation-time"),
        ),
        el("p", { class: "escalation-reason", "data-testid": "escalation-reason", text: item.reason }),
        changes.length ? el("p", { class: "escalation-changes", text: changes.join(" · ") }) : null,
      );
    });
    this.escalationList.replaceChildren(...items);
    this.escalationNone.hidden = items.length > 0;
  }

  onUpdated(frame) {
    const changes = {
      status: frame.status,
      priority: frame.priority,
      assignee_id: frame.assignee_id ?? null,
      team_id: frame.team_id ?? null,
      assignee_name: undefined,
    };
    if ("bot_state" in (frame.changes ?? {})) changes.bot_state = frame.changes.bot_state[1];
    this.applyLive(() => this.applyTicket(changes));
    if ("player_id" in (frame.changes ?? {})) this.playerContext.playerChanged();
  }

  /** A public reply by a person ends the bot's part in the conversation (as the server
   * records it); the badge goes without waiting for the next load. */
  botHandedOver() {
    if (this.ticket?.bot_state !== "active") return;
    this.applyTicket({ bot_state: "handed_off" });
    const item = this.app.inbox.item(this.id);
    if (item) this.app.inbox.apply(item, { id: this.id, bot_state: "handed_off" });
  }

  errorText(error, fallback) {
    if (!(error instanceof ApiError)) return fallback;
    if (error.status === 409) return this.strings.conflict;
    if (error.status === 403) return this.strings.forbidden;
    if (error.status === 404) return this.strings.not_found;
    return fallback;
  }

  // Messages ------------------------------------------------------------------------------

  authorName(message) {
    switch (message.author) {
      case "player":
        return this.strings.player;
      case "bot":
        return this.strings.bot;
      case "system":
        return this.strings.system;
      default:
        return message.author_name || this.strings.agent;
    }
  }

  renderMessage(message) {
    const note = message.kind === "note";
    const classes = ["message", `message-${message.author}`];
    if (note) classes.push("message-note");
    const head = el(
      "header",
      { class: "message-head" },
      el("span", { class: "message-author", text: this.authorName(message) }),
      note ? el("span", { class: "message-tag", text: this.strings.note }) : null,
      this.app.time.element(message.created_at, "message-time"),
    );
    const body = el("div", { class: "message-body", text: message.body });
    // What the bot offered the player to press, shown as it was offered: the agent cannot
    // press them.
    const quickReplies = (message.quick_replies ?? []).map((item) =>
      el("li", { class: "quick-reply", dataset: { replyId: item.id }, text: item.label }),
    );
    const attachments = (message.attachments ?? []).map((item) =>
      el(
        "li",
        {},
        el("a", {
          href: `/api/v1/attachments/${Number(item.id)}`,
          download: item.filename,
          text: item.filename || this.strings.attachment,
        }),
        el("span", { class: "attachment-size", text: ` ${this.app.time.bytes(item.size)}` }),
      ),
    );
    return el(
      "article",
      {
        class: classes.join(" "),
        "data-testid": "conversation-message",
        dataset: { messageId: message.id, kind: message.kind ?? "reply", author: message.author },
      },
      head,
      message.body ? body : null,
      quickReplies.length
        ? el(
            "ul",
            {
              class: "message-quick-replies",
              "aria-label": this.strings.quick_replies,
              title: this.strings.quick_replies,
              "data-testid": "message-quick-replies",
            },
            quickReplies,
          )
        : null,
      attachments.length ? el("ul", { class: "message-attachments" }, attachments) : null,
      message.redacted ? el("p", { class: "message-flag", text: this.strings.redacted }) : null,
      message.author === "agent" && !note
        ? el("p", { class: "message-receipt", "data-testid": "message-receipt", hidden: true })
        : null,
      message.delivery ? this.renderDelivery(message.delivery) : null,
      message.from_email
        ? el(
            "p",
            { class: "message-original" },
            el("a", {
              href: `/api/v1/tickets/${Number(this.id)}/messages/${Number(message.id)}/original`,
              download: "",
              text: this.strings.original_email,
              "data-testid": "message-original",
            }),
          )
        : null,
    );
  }

  /** Under a reply that went out by email or to a messenger: where its copy stands. */
  renderDelivery(delivery) {
    const node = el("p", { class: "message-delivery", "data-testid": "message-delivery" });
    this.fillDelivery(node, delivery);
    return node;
  }

  fillDelivery(node, { status, attempts, error }) {
    const state = status === "pending" && attempts > 0 ? "retrying" : status;
    node.dataset.status = state;
    // Email conversations say "email"; messenger replies go to the player's chat.
    const mail = ["email", "form"].includes(this.ticket?.channel ?? "email");
    const key = mail ? `delivery_${state}` : `delivery_chat_${state}`;
    node.textContent = this.strings[key] ?? this.strings[`delivery_${state}`] ?? status;
    node.title = error ?? "";
  }

  /** A `delivery` frame: the outbox tried, sent or gave up on a reply's email. */
  onDelivery(frame) {
    const node = this.messages.get(Number(frame.message_id));
    if (!node) return;
    const existing = node.querySelector(".message-delivery");
    if (existing) this.fillDelivery(existing, frame);
    else node.append(this.renderDelivery(frame));
  }

  showAddressFailing(failing) {
    this.addressFailing.hidden = !failing;
    if (!failing) return;
    this.addressFailing.textContent = this.strings.address_failing
      .replace("{address}", failing.address)
      .replace("{reason}", failing.reason || "?");
  }

  /** Before the agent types: outside WhatsApp's 24-hour window a reply is refused. */
  showWhatsAppWindow(closesAt) {
    clearTimeout(this.whatsappWindowTimer);
    if (this.ticket?.channel !== "whatsapp") {
      this.whatsappWindow.hidden = true;
      this.whatsappTemplates.refresh();
      return;
    }
    const left = closesAt ? Date.parse(closesAt) - this.app.clock.now() : 0;
    this.whatsappWindow.hidden = left > 0;
    // Outside the window the composer offers the approved templates instead of a reply.
    this.whatsappTemplates.refresh();
    if (left > 0) {
      this.whatsappWindowTimer = setTimeout(
        () => this.showWhatsAppWindow(closesAt),
        Math.min(left + 1000, MAX_TIMER_MS),
      );
    }
  }

  nearBottom() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToEnd() {
    this.list.scrollTop = this.list.scrollHeight;
    this.jump.hidden = true;
  }

  /** Add a message once, in id order; true when it was new. */
  addMessage(message, { live = true, own = false } = {}) {
    const id = Number(message.id);
    if (this.messages.has(id)) return false;
    const stick = own || this.nearBottom();
    const node = this.renderMessage(message);
    this.listState.hidden = true;
    if (id > this.lastId) {
      this.list.append(node);
      this.lastId = id;
    } else {
      const later = [...this.messages.entries()].filter(([other]) => other > id).sort((a, b) => a[0] - b[0]);
      this.list.insertBefore(node, later.length ? later[0][1] : null);
    }
    this.messages.set(id, node);
    if (live && message.author === "agent" && message.kind !== "note") this.botHandedOver();
    if (live) {
      if (stick) this.scrollToEnd();
      else this.jump.hidden = false;
    }
    return true;
  }

  /** message.posted for this conversation. */
  onMessage(message) {
    const isNew = this.addMessage(message);
    if (!isNew) return;
    if (message.author === "player") {
      this.setPlayerTyping(false);
      if (this.ticket?.channel === "whatsapp") {
        const wrote = Date.parse(message.created_at);
        if (!Number.isNaN(wrote)) {
          this.showWhatsAppWindow(new Date(wrote + WHATSAPP_WINDOW_MS).toISOString());
        }
      }
      if (!this.app.isReading(this.id)) this.setUnread(this.unread + 1);
    }
    this.updateReceipts();
    this.markRead();
  }

  /** The player's widget or messenger app received or showed our messages up to an id. */
  onReceipt(frame) {
    if (frame.side !== "player") return;
    this.playerReadUpTo = Math.max(this.playerReadUpTo, frame.read_up_to ?? 0);
    this.playerDeliveredUpTo = Math.max(this.playerDeliveredUpTo, frame.delivered_up_to ?? 0);
    this.updateReceipts();
  }

  /**
   * "Read by the player" under the last agent reply the player has seen, and "Delivered to
   * the player" under a later one that reached them but is not read yet.
   */
  updateReceipts() {
    const delivered = Math.max(this.playerDeliveredUpTo, this.playerReadUpTo);
    let read = null;
    let received = null;
    for (const [id, node] of this.messages) {
      const receipt = node.querySelector(".message-receipt");
      if (!receipt) continue;
      receipt.hidden = true;
      if (id <= this.playerReadUpTo && (!read || id > read[0])) read = [id, receipt];
      else if (id > this.playerReadUpTo && id <= delivered && (!received || id > received[0])) {
        received = [id, receipt];
      }
    }
    for (const [mark, key] of [
      [read, "read"],
      [received, "delivered"],
    ]) {
      if (!mark) continue;
      mark[1].hidden = false;
      mark[1].dataset.receipt = key;
      mark[1].textContent = key === "read" ? this.strings.read_by_player : this.strings.delivered_to_player;
    }
  }

  setUnread(count) {
    this.unread = count;
    this.tabUnread.hidden = count <= 0;
    this.tabUnread.textContent = String(count);
    this.tabUnread.setAttribute("aria-label", format(this.strings.unread, { count }));
  }

  /** Tell the server (and the other agents) what this agent has seen. */
  markRead() {
    if (!this.app.isReading(this.id)) return;
    if (this.lastId > this.readSent && this.app.socket.read(this.id, this.lastId)) {
      this.readSent = this.lastId;
    }
    this.setUnread(0);
    this.app.inbox.setUnread(this.id, 0);
  }

  // Typing --------------------------------------------------------------------------------

  onTyping(typing) {
    this.setPlayerTyping(typing);
  }

  setPlayerTyping(typing) {
    clearTimeout(this.playerTypingTimer);
    this.typing.textContent = typing ? this.strings.typing : "";
    this.typing.hidden = !typing;
    // A lost "stopped typing" must not leave the indicator on for ever.
    if (typing) this.playerTypingTimer = setTimeout(() => this.setPlayerTyping(false), PLAYER_TYPING_TIMEOUT_MS);
  }

  onInput() {
    this.pendingClientId = null; // an edited text is a new message
    this.composerError.hidden = true;
    this.saveDraft();
    // Only a reply is something the player waits for: writing a note shows them nothing.
    if (this.mode !== "reply") return;
    if (!this.input.value.trim()) {
      this.stopTyping();
      return;
    }
    const now = Date.now();
    if (now - this.typingSentAt > TYPING_REPEAT_MS) {
      this.app.socket.typing(this.id, true);
      this.typingSentAt = now;
    }
    clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.typingIdle);
    if (this.typingSentAt) {
      this.app.socket.typing(this.id, false);
      this.typingSentAt = 0;
    }
  }

  // Composer --------------------------------------------------------------------------------

  setMode(mode, { focus = true } = {}) {
    if (mode !== this.mode) this.stopTyping();
    this.mode = mode === "note" ? "note" : "reply";
    for (const radio of this.root.querySelectorAll("[data-mode]")) {
      radio.checked = radio.value === this.mode;
    }
    const note = this.mode === "note";
    this.composer.classList.toggle("is-note", note);
    this.input.placeholder = note ? this.strings.note_placeholder : this.strings.reply_placeholder;
    this.sendButton.textContent = note ? this.strings.send_note : this.strings.send_reply;
    this.whatsappTemplates?.refresh();
    if (focus) this.focusComposer();
  }

  focusComposer() {
    if (!this.input.disabled) this.input.focus();
  }

  async send() {
    if (!(await this.known())) return;
    const body = this.input.value.trim();
    if (!body || this.sending) return;
    if (!this.canned.readyToSend(body, this.mode)) return;
    this.sending = true;
    this.sendButton.disabled = true;
    this.sendButton.textContent = this.strings.sending;
    this.composerError.hidden = true;
    // Kept across a failed attempt: retrying the same text cannot store it twice.
    this.pendingClientId ??= uuid();
    const kind = this.mode;
    const sent = this.input.value;
    const clientMsgId = this.pendingClientId;
    try {
      // Started before the composer empties: it reads the canned reply chosen for this text.
      const cannedSent = this.canned.send({ body, kind, clientMsgId });
      this.takeOut();
      const message = (await cannedSent) ?? await this.post({
        body,
        kind,
        client_msg_id: clientMsgId,
      });
      this.pendingClientId = null;
      if (!this.input.value) this.clearDraft();
      this.addMessage(
        {
          id: message.id,
          ticket_id: message.ticket_id,
          author: message.author_kind,
          author_name: this.app.me.name,
          kind: message.kind,
          body: message.body,
          redacted: message.redacted,
          created_at: message.created_at,
          attachments: message.attachments,
        },
        { own: true },
      );
      this.app.inbox.activity(this.id, { author: "agent", read: true });
      this.markRead();
    } catch (error) {
      this.putBack({ sent, clientMsgId });
      this.composerError.textContent = this.errorText(error, this.strings.send_failed);
      this.composerError.hidden = false;
    } finally {
      this.sending = false;
      this.setMode(this.mode, { focus: false });
      this.sendButton.disabled = this.ticket?.status === "closed";
    }
  }

  /** Empties the composer as a reply goes out, so that the agent can begin the next message
   * at once, wherever the caret was. The stored draft keeps the text until the server has
   * it or the agent types again. */
  takeOut() {
    this.input.value = "";
    this.stopTyping();
  }

  /** A reply that failed comes back into the composer, ahead of anything typed since. */
  putBack({ sent, clientMsgId }) {
    const typedSince = this.input.value;
    this.input.value = typedSince ? `${sent}\n${typedSince}` : sent;
    if (typedSince) {
      this.input.dispatchEvent(new Event("input"));
    } else {
      // The same text keeps its message id: a retry cannot store it twice.
      this.pendingClientId = clientMsgId;
      this.saveDraft();
      this.canned.refreshUnfilled();
    }
  }

  /** A reply or note over the console socket, or the REST API while the socket is down. */
  async post(message) {
    try {
      return await this.app.socket.postMessage({ ticket_id: this.id, ...message });
    } catch (error) {
      if (!(error instanceof SocketUnavailable)) throw error;
      return api.post(`/api/v1/tickets/${this.id}/messages`, message);
    }
  }

  saveDraft() {
    try {
      if (this.input.value) sessionStorage.setItem(DRAFT_KEY + this.id, this.input.value);
      else sessionStorage.removeItem(DRAFT_KEY + this.id);
    } catch {
      // Storage full or disabled: the draft still lives in the open pane.
    }
  }

  restoreDraft() {
    try {
      const draft = sessionStorage.getItem(DRAFT_KEY + this.id);
      if (draft) this.input.value = draft;
    } catch {
      // No storage: nothing to restore.
    }
  }

  clearDraft() {
    try {
      sessionStorage.removeItem(DRAFT_KEY + this.id);
    } catch {
      // Nothing to clear.
    }
  }

  // Life cycle ----------------------------------------------------------------------------

  show(visible) {
    this.root.hidden = !visible;
    this.tab.classList.toggle("is-active", visible);
    this.tabButton.setAttribute("aria-selected", String(visible));
    this.tabButton.tabIndex = visible ? 0 : -1;
    if (visible) {
      if (this.nearBottom() || this.jump.hidden) this.scrollToEnd();
      this.markRead();
    } else {
      this.stopTyping();
    }
  }

  destroy() {
    this.stopTyping();
    clearTimeout(this.whatsappWindowTimer);
    clearTimeout(this.playerTypingTimer);
    this.tab.remove();
    this.root.remove();
  }
}
