// /ws/console: the live inbox, watched conversations, presence and heartbeats (docs/API.md).

const HEARTBEAT_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;
const CLOSE_UNAUTHENTICATED = 4401;

export class ConsoleSocket {
  constructor({ presence, onFrame, onState, onSignedOut }) {
    this.presence = presence; // "online" | "away"
    this.onFrame = onFrame;
    this.onState = onState; // (connected: boolean, reconnected: boolean)
    this.onSignedOut = onSignedOut;
    this.watched = new Set();
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
      if (frame && typeof frame.type === "string") this.onFrame(frame);
    });
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket) return;
      clearInterval(this.heartbeat);
      this.socket = null;
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
