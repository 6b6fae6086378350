// Getting the agent's attention: a short chime (Web Audio, no sound files), desktop
// notifications (asked for with a click, as browsers require) and toasts on the page.

import { el } from "./dom.js";

const SOUND_KEY = "playerdesk.console.sound";

// Storage can be switched off or full; the setting then lasts as long as the page.
function remembered(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Not remembered; nothing else changes.
  }
}

export class Chime {
  constructor(toggle) {
    this.toggle = toggle;
    this.context = null;
    this.enabled = remembered(SOUND_KEY) !== "off";
    this.render();
    toggle?.addEventListener("click", () => {
      this.enabled = !this.enabled;
      remember(SOUND_KEY, this.enabled ? "on" : "off");
      this.render();
      if (this.enabled) this.play();
    });
    // Browsers only let a page make sound after the person has interacted with it.
    const unlock = () => {
      this.unlock();
      window.removeEventListener("pointerdown", unlock, true);
      window.removeEventListener("keydown", unlock, true);
    };
    window.addEventListener("pointerdown", unlock, true);
    window.addEventListener("keydown", unlock, true);
  }

  render() {
    this.toggle?.setAttribute("aria-pressed", String(this.enabled));
  }

  unlock() {
    const AudioContextClass = window.AudioContext;
    if (!AudioContextClass) return;
    if (this.context === null) this.context = new AudioContextClass();
    if (this.context.state === "suspended") this.context.resume().catch(() => {});
  }

  /** Two soft sine notes, about a third of a second in all. */
  play() {
    if (!this.enabled) return;
    this.unlock();
    const context = this.context;
    if (context === null) return;
    const start = context.currentTime + 0.01;
    [
      [880, 0],
      [1318.5, 0.14],
    ].forEach(([frequency, offset]) => {
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.18, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.2);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(start + offset);
      oscillator.stop(start + offset + 0.22);
    });
    document.dispatchEvent(new CustomEvent("playerdesk:chime"));
  }
}

export class DesktopNotifications {
  constructor(button, { strings, toast }) {
    this.button = button;
    this.strings = strings;
    this.toast = toast;
    this.supported = "Notification" in window;
    this.render();
    button?.addEventListener("click", async () => {
      if (!this.supported) return;
      const answer = await Notification.requestPermission();
      this.render();
      if (answer === "granted") this.toast(strings.notifications_on);
      else if (answer === "denied") this.toast(strings.notifications_blocked, "error");
    });
  }

  render() {
    if (this.button) this.button.hidden = !this.supported || Notification.permission !== "default";
  }

  show(title, { body, tag, onClick }) {
    if (!this.supported || Notification.permission !== "granted") return;
    try {
      const notification = new Notification(title, { body, tag, lang: document.documentElement.lang });
      notification.addEventListener("click", () => {
        window.focus();
        onClick?.();
        notification.close();
      });
    } catch {
      // Some platforms only allow notifications from a service worker; the chime still plays.
    }
  }
}

export class Toasts {
  constructor(region) {
    this.region = region;
  }

  show(message, kind = "info") {
    if (!this.region || !message) return;
    const toast = el("p", { class: `toast toast-${kind}`, text: message, "data-testid": "toast" });
    this.region.append(toast);
    // Errors and warnings stay long enough to be read from across the desk.
    const lasting = kind === "info" ? 3500 : 6000;
    setTimeout(() => toast.classList.add("is-leaving"), lasting);
    setTimeout(() => toast.remove(), lasting + 400);
  }
}
