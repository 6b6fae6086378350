// Small DOM helpers. Text always goes in through textContent / text nodes, never as HTML:
// everything a player types is shown exactly as typed.

/** Create an element: el("span", {class: "x", text: "hi", dataset: {id: 1}}, child, "text"). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "dataset") {
      for (const [name, item] of Object.entries(value)) node.dataset[name] = String(item);
    } else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Replace a <select>'s options: [[value, label], ...]; keeps `selected` chosen. */
export function fillSelect(select, options, selected) {
  select.replaceChildren(
    ...options.map(([value, label]) => el("option", { value, text: label })),
  );
  select.value = selected === null || selected === undefined ? "" : String(selected);
}

/** "Unread messages: {count}" -> "Unread messages: 3". */
export function format(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.hasOwn(values, name) ? String(values[name]) : whole,
  );
}

export function isTyping(target) {
  if (!(target instanceof Element)) return false;
  return target.closest("input, textarea, select, [contenteditable='true']") !== null;
}

export const isMac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

/** A random RFC 4122 v4 id (crypto.randomUUID needs a secure context; this does not). */
export function uuid() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Times in the agent's own time zone and language: "14:05" today, "2 Nov, 14:05" before. */
export class TimeFormat {
  constructor(language) {
    this.time = new Intl.DateTimeFormat(language, { hour: "2-digit", minute: "2-digit" });
    this.dateTime = new Intl.DateTimeFormat(language, {
      day: "numeric",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
    });
    this.full = new Intl.DateTimeFormat(language, { dateStyle: "full", timeStyle: "medium" });
    this.size = new Intl.NumberFormat(language, {
      style: "unit",
      unit: "kilobyte",
      maximumFractionDigits: 0,
    });
  }

  short(value) {
    const date = value instanceof Date ? value : new Date(value);
    if (Number.isNaN(date.getTime())) return "";
    const today = new Date();
    const sameDay = date.toDateString() === today.toDateString();
    return (sameDay ? this.time : this.dateTime).format(date);
  }

  long(value) {
    const date = value instanceof Date ? value : new Date(value);
    return Number.isNaN(date.getTime()) ? "" : this.full.format(date);
  }

  /** <time datetime="..."> with a short text and the full date as its tooltip. */
  element(value, className) {
    const date = value instanceof Date ? value : new Date(value);
    return el("time", {
      class: className,
      datetime: date.toISOString(),
      title: this.long(date),
      text: this.short(date),
    });
  }

  /** Re-show a server-rendered <time> (UTC) in the agent's time zone. */
  localise(node) {
    const value = node.getAttribute("datetime");
    if (!value) return;
    node.textContent = this.short(value);
    node.title = this.long(value);
  }

  bytes(size) {
    return this.size.format(Math.max(1, Math.round(size / 1024)));
  }
}
