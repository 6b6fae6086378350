// The agent console: the live inbox and several open conversations, over /ws/console and
// the REST API. Server-rendered texts come from the page's JSON data block.

import { ActionDialogs } from "./actions.js";
import { CallPopups } from "./calls.js";
import { Chime, DesktopNotifications, Toasts } from "./alerts.js";
import { api, whenSignedOut } from "./api.js";
import { Conversation } from "./conversation.js";
import { TimeFormat, format } from "./dom.js";
import { Inbox } from "./inbox.js";
import { installShortcuts } from "./shortcuts.js";
import { ServerClock, SlaBadges, SlaRefresher } from "./sla.js";
import { ConsoleSocket } from "./socket.js";

const TABS_KEY = "playerdesk.console.tabs";
const MAX_OPEN = 8;

class ConsoleApp {
  constructor(config) {
    this.config = config;
    this.strings = config.strings;
    this.me = config.me;
    this.names = new Map(Object.entries(config.names).map(([id, name]) => [Number(id), name]));
    for (const agent of config.agents ?? []) this.names.set(agent.id, agent.name);
    this.pendingNames = new Set();
    this.baseTitle = document.title;
    this.time = new TimeFormat(config.language);
    this.conversations = new Map(); // ticket id -> Conversation, in tab order
    this.activeId = null;
    this.tabbar = document.querySelector("[data-tabs]");
    this.panes = document.querySelector("[data-panes]");
    this.deskEmpty = document.querySelector("[data-desk-empty]");
    this.banner = document.querySelector("[data-connection]");
    this.presenceGroup = document.querySelector("[data-presence]");

    const toasts = new Toasts(document.querySelector("[data-toasts]"));
    this.toast = (message, kind) => toasts.show(message, kind);
    this.chime = new Chime(document.querySelector('[data-action="sound"]'));
    this.notifications = new DesktopNotifications(
      document.querySelector('[data-action="notifications"]'),
      { strings: this.strings, toast: this.toast },
    );
    this.clock = new ServerClock(config.now);
    this.slaBadges = new SlaBadges({
      clock: this.clock,
      states: config.labels.sla,
      metrics: config.labels.metric,
      daysTemplate: this.strings.duration_days,
    });
    this.slaRefresher = new SlaRefresher({
      clock: this.clock,
      wanted: (ticketId) => Boolean(this.inbox.item(ticketId) || this.conversations.has(ticketId)),
      apply: (ticketId, sla) => {
        this.conversations.get(ticketId)?.applyTicket({ sla });
        if (this.inbox.item(ticketId)) this.inbox.upsert({ id: ticketId, sla });
      },
    });
    this.dialogs = new ActionDialogs(this);
    this.calls = new CallPopups({ strings: this.strings, chime: this.chime });
    this.inbox = new Inbox(this);
    this.slaBadges.start(document);
    this.updateTitle();

    const presence = this.me.presence === "away" ? "away" : "online";
    this.socket = new ConsoleSocket({
      presence,
      onFrame: (frame) => this.onFrame(frame),
      onState: (connected, reconnected) => this.onConnection(connected, reconnected),
      onSignedOut: () => this.signedOut(),
    });
    whenSignedOut(() => this.signedOut());
    this.showPresence(presence);
    for (const button of this.presenceGroup?.querySelectorAll("[data-presence-value]") ?? []) {
      button.addEventListener("click", () => this.setPresence(button.dataset.presenceValue));
    }
    // Close the socket before the sign-out request, so no heartbeat marks the agent online again.
    document.querySelector("[data-logout]")?.addEventListener("submit", () => this.socket.stop());
    document.addEventListener("visibilitychange", () => this.activeConversation?.markRead());
    window.addEventListener("focus", () => this.activeConversation?.markRead());
    installShortcuts(this);

    this.restoreTabs();
    this.socket.start();
  }

  get activeConversation() {
    return this.activeId === null ? null : (this.conversations.get(this.activeId) ?? null);
  }

