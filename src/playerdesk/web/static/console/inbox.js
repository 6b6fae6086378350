// The inbox list: views and filters swapped in place, live rows, unread counts, j/k cursor.

import { api, fetchPage } from "./api.js";
import { el, format } from "./dom.js";

const FILTERS = ["channel", "status", "priority", "language"];
const AT_RISK = new Set(["warning", "breached"]);

function plainClick(event) {
  return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
}

function idOrNull(value) {
  return value === "" || value === undefined || value === null ? null : Number(value);
}

export class Inbox {
  constructor(app) {
    this.app = app;
    this.section = document.querySelector(".inbox");
    this.loading = new Set(); // ticket ids whose summary is being fetched
    this.fetchAgain = new Set(); // ticket ids a frame touched while their row was fetched
    this.touchedWhileLoading = null; // ticket ids live frames touched while the panel loads
    this.section.addEventListener("click", (event) => this.onClick(event));
    this.section.addEventListener("change", (event) => {
      const form = event.target.closest("form[data-filters]");
      if (form) this.navigate(this.formUrl(form));
    });
    this.section.addEventListener("submit", (event) => {
      const form = event.target.closest("form[data-filters]");
      if (!form) return;
      event.preventDefault();
      this.navigate(this.formUrl(form));
    });
    this.hydrate();
  }

  get panel() {
    return this.section.querySelector("[data-inbox-panel]");
  }

  get list() {
    return this.section.querySelector("[data-inbox-list]");
  }

  items() {
    return Array.from(this.list.querySelectorAll(".inbox-item"));
  }

  item(ticketId) {
    return this.list.querySelector(`.inbox-item[data-ticket-id="${Number(ticketId)}"]`);
  }

  /** After the panel is (re)rendered: read its view and filters, show times locally. */
  hydrate() {
    const url = new URL(this.panel.dataset.url, location.origin);
    this.search = url.search;
    this.view = this.panel.dataset.view || "all";
    this.filters = Object.fromEntries(
      FILTERS.map((name) => [name, url.searchParams.get(name) || null]),
    );
    this.firstPage = this.panel.dataset.firstPage === "true";
    const apply = this.panel.querySelector("[data-filters-apply]");
    if (apply) apply.hidden = true; // filters apply as soon as they change
    for (const time of this.list.querySelectorAll("time")) this.app.time.localise(time);
    this.app.clock.sync(this.panel.dataset.now);
    this.cursor = null;
    this.markActive(this.app.activeId);
    this.updateEmpty();
    this.app.updateTitle();
  }

  formUrl(form) {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (value) params.set(name, value);
    const query = params.toString();
    return `/console${query ? `?${query}` : ""}`;
  }

  onClick(event) {
    if (!plainClick(event)) return; // a modified click opens a new browser tab, as links do
    const nav = event.target.closest("a[data-inbox-nav]");
    if (nav) {
      event.preventDefault();
      this.navigate(nav.href);
      return;
    }
    const link = event.target.closest("a.inbox-link");
    if (link) {
      event.preventDefault();
      const item = link.closest(".inbox-item");
      this.setCursor(item, { focus: false });
      this.app.open(Number(item.dataset.ticketId), { focus: true });
    }
  }

  /** Show another view, filter or page without reloading: open conversations stay open. */
  async navigate(url) {
    const target = new URL(url, location.origin);
    this.panel.setAttribute("aria-busy", "true");
    // The page may have been rendered before live frames that arrive while it loads: the
    // rows they touched are fetched again once it is in place, or a new conversation shown
    // live would vanish with the old panel.
    const touched = new Set();
    this.touchedWhileLoading = touched;
    try {
      const page = await fetchPage(target.pathname + target.search);
      const fresh = page.querySelector("[data-inbox-panel]");
      if (!fresh) throw new Error("no inbox in the page");
      this.panel.replaceWith(document.adoptNode(fresh));
      this.hydrate();
      this.app.updateUrl();
      for (const ticketId of touched) this.fetchRow(ticketId);
    } catch (error) {
      if (error?.status !== 401) location.assign(target.href);
    } finally {
      if (this.touchedWhileLoading === touched) this.touchedWhileLoading = null;
    }
  }

