// SLA badges: the state of a conversation's clocks and a countdown to its next deadline,
// ticking every second in the browser from the times the server gave (no polling). The
// server renders the same markup (templates/console/_macros.html, sla_badge).

import { api } from "./api.js";
import { el, format } from "./dom.js";

const COUNTING = new Set(["running", "warning"]);
const MAX_IDS = 100;
const SOON_MS = 100;

/** The server's time, as told by the page and each answer: agents' computers drift, and the
 * deadlines are the server's. */
export class ServerClock {
  constructor(serverNow) {
    this.offset = 0;
    this.sync(serverNow);
  }

  sync(serverNow) {
    const at = Date.parse(serverNow ?? "");
    if (!Number.isNaN(at)) this.offset = at - Date.now();
  }

  now() {
    return Date.now() + this.offset;
  }
}

/** 0:42, 4:05, 1:02:03; a day or more as "{days} d {hours} h" in the agent's language. */
export function formatDuration(seconds, daysTemplate) {
  const total = Math.max(0, Math.floor(seconds));
  if (total >= 86400) {
    return format(daysTemplate, { days: Math.floor(total / 86400), hours: Math.floor((total % 86400) / 3600) });
  }
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

export class SlaBadges {
  constructor({ clock, states = {}, metrics = {}, daysTemplate }) {
    this.clock = clock;
    this.states = states;
    this.metrics = metrics;
    this.daysTemplate = daysTemplate || "{days} d {hours} h";
    this.timer = null;
  }

  /** One timer for every badge on the page. */
  start(root = document) {
    this.root = root;
    this.tickAll();
    this.timer = setInterval(() => this.tickAll(), 1000);
  }

  tickAll() {
    for (const node of this.root.querySelectorAll("[data-sla]")) this.tick(node);
  }

  /** A fresh SLA from the server (console JSON: state, metric, due_at, overdue_since,
   * paused_seconds) onto a badge. */
  set(node, sla) {
    if (!node) return;
    const data = node.dataset;
    data.slaState = sla?.state ?? "none";
    data.metric = sla?.metric ?? "";
    data.dueAt = sla?.due_at ?? "";
    data.overdueSince = sla?.overdue_since ?? "";
    data.pausedSeconds = sla?.paused_seconds ?? "";
    const label = node.querySelector(".sla-label") ?? node.appendChild(el("span", { class: "sla-label" }));
    const state = data.slaState;
    label.textContent = state === "none" ? "" : (this.states[state] ?? state);
    node.title = this.metrics[data.metric] ?? "";
    this.tick(node);
  }

  /** What a badge says now, from its data attributes. */
  reading(node) {
    const data = node.dataset;
    const state = data.slaState || "none";
    const now = this.clock.now();
    if (state === "breached" && data.overdueSince) {
      return { state, seconds: (now - Date.parse(data.overdueSince)) / 1000, overdue: true };
    }
    if (COUNTING.has(state) && data.dueAt) {
      const left = (Date.parse(data.dueAt) - now) / 1000;
      // Past due before the floor's tick has recorded it: show it as overdue already.
      return left < 0 ? { state, seconds: -left, overdue: true } : { state, seconds: Math.ceil(left), overdue: false };
    }
    if (state === "paused" && data.pausedSeconds !== "") {
      return { state, seconds: Number(data.pausedSeconds), overdue: false };
    }
    return { state, seconds: null, overdue: false };
  }

  tick(node) {
    const { state, seconds, overdue } = this.reading(node);
    node.hidden = state === "none";
    const className = `sla sla-${state}${overdue ? " is-overdue" : ""}`;
    if (node.className !== className) node.className = className;
    let time = node.querySelector(".sla-time");
    if (seconds === null || Number.isNaN(seconds)) {
      time?.remove();
      return;
    }
    if (!time) {
      node.append(" ");
      time = node.appendChild(el("span", { class: "sla-time" }));
    }
    const text = (overdue ? "+" : "") + formatDuration(seconds, this.daysTemplate);
    if (time.textContent !== text) time.textContent = text;
  }
}

/** Asks the server for the SLA of conversations whose clocks may have moved (a message, a
 * status change, an alert), a few at a time: at most one request every `delay` ms. */
export class SlaRefresher {
  constructor({ clock, wanted, apply, delay = 1500 }) {
    this.clock = clock;
    this.wanted = wanted; // ticket id -> is it still on screen?
    this.apply = apply; // (ticket id, sla) -> void
    this.delay = delay;
    this.pending = new Set();
    this.timer = null;
    this.soon = false;
  }

  /** `soon`: a conversation that just arrived has no badge yet; ask almost at once. */
  want(ticketId, { soon = false } = {}) {
    if (!this.wanted(ticketId)) return;
    this.pending.add(Number(ticketId));
    if (soon && this.timer !== null && !this.soon) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.timer === null) {
      this.soon = soon;
      this.timer = setTimeout(() => this.flush(), soon ? SOON_MS : this.delay);
    }
  }

  async flush() {
    this.timer = null;
    const ids = [...this.pending].filter((id) => this.wanted(id)).slice(0, MAX_IDS);
    this.pending.clear();
    if (ids.length === 0) return;
    try {
      const data = await api.get(`/console/sla?ids=${ids.join(",")}`);
      this.clock.sync(data.now);
      for (const [id, sla] of Object.entries(data.sla)) this.apply(Number(id), sla);
    } catch {
      // The next event asks again; the badges keep ticking meanwhile.
    }
  }
}