  /** Is the agent looking at this conversation right now? */
  isReading(ticketId) {
    return this.activeId === ticketId && document.visibilityState === "visible";
  }

  // Names ---------------------------------------------------------------------------------

  learnName(agentId, name) {
    if (agentId && name) this.names.set(agentId, name);
  }

  /** A conversation went to someone whose name this page does not know yet: ask once. */
  learnAssignee(frame) {
    const agentId = frame.assignee_id;
    if (!agentId || this.names.has(agentId) || this.pendingNames.has(agentId)) return;
    this.pendingNames.add(agentId);
    api
      .get(`/console/tickets/${frame.ticket_id}/summary`)
      .then(({ ticket }) => {
        this.learnName(ticket.assignee_id, ticket.assignee_name);
        if (ticket.assignee_id !== agentId) return;
        this.conversations.get(ticket.id)?.applyTicket({ assignee_name: ticket.assignee_name });
        const item = this.inbox.item(ticket.id);
        if (item) this.inbox.apply(item, { id: ticket.id, assignee_id: agentId, assignee_name: ticket.assignee_name });
      })
      .catch(() => {})
      .finally(() => this.pendingNames.delete(agentId));
  }

  /** "(3) Inbox · PlayerDesk": unread player messages show in the browser tab too. */
  updateTitle() {
    if (!this.inbox) return; // still being built
    const total = this.inbox.items().reduce((sum, item) => sum + Number(item.dataset.unread || 0), 0);
    document.title = total > 0 ? `(${total}) ${this.baseTitle}` : this.baseTitle;
  }

  assigneeLabel(agentId, name) {
    if (agentId === null || agentId === undefined) return this.strings.unassigned;
    if (agentId === this.me.id) return this.strings.you;
    return name || this.names.get(agentId) || this.strings.assigned;
  }

  /** Who a conversation can be given to: what this agent's role may see of the roster. */
  assigneeOptions(ticket) {
    const options = [
      ["", this.strings.unassigned],
      [this.me.id, format(this.strings.me_option, { name: this.me.name })],
    ];
    for (const agent of this.config.agents ?? []) {
      if (agent.id !== this.me.id) options.push([agent.id, agent.name]);
    }
    const current = ticket.assignee_id;
    if (current && !options.some(([id]) => id === current)) {
      options.push([current, this.assigneeLabel(current, ticket.assignee_name)]);
    }
    return options;
  }

  // Presence and connection -------------------------------------------------------------------

  setPresence(presence) {
    this.socket.setPresence(presence);
    this.showPresence(presence);
  }

  showPresence(presence) {
    if (!this.presenceGroup) return;
    this.presenceGroup.dataset.state = presence;
    for (const button of this.presenceGroup.querySelectorAll("[data-presence-value]")) {
      button.setAttribute("aria-pressed", String(button.dataset.presenceValue === presence));
    }
  }

  onConnection(connected, reconnected) {
    this.banner.hidden = connected;
    this.presenceGroup?.classList.toggle("is-disconnected", !connected);
    if (!connected) return;
    // Catch up with what happened while the connection was down, or, on the first
    // connection, between rendering the page and the socket opening: live frames sent
    // before then never reached this page.
    this.inbox.refresh();
    if (reconnected) {
      for (const conversation of this.conversations.values()) conversation.load();
    } else {
      this.activeConversation?.markRead(); // a read the closed socket could not carry yet
    }
  }

  signedOut() {
    if (this.signingOut) return;
    this.signingOut = true;
    this.socket.stop();
    this.toast(this.strings.session_ended, "error");
    setTimeout(() => location.assign("/console/login"), 1200);
  }

  // Frames ----------------------------------------------------------------------------------

  /** An unopened ticket's activity; one entry may stand for several messages. */
  inboxActivity(item) {
    this.inbox.activity(item.ticket_id, {
      author: item.author,
      playerMessages: item.player_messages,
    });
    if (item.kind !== "note") this.slaRefresher.want(item.ticket_id);
  }