  /** A live frame changed this conversation's row. */
  touch(ticketId) {
    this.touchedWhileLoading?.add(Number(ticketId));
  }

  refresh() {
    return this.navigate(this.panel.dataset.url);
  }

  updateEmpty() {
    const empty = this.panel.querySelector("[data-inbox-empty]");
    if (empty) empty.hidden = this.items().length > 0;
  }

  // Does a conversation belong in this view? `partial` leaves unknown fields undefined.
  matches(ticket, { partial = false } = {}) {
    const me = this.app.me;
    const known = (name) => ticket[name] !== undefined;
    for (const name of FILTERS) {
      const wanted = this.filters[name];
      if (!wanted) continue;
      if (!known(name)) {
        if (partial) continue;
        return false;
      }
      if (ticket[name] !== wanted) return false;
    }
    const assignee = ticket.assignee_id ?? null;
    const team = ticket.team_id ?? null;
    switch (this.view) {
      case "mine":
        return assignee === me.id;
      case "unassigned":
        return assignee === null;
      case "teams":
        return team !== null && me.team_ids.includes(team);
      case "at_risk":
        if (ticket.sla === undefined) return partial;
        return AT_RISK.has(ticket.sla?.state);
      default:
        return true;
    }
  }

  ticketFromItem(item) {
    const data = item.dataset;
    return {
      id: Number(data.ticketId),
      number: Number(data.number),
      status: data.status,
      priority: data.priority,
      channel: data.channel,
      language: data.language,
      assignee_id: idOrNull(data.assigneeId),
      team_id: idOrNull(data.teamId),
      unread: Number(data.unread || 0),
      bot_state: data.botState || null,
      sla: this.slaOf(item),
    };
  }

  /** The SLA a row shows, in the console JSON's shape. */
  slaOf(item) {
    const data = item.querySelector("[data-sla]")?.dataset;
    if (!data) return undefined;
    return {
      state: data.slaState || "none",
      metric: data.metric || null,
      due_at: data.dueAt || null,
      overdue_since: data.overdueSince || null,
      paused_seconds: data.pausedSeconds === "" || data.pausedSeconds === undefined ? null : Number(data.pausedSeconds),
    };
  }

  /** Add or update a row from a ticket (all or some fields); a row that no longer belongs
   * in this view leaves it, unless it is the conversation on screen. */
  upsert(ticket) {
    this.touch(ticket.id);
    let item = this.item(ticket.id);
    const merged = item ? { ...this.ticketFromItem(item), ...ticket } : ticket;
    if (!this.matches(merged)) {
      if (item && Number(item.dataset.ticketId) !== this.app.activeId) {
        if (this.cursor === item) this.cursor = null;
        item.remove();
        this.updateEmpty();
        return null;
      }
      if (!item) return null;
    }
    if (!item) {
      if (!this.firstPage || merged.subject === undefined) return null;
      item = this.render(merged);
      this.list.prepend(item);
      item.classList.add("is-new");
      setTimeout(() => item.classList.remove("is-new"), 2500);
    }
    this.apply(item, ticket);
    if (this.view === "at_risk") this.sortByDeadline();
    this.updateEmpty();
    return item;
  }

  /** At risk: the soonest deadline (or the longest overdue) first, as the server lists it. */
  sortByDeadline() {
    const deadline = (item) => {
      const sla = this.slaOf(item);
      const at = Date.parse(sla?.overdue_since || sla?.due_at || "");
      return Number.isNaN(at) ? Number.POSITIVE_INFINITY : at;
    };
    const items = this.items();
    const sorted = [...items].sort((a, b) => deadline(a) - deadline(b));
    if (sorted.every((item, index) => item === items[index])) return;
    this.list.append(...sorted);
  }

  /** sla.alert: a conversation that just became at risk joins the At risk view. */
  slaAlert(frame) {
    this.touch(frame.ticket_id);
    if (this.view === "at_risk" && !this.item(frame.ticket_id)) this.fetchRow(frame.ticket_id);
  }

