// The knowledge panel beside a conversation: the agent searches the knowledge base while
// replying (GET /api/v1/kb/search, in the conversation's language unless they choose
// another) and puts an article into the composer: a published article's public link or its
// summary into the reply; an internal article (agents only) only into an internal note,
// never to the player. The panel's markup and texts come from the page's template
// (templates/console/_knowledge_panel.html); everything shown is set with textContent.

import { ApiError, api } from "./api.js";
import { el, format } from "./dom.js";

const SEARCH_DELAY_MS = 250;
const MIN_QUERY = 2;
const SHOWN = 8;
const PUBLISHED = "published";
// Where the side column stands beside the messages (console.css); narrower, it is above them.
const WIDE = "(min-width: 1181px)";

let sharedStrings = null;

function strings() {
  sharedStrings ??= JSON.parse(
    document.getElementById("knowledge-panel-template")?.dataset.strings || "{}",
  );
  return sharedStrings;
}

export class KnowledgePanel {
  constructor(conversation) {
    this.conversation = conversation;
    this.app = conversation.app;
    this.strings = strings();
    this.seq = 0;
    this.timer = null;
    this.languageChosen = false;
    this.hits = [];
    const template = document.getElementById("knowledge-panel-template");
    const side = conversation.root.querySelector(".conversation-side");
    if (!template || !side) return;
    this.root = template.content.firstElementChild.cloneNode(true);
    side.append(this.root);
    const find = (selector) => this.root.querySelector(selector);
    this.form = find("[data-knowledge-form]");
    this.query = find("[data-knowledge-query]");
    this.language = find("[data-knowledge-language]");
    this.state = find("[data-knowledge-state]");
    this.results = find("[data-knowledge-results]");
    this.fillLanguages();
    this.root.open = window.matchMedia(WIDE).matches;

    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.search({ now: true });
    });
    this.query.addEventListener("input", () => this.search());
    this.query.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.query.blur();
      }
    });
    this.language.addEventListener("change", () => {
      this.languageChosen = true;
      this.search({ now: true });
    });
  }

  fillLanguages() {
    const names = this.app.config.labels?.language ?? {};
    const options = Object.entries(names).map(([code, name]) => el("option", { value: code, text: name }));
    this.language.replaceChildren(...options);
    this.language.value = this.app.config.language;
  }

  /** The conversation's language, until the agent picks another. */
  currentLanguage() {
    const ticketLanguage = this.conversation.ticket?.language;
    if (!this.languageChosen && ticketLanguage && [...this.language.options].some((o) => o.value === ticketLanguage)) {
      this.language.value = ticketLanguage;
    }
    return this.language.value;
  }

  showState(text, { error = false } = {}) {
    this.state.textContent = text;
    this.state.classList.toggle("is-error", error);
    this.state.hidden = !text;
  }

  search({ now = false } = {}) {
    clearTimeout(this.timer);
    const query = this.query.value.trim();
    if (query.length < MIN_QUERY) {
      this.seq += 1; // an answer still on its way is no longer wanted
      this.results.replaceChildren();
      this.showState(query ? this.strings.too_short : "");
      return;
    }
    if (now) this.run(query);
    else this.timer = setTimeout(() => this.run(query), SEARCH_DELAY_MS);
  }

  async run(query) {
    const seq = ++this.seq;
    const language = this.currentLanguage();
    this.showState(this.strings.searching);
    this.root.setAttribute("aria-busy", "true");
    try {
      const params = new URLSearchParams({ q: query, lang: language, limit: String(SHOWN) });
      const hits = await api.get(`/api/v1/kb/search?${params}`);
      if (seq !== this.seq) return;
      this.show(hits);
    } catch (error) {
      if (seq !== this.seq) return;
      this.results.replaceChildren();
      const forbidden = error instanceof ApiError && error.status === 403;
      this.showState(forbidden ? this.strings.forbidden : this.strings.failed, { error: true });
    } finally {
      if (seq === this.seq) this.root.removeAttribute("aria-busy");
    }
  }

  show(hits) {
    this.hits = hits;
    this.results.replaceChildren(...hits.map((hit) => this.renderHit(hit)));
    this.showState(
      hits.length ? format(this.strings.found, { count: hits.length }) : this.strings.none,
    );
  }

  renderHit(hit) {
    const internal = hit.status !== PUBLISHED;
    const link = this.publicUrl(hit);
    const title = el(
      "p",
      { class: "knowledge-hit-title" },
      link
        ? el("a", { href: link, target: "_blank", rel: "noopener", text: hit.title, title: this.strings.open })
        : el("span", { text: hit.title }),
      internal ? el("span", { class: "knowledge-badge", text: this.strings.internal }) : null,
    );
    const excerpt = el("p", { class: "knowledge-hit-excerpt", text: hit.excerpt || hit.summary });
    const actions = internal
      ? [this.button(this.strings.insert_note, "knowledge-insert-note", () => this.insertNote(hit))]
      : [
          this.button(this.strings.insert_link, "knowledge-insert-link", () => this.insertLink(hit)),
          this.button(this.strings.insert_text, "knowledge-insert-text", () => this.insertText(hit)),
        ];
    return el(
      "li",
      {
        class: `knowledge-hit${internal ? " is-internal" : ""}`,
        "data-testid": "knowledge-hit",
        dataset: { articleId: hit.id, status: hit.status },
      },
      title,
      excerpt,
      internal ? el("p", { class: "knowledge-hit-note", text: this.strings.internal_hint }) : null,
      el("div", { class: "knowledge-hit-actions" }, actions),
    );
  }

  button(text, testid, onClick) {
    const node = el("button", {
      type: "button",
      class: "button button-quiet button-small",
      "data-testid": testid,
      text,
    });
    node.addEventListener("click", onClick);
    return node;
  }

  /** The public address of a published article, on this site (the help centre). */
  publicUrl(hit) {
    if (hit.status !== PUBLISHED || !hit.url) return null;
    try {
      return new URL(hit.url, window.location.origin).href;
    } catch {
      return null;
    }
  }

  insertLink(hit) {
    const link = this.publicUrl(hit);
    if (!link) return;
    // "Title: link", without a colon after a title that ends a sentence itself.
    const separator = /[.?!:]$/.test(hit.title.trim()) ? " " : ": ";
    this.insert(`${hit.title.trim()}${separator}${link}`, { mode: null });
  }

  insertText(hit) {
    this.insert(hit.summary || hit.excerpt, { mode: null });
  }

  /** Internal knowledge goes into a note only: a reply with text in it is never turned into
   * a note behind the agent's back. */
  insertNote(hit) {
    const conversation = this.conversation;
    if (conversation.mode !== "note" && conversation.input.value.trim()) {
      this.showState(this.strings.note_first, { error: true });
      return;
    }
    const text = format(this.strings.note_text, {
      title: hit.title,
      text: hit.excerpt || hit.summary,
    });
    this.insert(text, { mode: "note" });
  }

  insert(text, { mode }) {
    const conversation = this.conversation;
    const input = conversation.input;
    if (!text || input.disabled) return;
    if (mode && conversation.mode !== mode) conversation.setMode(mode, { focus: false });
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    const before = input.value.slice(0, start);
    const after = input.value.slice(end);
    // On a line of its own, unless the agent placed the cursor in the middle of a sentence.
    const lead = before && !before.endsWith("\n") && !before.endsWith(" ") ? "\n" : "";
    const tail = after && !after.startsWith("\n") ? "\n" : "";
    input.setRangeText(`${lead}${text}${tail}`, start, end, "end");
    // The composer's own listeners (draft, typing, canned replies) see it as typing.
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.focus();
    this.showState(this.strings.inserted);
  }
}