  onFrame(frame) {
    const conversation = this.conversations.get(frame.ticket_id);
    switch (frame.type) {
      case "ticket.created":
        this.onTicketCreated(frame.ticket);
        break;
      case "ticket.updated":
        conversation?.onUpdated(frame);
        this.inbox.updated(frame);
        this.learnAssignee(frame);
        this.slaRefresher.want(frame.ticket_id);
        break;
      case "message.posted":
        conversation?.onMessage(frame.message);
        this.inbox.activity(frame.ticket_id, {
          author: frame.message.author,
          at: new Date(frame.message.created_at),
          read: this.isReading(frame.ticket_id),
        });
        if (frame.message.kind !== "note") this.slaRefresher.want(frame.ticket_id);
        break;
      case "inbox.activity":
        this.inboxActivity(frame);
        break;
      case "inbox.activities":
        // What happened while the server gathered activity: one entry per ticket.
        for (const item of frame.items ?? []) this.inboxActivity(item);
        break;
      case "sla.alert":
        this.slaRefresher.want(frame.ticket_id);
        this.inbox.slaAlert(frame);
        this.alertSla(frame);
        break;
      case "ticket.escalated":
        conversation?.onEscalated(frame);
        this.slaRefresher.want(frame.ticket_id);
        this.alertEscalation(frame);
        break;
      case "typing":
        conversation?.onTyping(Boolean(frame.typing));
        break;
      case "receipt":
        conversation?.onReceipt(frame);
        break;
      case "delivery":
        conversation?.onDelivery(frame);
        break;
      case "call.ringing":
        this.calls.show(frame);
        break;
      case "presence":
        if (frame.agent_id === this.me.id && frame.presence !== "offline") {
          this.socket.presence = frame.presence;
          this.showPresence(frame.presence);
        }
        break;
      default:
        break;
    }
  }

  onTicketCreated(ticket) {
    this.inbox.upsert({ ...ticket, last_message_at: new Date().toISOString(), unread: 0 });
    this.slaRefresher.want(ticket.id, { soon: true }); // its clocks started with it
    // The bot answers it first: agents hear of it when the bot hands it over.
    if (ticket.bot_state === "active") return;
    if (!this.mayTake(ticket) || this.socket.presence === "away") return;
    this.chime.play();
    this.notifications.show(format(this.strings.new_chat, { number: ticket.number }), {
      body: ticket.subject,
      tag: `playerdesk-ticket-${ticket.id}`,
      onClick: () => this.open(ticket.id, { focus: true }),
    });
  }

  /** A deadline close or missed: the agent whose conversation it is hears of both;
   * supervisors hear of breaches anywhere on the floor. */
  alertSla(frame) {
    const breach = frame.kind === "breach";
    const mine = frame.assignee_id === this.me.id;
    if (!mine && !(breach && this.me.supervises)) return;
    const title = format(breach ? this.strings.sla_breached : this.strings.sla_warning, { number: frame.number });
    this.toast(title, breach ? "error" : "warning");
    if (breach) this.chime.play();
    this.notifications.show(title, {
      body: this.config.labels.metric[frame.metric] ?? frame.metric,
      tag: `playerdesk-sla-${frame.ticket_id}`,
      onClick: () => this.open(frame.ticket_id, { focus: true }),
    });
  }

  /** An escalation that asks for a supervisor: every supervisor's console says so. */
  alertEscalation(frame) {
    if (!frame.notify_supervisors || !this.me.supervises) return;
    const title = format(this.strings.escalated_note, { number: frame.number });
    // An agent's own words say why; the floor's rules are named by what set them off.
    const why = frame.trigger === "manual" ? frame.reason : (this.config.labels.trigger[frame.trigger] ?? frame.reason);
    this.toast(`${title}: ${why}`, "warning");
    this.notifications.show(title, {
      body: why,
      // The same tag as a breach: the escalation it caused replaces it, not piles on.
      tag: `playerdesk-sla-${frame.ticket_id}`,
      onClick: () => this.open(frame.ticket_id, { focus: true }),
    });
  }