  render(ticket) {
    const labels = this.app.config.labels;
    return el(
      "li",
      {
        class: "inbox-item",
        "data-testid": "inbox-item",
        dataset: { ticketId: ticket.id, number: ticket.number, channel: ticket.channel },
      },
      el(
        "a",
        { class: "inbox-link", href: `/console/tickets/${ticket.id}` },
        el(
          "span",
          { class: "inbox-line" },
          el("span", { class: "inbox-number", text: ticket.number }),
          el("span", {
            class: `channel channel-${ticket.channel}`,
            text: labels.channel[ticket.channel] ?? ticket.channel,
          }),
          el(
            "span",
            { class: "sla sla-none", "data-sla": true, "data-testid": "inbox-sla", hidden: true },
            el("span", { class: "sla-label" }),
          ),
          el("time", { class: "inbox-time" }),
        ),
        el(
          "span",
          { class: "inbox-line" },
          el("span", { class: "inbox-subject", text: ticket.subject }),
          el("span", { class: "unread", "data-testid": "inbox-unread", hidden: true }),
        ),
        el(
          "span",
          { class: "inbox-line inbox-meta" },
          el("span", { class: "status" }),
          el("span", { class: "priority" }),
          el("span", { class: "inbox-language" }),
          el("span", {
            class: "bot-badge",
            "data-bot-badge": true,
            "data-testid": "inbox-bot",
            title: this.app.strings.bot_answering,
            text: this.app.strings.bot,
            hidden: true,
          }),
          el("span", { class: "inbox-assignee" }),
        ),
      ),
    );
  }

  /** Copy the given fields of a ticket onto its row. */
  apply(item, ticket) {
    const labels = this.app.config.labels;
    const has = (name) => ticket[name] !== undefined;
    if (has("status")) {
      item.dataset.status = ticket.status;
      const node = item.querySelector(".status");
      node.className = `status status-${ticket.status}`;
      node.textContent = labels.status[ticket.status] ?? ticket.status;
    }
    if (has("priority")) {
      item.dataset.priority = ticket.priority;
      const node = item.querySelector(".priority");
      node.className = `priority priority-${ticket.priority}`;
      node.textContent = labels.priority[ticket.priority] ?? ticket.priority;
    }
    if (has("language")) {
      item.dataset.language = ticket.language;
      const node = item.querySelector(".inbox-language");
      node.textContent = ticket.language.toUpperCase();
      node.title = labels.language[ticket.language] ?? ticket.language;
    }
    if (has("subject")) item.querySelector(".inbox-subject").textContent = ticket.subject;
    if (has("assignee_id")) {
      item.dataset.assigneeId = ticket.assignee_id ?? "";
      const node = item.querySelector(".inbox-assignee");
      node.classList.toggle("is-unassigned", ticket.assignee_id === null);
      node.textContent = this.app.assigneeLabel(ticket.assignee_id, ticket.assignee_name);
    }
    if (has("team_id")) item.dataset.teamId = ticket.team_id ?? "";
    if (has("bot_state")) {
      item.dataset.botState = ticket.bot_state ?? "";
      item.querySelector("[data-bot-badge]").hidden = ticket.bot_state !== "active";
    }
    if (has("last_message_at")) {
      const time = item.querySelector(".inbox-time");
      time.setAttribute("datetime", new Date(ticket.last_message_at).toISOString());
      this.app.time.localise(time);
    }
    if (has("unread")) this.setUnread(ticket.id, ticket.unread);
    if (has("sla")) this.app.slaBadges.set(item.querySelector("[data-sla]"), ticket.sla);
  }

  setUnread(ticketId, count) {
    const item = this.item(ticketId);
    if (!item) return;
    item.dataset.unread = String(count);
    item.classList.toggle("is-unread", count > 0);
    const badge = item.querySelector(".unread");
    badge.hidden = count <= 0;
    badge.textContent = String(count);
    badge.setAttribute("aria-label", format(this.app.strings.unread, { count }));
    this.app.updateTitle();
  }

  unread(ticketId) {
    return Number(this.item(ticketId)?.dataset.unread || 0);
  }

