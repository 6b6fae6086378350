// /ws/console: the live inbox, watched conversations, presence and heartbeats, and the
// agent's replies and notes (docs/API.md).

import { ApiError } from "./api.js";

const HEARTBEAT_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;
const CLOSE_UNAUTHENTICATED = 4401;
const ANSWER_WITHIN_MS = 10_000;
// The service's error codes as the HTTP statuses the REST API gives them, so a refusal
// reads the same whichever way the message went.
const STATUS_OF_CODE = {
  invalid: 422,
  validation_failed: 422,
  payload_too_large: 413,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid_transition: 409,
  unavailable: 503,
};

/** The socket could not carry the message (closed, or no answer): send it another way. */
export class SocketUnavailable extends Error {}

export class ConsoleSocket {
  constructor({ presence, onFrame, onState, onSignedOut }) {
    this.presence = presence; // "online" | "away"
    this.onFrame = onFrame;
    this.onState = onState; // (connected: boolean, reconnected: boolean)
    this.onSignedOut = onSignedOut;
    this.watched = new Set();
    this.answers = new Map(); // client_msg_id -> { resolve, reject, timer } of message.send
    this.socket = null;
    this.attempts = 0;
    this.everConnected = false;
    this.heartbeat = null;
    this.retry = null;
    this.stopped = false;
  }

  get url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws/console`;
  }

  get connected() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  connect() {
    clearTimeout(this.retry);
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (socket !== this.socket) return;
      const reconnected = this.everConnected;
      this.attempts = 0;
      this.everConnected = true;
      // hello and heartbeat carry the chosen presence: without it the server takes "online".
      this.send({ type: "hello", presence: this.presence });
      for (const ticketId of this.watched) this.send({ type: "watch", ticket_id: ticketId });
      clearInterval(this.heartbeat);
      this.heartbeat = setInterval(
        () => this.send({ type: "heartbeat", presence: this.presence }),
        HEARTBEAT_MS,
      );
      this.onState(true, reconnected);
    });
    socket.addEventListener("message", (event) => {
      if (socket !== this.socket) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!frame || typeof frame.type !== "string") return;
      if (this.settle(frame)) return;
      this.onFrame(frame);
    });
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket) return;
      clearInterval(this.heartbeat);
      this.socket = null;
      this.abandonAnswers();
      if (this.stopped) return;
      if (event.code === CLOSE_UNAUTHENTICATED) {
        this.onSignedOut();
        return;
      }
      this.onState(false, false);
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.attempts);
    this.attempts += 1;
    // Jitter, so a restarted server is not hit by every console in the same instant.
    this.retry = setTimeout(() => this.connect(), base / 2 + Math.random() * (base / 2));
  }

  stop() {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.retry);
    if (this.socket) this.socket.close(1000, "signing out");
    this.socket = null;
    this.abandonAnswers();
  }

  /**
   * A reply or note as a `message.send` frame ({ticket_id, client_msg_id, body, kind}):
   * resolves with the stored message, rejects with an ApiError when the server refuses it,
   * or with SocketUnavailable when the socket cannot carry it (resend it over the REST API
   * with the same client_msg_id: it is stored once whichever way arrives).
   */
  postMessage(message) {
    return new Promise((resolve, reject) => {
      const id = message.client_msg_id;
      if (this.answers.has(id) || !this.send({ type: "message.send", ...message })) {
        reject(new SocketUnavailable());
        return;
      }
      const timer = setTimeout(() => {
        this.answers.delete(id);
        reject(new SocketUnavailable());
      }, ANSWER_WITHIN_MS);
      this.answers.set(id, { resolve, reject, timer });
    });
  }

  settle(frame) {
    if (frame.type !== "message.ack" && frame.type !== "error") return false;
    const waiting = this.answers.get(frame.client_msg_id);
    if (!waiting) return false;
    this.answers.delete(frame.client_msg_id);
    clearTimeout(waiting.timer);
    if (frame.type === "message.ack") {
      waiting.resolve(frame.message);
    } else {
      const status = STATUS_OF_CODE[frame.code] ?? 400;
      waiting.reject(new ApiError(status, { detail: frame.detail, field: frame.field, code: frame.code }));
    }
    return true;
  }

  abandonAnswers() {
    for (const waiting of this.answers.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(new SocketUnavailable());
    }
    this.answers.clear();
  }

  send(frame) {
    if (!this.connected) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  setPresence(presence) {
    this.presence = presence;
    this.send({ type: "presence", presence });
  }

  watch(ticketId) {
    this.watched.add(ticketId);
    this.send({ type: "watch", ticket_id: ticketId });
  }

  unwatch(ticketId) {
    this.watched.delete(ticketId);
    this.send({ type: "unwatch", ticket_id: ticketId });
  }

  typing(ticketId, typing) {
    this.send({ type: "typing", ticket_id: ticketId, typing });
  }

  read(ticketId, upTo) {
    return this.send({ type: "read", ticket_id: ticketId, up_to: upTo });
  }
}