  /** A new live chat this agent could answer: theirs, or nobody's in one of their teams. */
  mayTake(ticket) {
    if (ticket.channel !== "web_chat") return false;
    if (ticket.assignee_id === this.me.id) return true;
    if (ticket.assignee_id !== null && ticket.assignee_id !== undefined) return false;
    return ticket.team_id === null || ticket.team_id === undefined || this.me.team_ids.includes(ticket.team_id);
  }

  // Tabs ------------------------------------------------------------------------------------

  open(ticketId, { focus = false, activate = true } = {}) {
    let conversation = this.conversations.get(ticketId);
    if (!conversation) {
      if (this.conversations.size >= MAX_OPEN) {
        const oldest = [...this.conversations.keys()].find((id) => id !== this.activeId);
        if (oldest !== undefined) this.close(oldest, { activateNext: false });
      }
      conversation = new Conversation(this, ticketId);
      this.conversations.set(ticketId, conversation);
      this.tabbar.append(conversation.tab);
      this.panes.append(conversation.root);
      this.tabbar.hidden = false;
      this.socket.watch(ticketId);
      conversation.load();
      this.saveTabs();
    }
    if (activate) this.activate(ticketId);
    if (focus) conversation.focusComposer();
    return conversation;
  }

  activate(ticketId) {
    if (!this.conversations.has(ticketId)) return;
    this.activeId = ticketId;
    for (const [id, conversation] of this.conversations) conversation.show(id === ticketId);
    this.deskEmpty.hidden = true;
    this.inbox.markActive(ticketId);
    this.updateUrl();
    this.saveTabs();
  }

  close(ticketId, { activateNext = true } = {}) {
    const conversation = this.conversations.get(ticketId);
    if (!conversation) return;
    const ids = [...this.conversations.keys()];
    const index = ids.indexOf(ticketId);
    conversation.destroy();
    this.conversations.delete(ticketId);
    this.socket.unwatch(ticketId);
    if (this.activeId === ticketId) {
      this.activeId = null;
      const remaining = [...this.conversations.keys()];
      if (activateNext && remaining.length) {
        this.activate(remaining[Math.min(index, remaining.length - 1)]);
      } else {
        this.inbox.markActive(null);
        this.updateUrl();
      }
    }
    const empty = this.conversations.size === 0;
    this.tabbar.hidden = empty;
    this.deskEmpty.hidden = !empty;
    this.saveTabs();
  }

  cycle(step) {
    const ids = [...this.conversations.keys()];
    if (ids.length === 0) return;
    const index = ids.indexOf(this.activeId);
    this.activate(ids[(index + step + ids.length) % ids.length]);
  }

  updateUrl() {
    const path = this.activeId === null ? "/console" : `/console/tickets/${this.activeId}`;
    history.replaceState(null, "", path + (this.inbox.search ?? ""));
  }

  saveTabs() {
    try {
      sessionStorage.setItem(
        TABS_KEY,
        JSON.stringify({ open: [...this.conversations.keys()], active: this.activeId }),
      );
    } catch {
      // No storage: tabs are not restored after a reload, nothing else changes.
    }
  }

  restoreTabs() {
    let saved = { open: [], active: null };
    try {
      saved = JSON.parse(sessionStorage.getItem(TABS_KEY) || "null") ?? saved;
    } catch {
      // Ignore a damaged entry.
    }
    const fromUrl = this.config.open ?? [];
    const ids = [...new Set([...(saved.open ?? []), ...fromUrl])].filter(Number.isInteger).slice(-MAX_OPEN);
    for (const id of ids) this.open(id, { activate: false });
    const active = fromUrl[0] ?? saved.active;
    if (ids.includes(active)) this.activate(active);
    else if (ids.length) this.activate(ids[ids.length - 1]);
  }
}

const configNode = document.getElementById("console-config");
if (configNode) {
  window.playerdesk = new ConsoleApp(JSON.parse(configNode.textContent));
}