  /** A new message in a conversation: the row shows it (and counts it when the player wrote
   * and nobody has read it yet); a conversation not in the list comes in. */
  activity(ticketId, { author, at = new Date(), read = false, playerMessages }) {
    this.touch(ticketId);
    const item = this.item(ticketId);
    if (!item) {
      this.fetchRow(ticketId);
      return;
    }
    const added = playerMessages ?? (author === "player" ? 1 : 0);
    const unread = read ? 0 : this.unread(ticketId) + added;
    this.apply(item, { id: ticketId, last_message_at: at.toISOString(), unread });
  }

  /** ticket.updated: the row follows; a conversation may join or leave this view. */
  updated(frame) {
    this.touch(frame.ticket_id);
    const ticket = {
      id: frame.ticket_id,
      status: frame.status,
      priority: frame.priority,
      assignee_id: frame.assignee_id ?? null,
      team_id: frame.team_id ?? null,
    };
    if ("language" in (frame.changes ?? {})) ticket.language = frame.changes.language[1];
    // The bot took the conversation or handed it over: its badge follows.
    if ("bot_state" in (frame.changes ?? {})) ticket.bot_state = frame.changes.bot_state[1];
    if (this.item(frame.ticket_id)) {
      this.upsert(ticket);
    } else if (this.matches(ticket, { partial: true }) && this.membershipChanged(frame.changes)) {
      this.fetchRow(frame.ticket_id);
    }
  }

  membershipChanged(changes = {}) {
    const changed = (name) => Object.hasOwn(changes, name);
    if (this.view === "mine" || this.view === "unassigned") {
      if (changed("assignee_id")) return true;
    }
    if (this.view === "teams" && changed("team_id")) return true;
    return FILTERS.some((name) => this.filters[name] && changed(name));
  }

  fetchRow(ticketId) {
    if (!this.firstPage) return;
    if (this.loading.has(ticketId)) {
      // The answer under way may have been made before the change this frame tells of (an
      // SLA warning while the row of a new message loads): fetch once more after it.
      this.fetchAgain.add(ticketId);
      return;
    }
    this.loading.add(ticketId);
    api
      .get(`/console/tickets/${ticketId}/summary`)
      .then(({ now, ticket }) => {
        this.app.clock.sync(now);
        this.app.learnName(ticket.assignee_id, ticket.assignee_name);
        if (this.app.isReading(ticketId)) ticket.unread = 0;
        this.upsert(ticket);
      })
      .catch(() => {})
      .finally(() => {
        this.loading.delete(ticketId);
        if (this.fetchAgain.delete(ticketId)) this.fetchRow(ticketId);
      });
  }

  markActive(ticketId) {
    for (const item of this.list.querySelectorAll(".inbox-item.is-active")) {
      item.classList.remove("is-active");
      item.querySelector(".inbox-link").removeAttribute("aria-current");
    }
    const item = ticketId ? this.item(ticketId) : null;
    if (item) {
      item.classList.add("is-active");
      item.querySelector(".inbox-link").setAttribute("aria-current", "true");
    }
  }

  setCursor(item, { focus = true } = {}) {
    if (this.cursor) this.cursor.classList.remove("is-cursor");
    this.cursor = item;
    if (!item) return;
    item.classList.add("is-cursor");
    item.scrollIntoView({ block: "nearest" });
    if (focus) item.querySelector(".inbox-link").focus({ preventScroll: true });
  }

  move(step) {
    const items = this.items();
    if (items.length === 0) return;
    const current = this.cursor && items.includes(this.cursor) ? items.indexOf(this.cursor) : -1;
    const start = current === -1 ? items.findIndex((item) => item.classList.contains("is-active")) : current;
    const next = start === -1 ? (step > 0 ? 0 : items.length - 1) : start + step;
    this.setCursor(items[Math.max(0, Math.min(items.length - 1, next))]);
  }

  openCursor() {
    const item = this.cursor && this.list.contains(this.cursor) ? this.cursor : null;
    if (item) this.app.open(Number(item.dataset.ticketId), { focus: true });
  }
}
