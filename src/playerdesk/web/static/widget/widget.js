/*!
 * PlayerDesk chat widget. No dependencies; embed it with one tag:
 *
 *   <script src="https://support.example.com/widget.js" async
 *           data-language="pl"               (optional: else <html lang>, else the browser)
 *           data-player-id="C-1001"          (optional: a logged-in casino player ...)
 *           data-player-hash="<hex>"         (... and the casino's HMAC-SHA256 of the id)
 *           data-player-name="Anna"          (optional)
 *           data-player-email="a@example.com" (optional)
 *           data-color="#0b6e4f"             (optional: the accent colour)
 *           data-server="https://..."></script> (optional: else the script's own origin)
 *
 * Every text comes from the server (the session answer's `strings`); this file holds no
 * language data. The protocol is described in docs/API.md ("Live chat").
 */
(function () {
  "use strict";

  if (window.PlayerDeskWidget) return;

  var script =
    document.currentScript || document.querySelector('script[src*="widget.js"][data-server], script[src*="widget.js"]');
  var config = (script && script.dataset) || {};
  var SERVER = (config.server || (script ? new URL(script.src, location.href).origin : location.origin)).replace(
    /\/+$/,
    ""
  );
  var WS_SERVER = SERVER.replace(/^http/, "ws");
  var VISITOR_KEY = "playerdesk:visitor_token:" + SERVER;
  var OPEN_KEY = "playerdesk:open:" + SERVER;
  var READ_KEY = "playerdesk:read_up_to:" + SERVER + ":" + (config.playerId || "visitor");
  var SVG_NS = "http://www.w3.org/2000/svg";

  var PING_EVERY_MS = 20000;
  var PONG_WITHIN_MS = 10000;
  var CONNECT_WITHIN_MS = 15000;
  var BACKOFF_BASE_MS = 500;
  var BACKOFF_CAP_MS = 30000;
  var OFFLINE_POLL_MS = 15000;
  var TYPING_IDLE_MS = 3000;
  var TYPING_REPEAT_MS = 5000;
  var AGENT_TYPING_TIMEOUT_MS = 10000;
  var RESEND_AFTER_RATE_LIMIT_MS = 2500;
  var NOTICE_MS = 7000;

  // --- small helpers -----------------------------------------------------------------------

  function storageGet(store, key) {
    try {
      return store.getItem(key);
    } catch (e) {
      return null;
    }
  }

  function storageSet(store, key, value) {
    try {
      if (value === null) store.removeItem(key);
      else store.setItem(key, value);
    } catch (e) {
      /* storage can be disabled: the widget still works for this page view */
    }
  }

  function local() {
    try {
      return window.localStorage;
    } catch (e) {
      return null;
    }
  }

  function session() {
    try {
      return window.sessionStorage;
    } catch (e) {
      return null;
    }
  }

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return (b + 0x100).toString(16).slice(1);
    });
    return [hex.slice(0, 4), hex.slice(4, 6), hex.slice(6, 8), hex.slice(8, 10), hex.slice(10)]
      .map(function (part) {
        return part.join("");
      })
      .join("-");
  }

  /** An element with classes and attributes; text is only ever set with textContent. */
  function el(tag, className, attrs) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        if (attrs[name] !== null && attrs[name] !== undefined) node.setAttribute(name, attrs[name]);
      });
    }
    return node;
  }

  function icon(paths, className) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "icon" + (className ? " " + className : ""));
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }

  var ICONS = {
    chat: ["M20.5 11.5a8 8 0 0 1-11.9 7L4 19.8l1.3-4.3A8 8 0 1 1 20.5 11.5z", "M8.5 11.5h.01M12.5 11.5h.01M16.5 11.5h.01"],
    down: ["M6 9.5l6 6 6-6"],
    close: ["M6.5 6.5l11 11M17.5 6.5l-11 11"],
    send: ["M4.5 12L20 4.5 15.5 20l-3.2-6.3L4.5 12z", "M12.3 13.7L20 4.5"],
    clip: ["M20 11.2l-7.9 7.9a5 5 0 0 1-7.1-7.1l8.3-8.3a3.4 3.4 0 0 1 4.8 4.8l-8.2 8.2a1.7 1.7 0 0 1-2.4-2.4l7.5-7.5"],
    file: ["M14 3.5H7.5a2 2 0 0 0-2 2v13a2 2 0 0 0 2 2h9a2 2 0 0 0 2-2V8z", "M14 3.5V8h4.5"],
    retry: ["M4.5 12a7.5 7.5 0 1 0 2.2-5.3", "M4.5 4.5v4h4"],
    check: ["M5 12.5l4.5 4.5L19 7.5"],
    phone: [
      "M20.5 16.4v2.6a1.8 1.8 0 0 1-2 1.8 17.6 17.6 0 0 1-7.7-2.7 17.3 17.3 0 0 1-5.3-5.3A17.6 17.6 0 0 1 2.8 5a1.8 1.8 0 0 1 1.8-2h2.6a1.8 1.8 0 0 1 1.8 1.5c.1.9.3 1.7.6 2.5a1.8 1.8 0 0 1-.4 1.9L8.1 10a14.2 14.2 0 0 0 5.3 5.3l1.1-1.1a1.8 1.8 0 0 1 1.9-.4c.8.3 1.6.5 2.5.6a1.8 1.8 0 0 1 1.6 2z",
    ],
    back: ["M14.5 6l-6 6 6 6"],
  };

  function pageLanguage() {
    var raw =
      config.language ||
      document.documentElement.getAttribute("lang") ||
      (navigator.languages && navigator.languages[0]) ||
      navigator.language ||
      "";
    var primary = String(raw).trim().toLowerCase().split(/[-_]/)[0];
    return /^[a-z]{2,8}$/.test(primary) ? primary : null;
  }

  /** The player's own time zone (IANA name), for the times of a call back; null if unknown. */
  function timeZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
    } catch (e) {
      return null;
    }
  }

  function formatBytes(bytes, language) {
    var number = function (value) {
      try {
        return new Intl.NumberFormat(language || undefined, { maximumFractionDigits: 1 }).format(value);
      } catch (e) {
        return String(Math.round(value * 10) / 10);
      }
    };
    if (bytes >= 1024 * 1024) return number(bytes / (1024 * 1024)) + " MB";
    if (bytes >= 1024) return number(bytes / 1024) + " KB";
    return number(bytes) + " B";
  }

  function formatTime(iso, language) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return "";
    try {
      return new Intl.DateTimeFormat(language || undefined, { hour: "2-digit", minute: "2-digit" }).format(date);
    } catch (e) {
      return date.toTimeString().slice(0, 5);
    }
  }

  /** The usable quick replies of a bot message (labels are shown as text, never as HTML). */
  function quickRepliesOf(message) {
    if (message.author !== "bot" || !Array.isArray(message.quick_replies)) return [];
    return message.quick_replies.filter(function (reply) {
      return reply && typeof reply.label === "string" && reply.label.trim() !== "";
    });
  }

  function backoff(attempt) {
    // Exponential with "equal jitter": never zero, never in lockstep with other widgets.
    var ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * Math.pow(2, Math.max(0, attempt - 1)));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  function HttpError(status, detail) {
    this.status = status;
    this.detail = detail;
  }

  // --- styles (inside the shadow root: the casino's CSS cannot reach them) ---------------

  var CSS = [
    ":host{all:initial;--pd-accent:#0b6e4f;--pd-accent-ink:#fff;--pd-ink:#101828;--pd-ink-2:#344054;",
    "--pd-muted:#667085;--pd-line:#e4e7ec;--pd-bg:#f6f7f9;--pd-danger:#b42318;--pd-danger-soft:#fef3f2;",
    "--pd-font:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;}",
    "*,*::before,*::after{box-sizing:border-box}",
    "[hidden]{display:none!important}",
    ".root{font-family:var(--pd-font);font-size:15px;line-height:1.45;color:var(--pd-ink);",
    "-webkit-font-smoothing:antialiased;text-align:left;direction:ltr;letter-spacing:normal}",
    ".icon{width:24px;height:24px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}",
    "button{font:inherit;color:inherit;cursor:pointer;border:0;background:none;padding:0;margin:0}",
    "button:focus-visible,textarea:focus-visible,input:focus-visible{outline:2px solid var(--pd-accent);outline-offset:2px}",
    ".visually-hidden{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",

    /* launcher */
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;",
    "background:var(--pd-accent);color:var(--pd-accent-ink);display:flex;align-items:center;justify-content:center;",
    "box-shadow:0 8px 24px -6px rgba(16,24,40,.35),0 2px 6px rgba(16,24,40,.18);transition:transform .15s ease}",
    ".launcher:hover{transform:scale(1.05)}",
    ".launcher .icon{width:30px;height:30px}",
    ".launcher:focus-visible{outline:3px solid var(--pd-accent);outline-offset:3px}",
    ".badge{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;",
    "background:#d92d20;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center;",
    "box-shadow:0 0 0 2px #fff}",

    /* panel */
    ".panel{position:fixed;right:20px;bottom:92px;z-index:2147483000;width:370px;height:min(600px,calc(100vh - 116px));",
    "display:flex;flex-direction:column;background:#fff;border-radius:16px;overflow:hidden;",
    "box-shadow:0 24px 48px -12px rgba(16,24,40,.35),0 4px 12px rgba(16,24,40,.12);border:1px solid rgba(16,24,40,.06)}",
    ".header{display:flex;align-items:center;gap:12px;padding:16px 14px 16px 18px;background:var(--pd-accent);color:var(--pd-accent-ink)}",
    ".avatar{flex:none;width:38px;height:38px;border-radius:50%;background:rgba(255,255,255,.18);display:flex;",
    "align-items:center;justify-content:center}",
    ".avatar .icon{width:22px;height:22px}",
    ".heading{flex:1;min-width:0}",
    ".title{margin:0;font-size:16px;font-weight:650;line-height:1.25}",
    ".subtitle{margin:2px 0 0;font-size:13px;line-height:1.35;opacity:.9;display:flex;align-items:flex-start;gap:6px}",
    ".dot{width:8px;height:8px;margin-top:5px;border-radius:50%;background:#47cd89;flex:none;box-shadow:0 0 0 2px rgba(255,255,255,.35)}",
    ".dot.off{background:#98a2b3}",
    ".close,.head-tool{flex:none;width:36px;height:36px;border-radius:8px;display:flex;align-items:center;justify-content:center}",
    ".close:hover,.head-tool:hover{background:rgba(255,255,255,.16)}",
    ".head-tool .icon{width:21px;height:21px}",
    ".banner{padding:8px 16px;background:#fffaeb;color:#93370d;font-size:13px;border-bottom:1px solid #fedf89}",

    /* messages */
    ".log{flex:1;overflow-y:auto;padding:16px 14px 8px;background:var(--pd-bg);display:flex;flex-direction:column;gap:2px;",
    "overscroll-behavior:contain}",
    ".empty{margin:auto 12px;text-align:center;color:var(--pd-muted);font-size:14px;padding:24px 8px}",
    ".row{display:flex;flex-direction:column;max-width:82%;margin-top:6px}",
    ".row.player{align-self:flex-end;align-items:flex-end}",
    ".row.agent,.row.bot{align-self:flex-start;align-items:flex-start}",
    ".row.system,.row.note{align-self:center;max-width:92%;margin:10px 0}",
    ".name{font-size:12px;color:var(--pd-muted);margin:0 0 3px 12px;font-weight:600}",
    ".bubble{padding:9px 13px;border-radius:16px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}",
    ".bubble:empty{display:none}",
    ".bubble a{color:inherit;text-decoration:underline;text-underline-offset:2px}",
    ".player .bubble{background:var(--pd-accent);color:var(--pd-accent-ink);border-bottom-right-radius:5px}",
    ".agent .bubble,.bot .bubble{background:#fff;color:var(--pd-ink);border:1px solid var(--pd-line);border-bottom-left-radius:5px}",
    ".system .bubble,.note .bubble{background:none;color:var(--pd-muted);font-size:13px;text-align:center;padding:2px 8px}",
    ".row.pending .bubble{opacity:.72}",
    ".row.failed .bubble{background:var(--pd-danger-soft);color:var(--pd-danger);border:1px solid #fecdca}",
    ".meta{font-size:11.5px;color:var(--pd-muted);margin:3px 6px 0;display:flex;gap:6px;align-items:center}",
    ".meta:empty{display:none}",
    ".status.read{color:var(--pd-accent)}",
    ".retry{color:var(--pd-danger);font-size:12px;text-decoration:underline;text-align:right}",
    /* quick replies: the player's possible answers, on the player's side */
    ".quick-replies{display:flex;flex-wrap:wrap;justify-content:flex-end;gap:8px;margin:10px 0 4px;padding-left:12%}",
    ".quick{max-width:100%;min-height:38px;padding:7px 14px;border-radius:19px;border:1.5px solid var(--pd-accent);",
    "background:#fff;color:var(--pd-accent);font-size:14px;font-weight:600;line-height:1.3;text-align:center;",
    "white-space:normal;overflow-wrap:anywhere;transition:background-color .15s ease,color .15s ease}",
    ".quick:hover,.quick:active{background:var(--pd-accent);color:var(--pd-accent-ink)}",
    ".files{display:flex;flex-direction:column;gap:6px;margin-top:4px}",
    ".files:empty{display:none}",
    ".thumb{display:flex;flex-direction:column;border-radius:12px;overflow:hidden;border:1px solid var(--pd-line);",
    "background:#fff;max-width:220px;text-align:left}",
    ".thumb img{display:block;min-width:120px;min-height:64px;max-width:220px;max-height:180px;object-fit:contain;",
    "background:repeating-conic-gradient(#f2f4f7 0 25%,#fff 0 50%) 0 0/16px 16px}",
    ".thumb .fname{padding:6px 10px;max-width:218px;font-weight:500;color:var(--pd-ink-2);border-top:1px solid var(--pd-line)}",
    ".file{display:flex;align-items:center;gap:8px;padding:8px 12px 8px 9px;border-radius:12px;background:#fff;",
    "border:1px solid var(--pd-line);color:var(--pd-ink);max-width:240px;text-align:left}",
    ".file:hover{border-color:#d0d5dd;background:#fcfcfd}",
    ".file .icon{flex:none;width:22px;height:22px;color:var(--pd-accent)}",
    ".fname{display:block;font-size:13px;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:170px}",
    ".fsize{display:block;font-size:12px;color:var(--pd-muted)}",
    ".queue{margin:0;padding:8px 18px;font-size:12.5px;color:var(--pd-ink-2);background:var(--pd-bg);border-top:1px solid rgba(0,0,0,.06)}",
    ".typing{display:flex;align-items:center;gap:8px;padding:6px 18px 4px;font-size:12.5px;color:var(--pd-muted);background:var(--pd-bg)}",
    ".dots{display:inline-flex;gap:3px}",
    ".dots span{width:6px;height:6px;border-radius:50%;background:#98a2b3;animation:pd-blink 1.2s infinite ease-in-out}",
    ".dots span:nth-child(2){animation-delay:.15s}.dots span:nth-child(3){animation-delay:.3s}",
    "@keyframes pd-blink{0%,80%,100%{opacity:.3;transform:translateY(0)}40%{opacity:1;transform:translateY(-2px)}}",
    ".notice{margin:0;padding:8px 14px;font-size:13px;background:var(--pd-danger-soft);color:var(--pd-danger);border-top:1px solid #fecdca}",

    /* composer */
    ".composer{display:flex;align-items:flex-end;gap:4px;padding:10px 10px 12px;border-top:1px solid var(--pd-line);background:#fff}",
    ".tool{flex:none;width:40px;height:40px;border-radius:10px;display:flex;align-items:center;justify-content:center;color:var(--pd-muted)}",
    ".tool:hover{background:var(--pd-bg);color:var(--pd-ink)}",
    ".tool .icon{width:22px;height:22px}",
    ".send{color:var(--pd-accent)}",
    ".send:disabled{color:#d0d5dd;cursor:default;background:none}",
    "textarea,input{font:inherit;color:var(--pd-ink);background:#fff}",
    ".input{flex:1;min-width:0;resize:none;border:1px solid var(--pd-line);border-radius:12px;padding:9px 12px;",
    "max-height:132px;min-height:40px;line-height:1.4;font-size:15px;overflow-y:auto}",
    ".input:focus{border-color:var(--pd-accent);outline:none;box-shadow:0 0 0 3px rgba(16,24,40,.06)}",

    /* leave a message */
    ".offline{flex:1;overflow-y:auto;padding:18px;background:#fff;display:flex;flex-direction:column;gap:12px}",
    ".offline p{margin:0;color:var(--pd-ink-2);font-size:14px}",
    ".offline-form{display:flex;flex-direction:column;gap:12px}",
    ".field{display:flex;flex-direction:column;gap:5px}",
    ".field label{font-size:13px;font-weight:600;color:var(--pd-ink-2)}",
    ".field input,.field textarea{border:1px solid #d0d5dd;border-radius:10px;padding:9px 12px;font-size:15px;width:100%}",
    ".field textarea{min-height:110px;resize:vertical}",
    ".field input:focus,.field textarea:focus{border-color:var(--pd-accent);outline:none;box-shadow:0 0 0 3px rgba(16,24,40,.06)}",
    ".field [aria-invalid=true]{border-color:var(--pd-danger)}",
    ".primary{align-self:stretch;background:var(--pd-accent);color:var(--pd-accent-ink);border-radius:10px;padding:11px 16px;",
    "font-weight:650;font-size:15px}",
    ".primary:disabled{opacity:.6;cursor:default}",
    ".thanks{display:flex;gap:12px;align-items:flex-start;padding:14px;border-radius:12px;background:#ecfdf3;color:#05603a;font-size:14px}",
    ".thanks .icon{flex:none;width:22px;height:22px}",
    ".secondary{display:flex;align-items:center;justify-content:center;gap:8px;align-self:stretch;border:1.5px solid var(--pd-accent);",
    "color:var(--pd-accent);border-radius:10px;padding:9px 14px;font-weight:600;font-size:14px;background:#fff}",
    ".secondary:hover{background:var(--pd-bg)}",
    ".secondary .icon,.back .icon{width:18px;height:18px;flex:none}",

    /* call me back */
    ".back{align-self:flex-start;display:inline-flex;align-items:center;gap:4px;margin:-6px 0 -4px -4px;padding:4px 8px 4px 2px;",
    "border-radius:8px;font-size:13.5px;font-weight:600;color:var(--pd-accent)}",
    ".back:hover{background:var(--pd-bg)}",
    ".offline .hint{font-size:12.5px;color:var(--pd-muted)}",
    ".offline .field-error{font-size:13px;font-weight:500;color:var(--pd-danger)}",
    "fieldset.field{border:0;margin:0;padding:0;min-width:0}",
    "fieldset.field legend{padding:0;margin:0 0 6px;font-size:13px;font-weight:600;color:var(--pd-ink-2)}",
    ".choices{display:flex;flex-wrap:wrap;gap:6px}",
    ".choice{position:relative;display:block;cursor:pointer}",
    ".choice input{position:absolute;opacity:0;width:1px;height:1px;margin:0}",
    ".choice span{display:block;padding:6px 12px;border:1px solid #d0d5dd;border-radius:17px;font-size:14px;color:var(--pd-ink-2)}",
    ".choice input:checked+span{border-color:var(--pd-accent);background:var(--pd-accent);color:var(--pd-accent-ink)}",
    ".choice input:focus-visible+span{outline:2px solid var(--pd-accent);outline-offset:2px}",
    ".times{display:flex;flex-direction:column;gap:8px;margin-top:10px}",
    ".time-range{display:flex;gap:10px}",
    ".time-range .field{flex:1;min-width:0}",
    ".optional{font-weight:400;color:var(--pd-muted)}",

    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100%;max-height:none;border-radius:0;border:0}",
    ".launcher.open{display:none}}",
    "@media (prefers-reduced-motion:reduce){.dots span{animation:none}.launcher,.quick{transition:none}}",
  ].join("\n");

  function applyStyles(root) {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      var style = document.createElement("style");
      style.textContent = CSS;
      root.appendChild(style);
    }
  }

  // --- the widget ----------------------------------------------------------------------------

  function Widget() {
    this.language = pageLanguage();
    this.player =
      config.playerId && config.playerHash
        ? {
            id: config.playerId,
            hash: config.playerHash,
            name: config.playerName || undefined,
            email: config.playerEmail || undefined,
          }
        : null;
    this.session = null; // the session answer
    this.sessionExpiresAt = 0;
    this.sessionRequest = null;
    this.strings = {};
    this.limits = { max_message_chars: 20000, max_file_bytes: 10485760, file_types: [] };
    this.agentsAvailable = true;
    this.conversation = null;

    this.ws = null;
    this.connected = false; // after the welcome frame
    this.attempt = 0;
    this.reconnectTimer = null;
    this.pingTimer = null;
    this.lastHeard = 0;
    this.pingSentAt = 0;
    this.wanted = false; // keep a socket open

    this.byId = new Map(); // message id -> row element
    this.pending = new Map(); // client_msg_id -> pending item (in send order)
    this.lastSeenId = 0; // highest id the server's stream (welcome / message.new) has shown us
    this.maxOtherId = 0; // highest id of a message from support (agent, bot, system)
    this.ownIds = []; // ids of the player's own messages
    this.latestId = 0; // highest id shown, whoever wrote it
    this.quickReplies = new Map(); // bot message id -> its quick replies
    this.quickRepliesFor = 0; // the message whose buttons are on screen
    this.quickRow = null;
    this.readUpTo = 0; // support has read the player's messages up to this id
    this.deliveredSent = 0;
    this.readSent = Number(storageGet(local(), READ_KEY)) || 0; // for the unread badge
    this.receiptTimer = null;

    this.typingSent = false;
    this.typingSentAt = 0;
    this.typingTimer = null;
    this.agentTypingTimer = null;
    this.noticeTimer = null;
    this.resendTimer = null;

    this.isOpen = false;
    this.offlineDone = false;
    this.view = "chat"; // what the panel shows: "chat", "offline" (leave a message) or "callback"
    this.callbackShown = false; // the "call me back" form is in the panel
    this.callbackBusy = false;
    this.attachmentUrls = new Map();
  }

  Widget.prototype.t = function (key) {
    return this.strings[key] || "";
  };

  // -- the session (HTTP) --

  Widget.prototype.startSession = function () {
    var self = this;
    if (this.sessionRequest) return this.sessionRequest;
    var attempt = function (useVisitorToken) {
      var body = { language: self.language, visitor_token: null };
      if (self.player) body.player = self.player;
      else if (useVisitorToken) body.visitor_token = storageGet(local(), VISITOR_KEY);
      return fetch(SERVER + "/widget/v1/session", {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      }).then(function (response) {
        if (response.status === 401 && body.visitor_token) {
          storageSet(local(), VISITOR_KEY, null); // expired or foreign: start as a new visitor
          return attempt(false);
        }
        if (response.status === 401 && self.player) {
          // The casino's identity hash was refused: chat anonymously rather than not at all.
          if (window.console) console.warn("PlayerDesk: the player's identity hash was refused");
          self.player = null;
          return attempt(true);
        }
        if (!response.ok) throw new HttpError(response.status);
        return response.json();
      });
    };
    this.sessionRequest = attempt(true).then(
      function (answer) {
        self.sessionRequest = null;
        self.acceptSession(answer);
        return answer;
      },
      function (error) {
        self.sessionRequest = null;
        throw error;
      }
    );
    return this.sessionRequest;
  };

  Widget.prototype.acceptSession = function (answer) {
    var firstTime = this.session === null;
    this.session = answer;
    // Renew a minute early; the clock here and the server's need not agree, so only relative.
    this.sessionExpiresAt = Date.now() + Math.max(30, answer.expires_in - 60) * 1000;
    if (answer.visitor_token) storageSet(local(), VISITOR_KEY, answer.visitor_token);
    this.strings = answer.strings || {};
    this.limits = answer.limits || this.limits;
    this.language = answer.language || this.language;
    this.agentsAvailable = !!answer.agents_available;
    if (answer.conversation) this.conversation = answer.conversation;
    if (firstTime) this.build();
    this.refreshTexts();
    this.refreshMode();
  };

  Widget.prototype.freshSession = function () {
    if (this.session && Date.now() < this.sessionExpiresAt) return Promise.resolve(this.session);
    return this.startSession();
  };

  /** fetch() with the session token; a 401 gets one new session and one retry. */
  Widget.prototype.authFetch = function (path, options, retried) {
    var self = this;
    return this.freshSession().then(function (current) {
      var init = Object.assign({ mode: "cors", credentials: "omit" }, options || {});
      init.headers = Object.assign({}, init.headers || {}, { Authorization: "Bearer " + current.token });
      return fetch(SERVER + path, init).then(function (response) {
        if (response.status === 401 && !retried) {
          self.sessionExpiresAt = 0;
          return self.authFetch(path, options, true);
        }
        return response;
      });
    });
  };

  // -- the websocket --

  Widget.prototype.connect = function () {
    var self = this;
    this.wanted = true;
    if (this.ws || this.reconnectTimer) return;
    this.freshSession().then(
      function (current) {
        if (self.ws || self.reconnectTimer) return;
        var socket;
        try {
          socket = new WebSocket(WS_SERVER + "/ws/widget?token=" + encodeURIComponent(current.token));
        } catch (e) {
          self.scheduleReconnect();
          return;
        }
        self.ws = socket;
        // A handshake into a black hole neither opens nor fails: give up on it after a while.
        setTimeout(function () {
          if (self.ws === socket && !self.connected) self.abandon();
        }, CONNECT_WITHIN_MS);
        socket.onopen = function () {
          if (self.ws !== socket) return;
          self.lastHeard = Date.now();
          socket.send(JSON.stringify({ type: "hello", last_seen_id: self.lastSeenId }));
          self.startHeartbeat();
        };
        socket.onmessage = function (event) {
          if (self.ws !== socket) return;
          self.lastHeard = Date.now();
          var frame;
          try {
            frame = JSON.parse(event.data);
          } catch (e) {
            return;
          }
          self.handle(frame);
        };
        socket.onerror = function () {
          /* a close event follows */
        };
        socket.onclose = function (event) {
          if (self.ws !== socket) return;
          self.dropped(event.code, event.reason);
        };
      },
      function () {
        self.scheduleReconnect();
      }
    );
  };

  /** Forget a socket that may be dead without waiting for its close handshake. */
  Widget.prototype.abandon = function () {
    var socket = this.ws;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close(4000, "reconnecting");
    } catch (e) {
      /* already closing */
    }
    this.dropped(1006, "");
  };

  Widget.prototype.dropped = function (code) {
    this.ws = null;
    this.connected = false;
    this.stopHeartbeat();
    this.showAgentTyping(false);
    this.typingSent = false;
    if (code === 4403) {
      if (window.console) console.error("PlayerDesk: this site's origin is not allowed to use the chat");
      this.wanted = false;
      return;
    }
    if (code === 4401) this.sessionExpiresAt = 0; // the token expired: get a new session first
    this.refreshBanner();
    if (this.wanted) this.scheduleReconnect(code === 4429 ? 4 : 0);
  };

  Widget.prototype.scheduleReconnect = function (extraAttempts) {
    var self = this;
    if (this.reconnectTimer || !this.wanted) return;
    this.attempt += 1 + (extraAttempts || 0);
    this.refreshBanner();
    var delay = backoff(this.attempt);
    // Known to be offline: the "online" event reconnects at once; poll only now and then.
    if (navigator.onLine === false) delay = Math.max(delay, OFFLINE_POLL_MS);
    this.reconnectTimer = setTimeout(function () {
      self.reconnectTimer = null;
      self.connect();
    }, delay);
  };

  Widget.prototype.reconnectNow = function () {
    if (!this.wanted) return;
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    this.attempt = 0;
    if (!this.ws) this.connect();
  };

  Widget.prototype.startHeartbeat = function () {
    var self = this;
    this.stopHeartbeat();
    this.pingSentAt = 0;
    this.pingTimer = setInterval(function () {
      var now = Date.now();
      if (self.pingSentAt && self.lastHeard < self.pingSentAt && now - self.pingSentAt > PONG_WITHIN_MS) {
        self.abandon(); // no answer: the connection is dead even if the browser does not know yet
        return;
      }
      if (now - self.lastHeard >= PING_EVERY_MS && (!self.pingSentAt || self.lastHeard >= self.pingSentAt)) {
        self.pingSentAt = now;
        self.send({ type: "ping" });
      }
    }, 1000);
  };

  Widget.prototype.stopHeartbeat = function () {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  };

  Widget.prototype.send = function (frame) {
    if (!this.ws || this.ws.readyState !== 1) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch (e) {
      return false;
    }
  };

  Widget.prototype.handle = function (frame) {
    var self = this;
    switch (frame.type) {
      case "welcome":
        this.connected = true;
        this.attempt = 0;
        this.agentsAvailable = !!frame.agents_available;
        this.conversation = frame.conversation || null;
        (frame.messages || []).forEach(function (message) {
          self.upsert(message, true);
        });
        this.showQueue(frame.queue || null);
        this.refreshBanner();
        this.refreshMode();
        this.resendPending();
        this.scheduleReceipt();
        break;
      case "message.ack":
        this.upsert(frame.message, false);
        break;
      case "message.new":
        this.upsert(frame.message, true);
        if (frame.message && frame.message.author !== "player") {
          this.showAgentTyping(false);
          if (frame.message.author === "agent") this.showQueue(null);
        }
        this.scheduleReceipt();
        break;
      case "typing":
        this.showAgentTyping(!!frame.typing);
        break;
      case "receipt":
        if (typeof frame.read_up_to === "number" && frame.read_up_to > this.readUpTo) {
          this.readUpTo = frame.read_up_to;
          this.refreshStatuses();
        }
        break;
      case "conversation":
        this.conversationChanged(frame.conversation || {});
        break;
      case "queue":
        this.showQueue(frame.queue || null);
        break;
      case "error":
        this.refused(frame);
        break;
      default:
        break; // pong, and frames of later versions
    }
  };

  // Waiting for an agent: where the player stands and roughly how long, until one takes it.
  Widget.prototype.showQueue = function (queue) {
    if (!this.queueRow) return;
    if (!queue || !queue.position) {
      this.queueRow.hidden = true;
      return;
    }
    var text = queue.more_ahead
      ? this.t("queue_long").replace("{count}", String(queue.position - 1))
      : this.t("queue_position").replace("{position}", String(queue.position));
    if (typeof queue.estimated_wait_seconds === "number") {
      var minutes = Math.max(1, Math.round(queue.estimated_wait_seconds / 60));
      text += " " + this.t("queue_wait").replace("{minutes}", String(minutes));
    }
    this.queueRow.textContent = text;
    this.queueRow.hidden = false;
  };

  Widget.prototype.conversationChanged = function (change) {
    var before = this.conversation ? this.conversation.status : null;
    if (change.assigned || change.status === "resolved" || change.status === "closed") {
      this.showQueue(null);
    }
    if (change.status === "closed") {
      this.conversation = null;
    } else {
      this.conversation = Object.assign({}, this.conversation || {}, change);
    }
    if (change.status === "resolved" && before !== "resolved") this.addNote(this.t("resolved"));
  };

  Widget.prototype.refused = function (frame) {
    var self = this;
    var item = frame.client_msg_id ? this.pending.get(frame.client_msg_id) : null;
    if (frame.code === "rate_limited" || frame.code === "unavailable") {
      // Refused for now (too fast, or the server is busy), not for good: the refused frame
      // may not say which message it was, so send what is unacknowledged again, later.
      var wait = frame.retry_after > 0 ? frame.retry_after * 1000 : RESEND_AFTER_RATE_LIMIT_MS;
      if (frame.code === "rate_limited") this.showNotice(frame.detail || this.t("rate_limited"));
      if (!this.resendTimer) {
        this.resendTimer = setTimeout(function () {
          self.resendTimer = null;
          self.resendPending();
        }, wait);
      }
      return;
    }
    if (item) {
      this.markFailed(item, frame.code === "too_long" ? this.t("message_too_long") : frame.detail || this.t("error"));
      return;
    }
    if (frame.detail) this.showNotice(frame.detail);
  };

  // -- messages --

  Widget.prototype.upsert = function (message, fromStream) {
    if (!message || typeof message.id !== "number") return;
    if (fromStream && message.id > this.lastSeenId) this.lastSeenId = message.id;
    if (this.byId.has(message.id)) return; // shown already: never twice
    var row;
    var item = message.client_msg_id ? this.pending.get(message.client_msg_id) : null;
    if (item) {
      // Our own message came back stored: the pending bubble becomes the real one.
      this.pending.delete(message.client_msg_id);
      row = item.row;
      this.fillRow(row, message);
    } else {
      row = this.messageRow(message);
    }
    row.dataset.id = String(message.id);
    row.dataset.sort = String(message.id);
    this.byId.set(message.id, row);
    if (message.author === "player") {
      this.ownIds.push(message.id);
    } else if (message.id > this.maxOtherId) {
      this.maxOtherId = message.id;
    }
    if (message.id > this.latestId) this.latestId = message.id;
    var replies = quickRepliesOf(message);
    if (replies.length) this.quickReplies.set(message.id, replies);
    var nearBottom = this.nearBottom();
    this.place(row);
    this.refreshQuickReplies();
    this.refreshStatuses();
    this.refreshEmpty();
    this.refreshBadge();
    if (nearBottom || message.author === "player") this.scrollToBottom();
  };

  // Web addresses in a message become links (the bot's article links); everything else
  // stays text. Only http(s) addresses: never a javascript: or data: link.
  var WEB_ADDRESS = /https?:\/\/[^\s<>"]+[^\s<>".,;:!?)]/g;

  function fillText(target, text) {
    target.textContent = "";
    var at = 0;
    text.replace(WEB_ADDRESS, function (address, offset) {
      if (offset > at) target.appendChild(document.createTextNode(text.slice(at, offset)));
      var link = el("a", "link", { href: address, target: "_blank", rel: "noopener noreferrer" });
      link.textContent = address;
      target.appendChild(link);
      at = offset + address.length;
      return address;
    });
    if (at < text.length) target.appendChild(document.createTextNode(text.slice(at)));
  }

  Widget.prototype.messageRow = function (message) {
    var author = ["player", "agent", "bot", "system"].indexOf(message.author) >= 0 ? message.author : "agent";
    var row = el("div", "row " + author, { "data-testid": "widget-message", "data-author": author });
    if (author === "agent" || author === "bot") {
      var name = el("div", "name");
      name.textContent = author === "bot" ? this.t("assistant") : message.author_name || this.t("support");
      row.appendChild(name);
    }
    var bubble = el("div", "bubble");
    row.appendChild(bubble);
    row.appendChild(el("div", "files"));
    row.appendChild(el("div", "meta"));
    this.fillRow(row, message);
    return row;
  };

  Widget.prototype.fillRow = function (row, message) {
    var self = this;
    row.classList.remove("pending", "failed");
    fillText(row.querySelector(".bubble"), message.body || "");
    var files = row.querySelector(".files");
    while (files.firstChild) files.removeChild(files.firstChild);
    (message.attachments || []).forEach(function (attachment) {
      files.appendChild(self.attachmentView(attachment));
    });
    var meta = row.querySelector(".meta");
    while (meta.firstChild) meta.removeChild(meta.firstChild);
    if (message.created_at) {
      var time = el("time", "time", { datetime: message.created_at });
      time.textContent = formatTime(message.created_at, this.language);
      meta.appendChild(time);
    }
    if (message.author === "player") meta.appendChild(el("span", "status"));
  };

  Widget.prototype.attachmentView = function (attachment) {
    var self = this;
    var isImage = /^image\/(png|jpeg|gif|webp)$/.test(attachment.content_type || "");
    var button;
    if (isImage) {
      button = el("button", "thumb", {
        type: "button",
        "data-testid": "widget-attachment",
        "aria-label": attachment.filename,
        title: attachment.filename,
      });
      var img = el("img", null, { alt: attachment.filename });
      button.appendChild(img);
      var caption = el("span", "fname", { "aria-hidden": "true" });
      caption.textContent = attachment.filename;
      button.appendChild(caption);
      this.attachmentUrl(attachment.id).then(
        function (url) {
          img.src = url;
        },
        function () {
          img.alt = attachment.filename;
        }
      );
    } else {
      button = el("button", "file", { type: "button", "data-testid": "widget-attachment", title: attachment.filename });
      button.appendChild(icon(ICONS.file));
      var text = el("span");
      var fname = el("span", "fname");
      fname.textContent = attachment.filename;
      var fsize = el("span", "fsize");
      fsize.textContent = formatBytes(attachment.size || 0, this.language);
      text.appendChild(fname);
      text.appendChild(fsize);
      button.appendChild(text);
    }
    button.addEventListener("click", function () {
      self.download(attachment);
    });
    return button;
  };

  /** Attachments need the session token, so images are fetched and shown from blob: URLs. */
  Widget.prototype.attachmentUrl = function (id) {
    if (!this.attachmentUrls.has(id)) {
      var request = this.authFetch("/widget/v1/attachments/" + encodeURIComponent(id))
        .then(function (response) {
          if (!response.ok) throw new HttpError(response.status);
          return response.blob();
        })
        .then(function (blob) {
          return URL.createObjectURL(blob);
        });
      var urls = this.attachmentUrls;
      request.catch(function () {
        urls.delete(id);
      });
      this.attachmentUrls.set(id, request);
    }
    return this.attachmentUrls.get(id);
  };

  Widget.prototype.download = function (attachment) {
    var self = this;
    this.attachmentUrl(attachment.id).then(
      function (url) {
        var link = el("a", null, { href: url, download: attachment.filename || "attachment" });
        self.shadow.appendChild(link);
        link.click();
        link.remove();
      },
      function () {
        self.showNotice(self.t("error"));
      }
    );
  };

  /** Rows are kept in message-id order; pending ones after all stored ones. */
  Widget.prototype.place = function (row) {
    var key = Number(row.dataset.sort);
    if (row.parentNode === this.log) this.log.removeChild(row);
    var rows = this.log.children;
    for (var i = rows.length - 1; i >= 0; i -= 1) {
      var other = rows[i];
      if (!other.dataset.sort) continue;
      if (Number(other.dataset.sort) <= key) {
        this.log.insertBefore(row, other.nextSibling);
        return;
      }
    }
    this.log.insertBefore(row, this.log.firstChild);
  };

  Widget.prototype.addNote = function (text) {
    if (!text) return;
    var row = el("div", "row note", { role: "note" });
    row.dataset.sort = String(Math.max(this.lastSeenId, this.maxOtherId) + 0.5);
    var bubble = el("div", "bubble");
    bubble.textContent = text;
    row.appendChild(bubble);
    this.place(row);
    this.refreshEmpty();
    this.scrollToBottom();
  };

  Widget.prototype.refreshStatuses = function () {
    var self = this;
    var lastOwn = this.ownIds.length ? Math.max.apply(null, this.ownIds) : 0;
    this.ownIds.forEach(function (id) {
      var row = self.byId.get(id);
      if (!row) return;
      var read = id <= self.readUpTo;
      row.dataset.status = read ? "read" : "sent";
      var status = row.querySelector(".status");
      if (!status) return;
      // Every own message knows its state; only the latest says it, as chat apps do.
      status.textContent = id === lastOwn ? self.t(read ? "read" : "sent") : "";
      status.className = "status" + (read ? " read" : "");
    });
  };

  Widget.prototype.newMessage = function (body, attachmentIds, label) {
    var clientMsgId = uuid();
    var row = el("div", "row player pending", {
      "data-testid": "widget-message",
      "data-author": "player",
      "data-status": "pending",
      "data-client-msg-id": clientMsgId,
    });
    row.dataset.sort = "Infinity";
    var bubble = el("div", "bubble");
    bubble.textContent = body || label || "";
    row.appendChild(bubble);
    row.appendChild(el("div", "files"));
    var meta = el("div", "meta");
    var status = el("span", "status");
    status.textContent = this.t("sending");
    meta.appendChild(status);
    row.appendChild(meta);
    var item = { clientMsgId: clientMsgId, body: body, attachmentIds: attachmentIds || [], row: row, failed: false };
    this.pending.set(clientMsgId, item);
    this.log.appendChild(row);
    this.refreshQuickReplies(); // the player answered: the buttons go
    this.refreshEmpty();
    this.scrollToBottom();
    return item;
  };

  Widget.prototype.transmit = function (item) {
    if (item.failed || item.uploading) return;
    if (!this.connected) {
      this.connect(); // sent by resendPending() after the welcome
      return;
    }
    this.send({
      type: "message.send",
      client_msg_id: item.clientMsgId,
      body: item.body,
      attachment_ids: item.attachmentIds,
    });
  };

  Widget.prototype.resendPending = function () {
    var self = this;
    if (!this.connected) return;
    this.pending.forEach(function (item) {
      self.transmit(item); // the same client_msg_id: stored once however often it is sent
    });
  };

  Widget.prototype.markFailed = function (item, reason) {
    var self = this;
    item.failed = true;
    var row = item.row;
    row.classList.remove("pending");
    row.classList.add("failed");
    row.dataset.status = "failed";
    var meta = row.querySelector(".meta");
    while (meta.firstChild) meta.removeChild(meta.firstChild);
    if (reason && reason !== this.t("failed")) {
      var why = el("span", "status");
      why.textContent = reason;
      meta.appendChild(why);
    }
    var retry = el("button", "retry", { type: "button" });
    retry.textContent = this.t("failed");
    retry.addEventListener("click", function () {
      self.retry(item);
    });
    meta.appendChild(retry);
  };

  Widget.prototype.retry = function (item) {
    item.failed = false;
    var row = item.row;
    row.classList.remove("failed");
    row.classList.add("pending");
    row.dataset.status = "pending";
    var meta = row.querySelector(".meta");
    while (meta.firstChild) meta.removeChild(meta.firstChild);
    var status = el("span", "status");
    status.textContent = this.t("sending");
    meta.appendChild(status);
    if (item.file && !item.attachmentIds.length) this.upload(item);
    else this.transmit(item);
  };

  Widget.prototype.submit = function () {
    var body = this.input.value;
    if (!body.trim()) return;
    if (body.length > this.limits.max_message_chars) {
      this.showNotice(this.t("message_too_long"));
      return;
    }
    this.input.value = "";
    this.autosize();
    this.stopTyping();
    this.refreshSend();
    this.transmit(this.newMessage(body, []));
    this.input.focus();
  };

  // -- quick replies --

  /** Buttons under the latest message while it is a bot's that offers them and the player
   *  has not written since: derived from what is shown, so history, catch-up and live frames
   *  all end in the same place and a row is never built twice. */
  Widget.prototype.refreshQuickReplies = function () {
    var self = this;
    if (!this.log) return;
    var replies = this.pending.size === 0 ? this.quickReplies.get(this.latestId) : null;
    var forId = replies ? this.latestId : 0;
    if (forId === this.quickRepliesFor) return;
    if (this.quickRow && this.quickRow.parentNode) this.quickRow.parentNode.removeChild(this.quickRow);
    this.quickRow = null;
    this.quickRepliesFor = forId;
    if (!replies) return;
    var group = el("div", "quick-replies", {
      role: "group",
      "aria-label": this.t("quick_replies") || null,
      "data-testid": "widget-quick-replies",
      "data-for": String(forId),
    });
    group.dataset.sort = String(forId + 0.25); // after its message, before anything newer
    replies.forEach(function (reply) {
      var button = el("button", "quick", {
        type: "button",
        "data-testid": "widget-quick-reply",
        "data-reply-id": reply.id,
      });
      button.textContent = reply.label;
      button.addEventListener("click", function (event) {
        // detail is 0 when a key pressed the button rather than a pointer.
        self.chooseQuickReply(reply.label, event.detail === 0);
      });
      group.appendChild(button);
    });
    this.quickRow = group;
    this.place(group);
  };

  /** A pressed quick reply is the player's message, sent the way a typed one is. */
  Widget.prototype.chooseQuickReply = function (label, byKeyboard) {
    if (label.length > this.limits.max_message_chars) {
      this.showNotice(this.t("message_too_long"));
      return;
    }
    this.transmit(this.newMessage(label, []));
    // The pressed button is gone: keep the focus in the panel. A keyboard user goes on in the
    // input; a tap must not open the phone's keyboard, so it rests on the log.
    if (byKeyboard) this.input.focus();
    else this.log.focus({ preventScroll: true });
  };

  // -- files --

  Widget.prototype.pickFile = function (file) {
    if (!file) return;
    var limits = this.limits;
    if (file.size > limits.max_file_bytes) {
      this.showNotice(this.t("file_too_large").replace("{size}", formatBytes(limits.max_file_bytes, this.language)));
      return;
    }
    // The browser's guess from the name; the server judges the bytes and has the last word.
    if (file.type && limits.file_types && limits.file_types.length && limits.file_types.indexOf(file.type) < 0) {
      this.showNotice(this.t("file_type"));
      return;
    }
    var item = this.newMessage("", [], file.name);
    item.file = file;
    item.row.querySelector(".bubble").textContent = file.name;
    this.upload(item);
  };

  Widget.prototype.upload = function (item) {
    var self = this;
    var form = new FormData();
    form.append("file", item.file, item.file.name);
    item.uploading = true;
    this.authFetch("/widget/v1/attachments", { method: "POST", body: form })
      .then(function (response) {
        if (response.status === 201) return response.json();
        throw new HttpError(response.status);
      })
      .then(
        function (attachment) {
          item.uploading = false;
          item.attachmentIds = [attachment.id];
          item.row.querySelector(".bubble").textContent = "";
          item.row.querySelector(".files").appendChild(
            self.attachmentView({
              id: attachment.id,
              filename: attachment.filename,
              content_type: attachment.content_type,
              size: attachment.size,
            })
          );
          self.transmit(item);
        },
        function (error) {
          item.uploading = false;
          var status = error && error.status;
          var reason =
            status === 413
              ? self.t("file_too_large").replace("{size}", formatBytes(self.limits.max_file_bytes, self.language))
              : status === 415
              ? self.t("file_type")
              : self.t("error");
          self.markFailed(item, reason);
        }
      );
  };

  // -- typing and receipts --

  Widget.prototype.typed = function () {
    var self = this;
    var now = Date.now();
    if (this.input.value.trim()) {
      if (!this.typingSent || now - this.typingSentAt > TYPING_REPEAT_MS) {
        if (this.connected && this.send({ type: "typing", typing: true })) {
          this.typingSent = true;
          this.typingSentAt = now;
        }
      }
      clearTimeout(this.typingTimer);
      this.typingTimer = setTimeout(function () {
        self.stopTyping();
      }, TYPING_IDLE_MS);
    } else {
      this.stopTyping();
    }
  };

  Widget.prototype.stopTyping = function () {
    clearTimeout(this.typingTimer);
    this.typingTimer = null;
    if (this.typingSent) {
      this.send({ type: "typing", typing: false });
      this.typingSent = false;
    }
  };

  Widget.prototype.showAgentTyping = function (typing) {
    var self = this;
    if (!this.typingRow) return;
    clearTimeout(this.agentTypingTimer);
    this.typingRow.hidden = !typing;
    if (typing) {
      var nearBottom = this.nearBottom();
      this.agentTypingTimer = setTimeout(function () {
        self.showAgentTyping(false); // a "stopped" that never came
      }, AGENT_TYPING_TIMEOUT_MS);
      if (nearBottom) this.scrollToBottom();
    }
  };

  Widget.prototype.scheduleReceipt = function () {
    var self = this;
    clearTimeout(this.receiptTimer);
    this.receiptTimer = setTimeout(function () {
      self.flushReceipt();
    }, 200);
  };

  Widget.prototype.flushReceipt = function () {
    if (!this.connected || !this.maxOtherId) return;
    var frame = { type: "receipt" };
    var visible = this.isOpen && document.visibilityState === "visible";
    if (this.maxOtherId > this.deliveredSent) frame.delivered_up_to = this.maxOtherId;
    if (visible && this.maxOtherId > this.readSent) frame.read_up_to = this.maxOtherId;
    if (frame.delivered_up_to === undefined && frame.read_up_to === undefined) return;
    if (this.send(frame)) {
      this.deliveredSent = Math.max(this.deliveredSent, this.maxOtherId);
      if (frame.read_up_to !== undefined) {
        this.readSent = frame.read_up_to;
        storageSet(local(), READ_KEY, String(this.readSent));
      }
      this.refreshBadge();
    }
  };

  Widget.prototype.unreadCount = function () {
    var count = 0;
    var self = this;
    this.byId.forEach(function (row, id) {
      if (id > self.readSent && row.dataset.author !== "player") count += 1;
    });
    return count;
  };

  // -- leave a message (no agent available) --

  Widget.prototype.submitOffline = function (event) {
    var self = this;
    event.preventDefault();
    var email = this.offlineEmail.value.trim();
    var name = this.offlineName.value.trim();
    var body = this.offlineMessage.value.trim();
    var emailOk = /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email);
    this.offlineEmail.setAttribute("aria-invalid", emailOk ? "false" : "true");
    this.offlineMessage.setAttribute("aria-invalid", body ? "false" : "true");
    if (!emailOk) return this.offlineEmail.focus();
    if (!body) return this.offlineMessage.focus();
    this.offlineSend.disabled = true;
    var payload = { email: email, body: body };
    if (name) payload.name = name;
    this.authFetch("/widget/v1/offline", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
    })
      .then(function (response) {
        if (response.status === 201) return response.json();
        throw new HttpError(response.status);
      })
      .then(
        function (answer) {
          self.offlineDone = true;
          self.thanksText.textContent = self.t("offline_thanks").replace("{number}", String(answer.ticket_number));
          self.offlineForm.hidden = true;
          self.thanks.hidden = false;
          self.thanks.focus();
        },
        function (error) {
          self.offlineSend.disabled = false;
          self.showNotice(self.t("error"));
        }
      );
    return undefined;
  };

  // -- call me back --

  var CALLBACK_FIELDS = ["phone", "when", "from_time", "until_time", "reason"];

  /** The "call me back" form in place of the chat (or of the message form), or back again. */
  Widget.prototype.showCallback = function (shown) {
    if (shown && !this.callbackShown) {
      // A new request after one was sent: the form again, with the number kept.
      this.callbackForm.hidden = false;
      this.callbackIntro.hidden = false;
      this.callbackThanks.hidden = true;
      this.clearCallbackErrors();
    }
    this.callbackShown = !!shown;
    this.refreshMode();
  };

  Widget.prototype.callbackWhen = function () {
    var checked = this.callbackForm.querySelector('input[name="pd-cb-when"]:checked');
    return checked ? checked.value : "asap";
  };

  Widget.prototype.refreshCallbackTimes = function () {
    this.callbackTimes.hidden = this.callbackWhen() === "asap";
  };

  Widget.prototype.clearCallbackErrors = function () {
    var self = this;
    CALLBACK_FIELDS.forEach(function (name) {
      var field = self.callbackFields[name];
      field.error.hidden = true;
      field.error.textContent = "";
      field.control.removeAttribute("aria-invalid");
      if (field.describedBy) field.control.setAttribute("aria-describedby", field.describedBy);
      else field.control.removeAttribute("aria-describedby");
    });
  };

  /** The server's refusals (problem+json `errors`), each under its field; others as a notice. */
  Widget.prototype.showCallbackErrors = function (errors) {
    var self = this;
    var first = null;
    var elsewhere = [];
    errors.forEach(function (error) {
      var field = error && self.callbackFields[error.field];
      if (!field) {
        if (error && error.message) elsewhere.push(String(error.message));
        return;
      }
      field.error.textContent = String(error.message || self.t("error"));
      field.error.hidden = false;
      field.control.setAttribute("aria-invalid", "true");
      field.control.setAttribute("aria-describedby", (field.describedBy + " " + field.error.id).trim());
      if (!first) first = field;
    });
    this.refreshCallbackTimes();
    if (elsewhere.length) this.showNotice(elsewhere.join(" "));
    if (first) first.focusTarget.focus();
    else if (!elsewhere.length) this.showNotice(this.t("error"));
  };

  Widget.prototype.submitCallback = function (event) {
    var self = this;
    event.preventDefault();
    if (this.callbackBusy) return;
    this.clearCallbackErrors();
    var when = this.callbackWhen();
    var payload = {
      phone: this.callbackPhone.value.trim(),
      when: when,
      reason: this.callbackReason.value.trim(),
    };
    if (when !== "asap") {
      payload.from_time = this.callbackFrom.value;
      payload.until_time = this.callbackUntil.value;
    }
    // The times are the player's; the hint above them names the same zone.
    payload.time_zone = timeZone() || "UTC";
    this.callbackBusy = true;
    this.callbackSend.disabled = true;
    this.authFetch("/widget/v1/callbacks", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
    })
      .then(function (response) {
        return response.json().then(
          function (body) {
            return { status: response.status, body: body || {} };
          },
          function () {
            return { status: response.status, body: {} };
          }
        );
      })
      .then(
        function (answer) {
          self.callbackBusy = false;
          self.callbackSend.disabled = false;
          var body = answer.body;
          if (answer.status === 201) {
            self.callbackThanksText.textContent = String(body.confirmation || "");
            self.callbackForm.hidden = true;
            self.callbackIntro.hidden = true;
            self.callbackThanks.hidden = false;
            self.callbackReason.value = "";
            self.callbackThanks.focus();
          } else if (answer.status === 422 && Array.isArray(body.errors) && body.errors.length) {
            self.showCallbackErrors(body.errors);
          } else if (answer.status === 429 && body.detail) {
            self.showNotice(String(body.detail)); // when to try again, in the player's language
          } else {
            self.showNotice(self.t("error"));
          }
        },
        function () {
          self.callbackBusy = false;
          self.callbackSend.disabled = false;
          self.showNotice(self.t("error"));
        }
      );
  };

  Widget.prototype.buildCallback = function () {
    var self = this;
    var view = el("div", "offline callback", { "data-testid": "widget-callback" });
    view.hidden = true;
    this.callbackBack = el("button", "back", { type: "button", "data-testid": "widget-callback-back" });
    this.callbackBack.appendChild(icon(ICONS.back));
    this.callbackBackText = el("span");
    this.callbackBack.appendChild(this.callbackBackText);
    this.callbackBack.addEventListener("click", function () {
      self.showCallback(false);
    });
    view.appendChild(this.callbackBack);
    this.callbackIntro = el("p");
    view.appendChild(this.callbackIntro);

    var form = el("form", "offline-form", { novalidate: "", "data-testid": "widget-callback-form" });
    this.callbackFields = {};
    var register = function (name, control, focusTarget, describedBy) {
      var error = el("p", "field-error", {
        id: "pd-cb-" + name + "-error",
        "data-testid": "widget-callback-error-" + name,
      });
      error.hidden = true;
      self.callbackFields[name] = {
        control: control,
        focusTarget: focusTarget || control,
        error: error,
        describedBy: describedBy || "",
      };
      return error;
    };
    var field = function (name, control, testid, hint) {
      var wrap = el("div", "field");
      var label = el("label", null, { for: "pd-cb-" + name });
      control.id = "pd-cb-" + name;
      control.setAttribute("data-testid", testid);
      wrap.appendChild(label);
      var hintNode = null;
      if (hint) {
        hintNode = el("p", "hint", { id: "pd-cb-" + name + "-hint" });
        wrap.appendChild(hintNode);
      }
      var error = register(name, control, null, hintNode ? hintNode.id : "");
      wrap.appendChild(error);
      wrap.appendChild(control);
      return { wrap: wrap, label: label, hint: hintNode };
    };

    this.callbackPhone = el("input", null, {
      type: "tel",
      autocomplete: "tel",
      inputmode: "tel",
      spellcheck: "false",
      maxlength: "40",
      required: "",
    });
    var phone = field("phone", this.callbackPhone, "widget-callback-phone", true);
    this.callbackPhoneLabel = phone.label;
    this.callbackPhoneHint = phone.hint;
    form.appendChild(phone.wrap);

    var when = el("fieldset", "field", { id: "pd-cb-when" });
    this.callbackWhenLegend = el("legend");
    when.appendChild(this.callbackWhenLegend);
    var whenError = register("when", when, null, "");
    when.appendChild(whenError);
    var choices = el("div", "choices");
    this.callbackChoiceTexts = {};
    ["asap", "today", "tomorrow"].forEach(function (value) {
      var choice = el("label", "choice", { "data-testid": "widget-callback-when-" + value });
      var radio = el("input", null, { type: "radio", name: "pd-cb-when", value: value });
      if (value === "asap") radio.checked = true;
      radio.addEventListener("change", function () {
        self.refreshCallbackTimes();
      });
      var text = el("span");
      choice.appendChild(radio);
      choice.appendChild(text);
      choices.appendChild(choice);
      self.callbackChoiceTexts[value] = text;
      if (value === "asap") self.callbackFields.when.focusTarget = radio;
    });
    when.appendChild(choices);
    this.callbackTimes = el("div", "times", { "data-testid": "widget-callback-times" });
    this.callbackTimes.hidden = true;
    this.callbackTimesHint = el("p", "hint", { id: "pd-cb-times-hint" });
    this.callbackTimes.appendChild(this.callbackTimesHint);
    var range = el("div", "time-range");
    this.callbackFrom = el("input", null, { type: "time", step: "900" });
    var from = field("from_time", this.callbackFrom, "widget-callback-from", false);
    this.callbackFields.from_time.describedBy = "pd-cb-times-hint";
    this.callbackFromLabel = from.label;
    range.appendChild(from.wrap);
    this.callbackUntil = el("input", null, { type: "time", step: "900" });
    var until = field("until_time", this.callbackUntil, "widget-callback-until", false);
    this.callbackFields.until_time.describedBy = "pd-cb-times-hint";
    this.callbackUntilLabel = until.label;
    range.appendChild(until.wrap);
    this.callbackTimes.appendChild(range);
    when.appendChild(this.callbackTimes);
    form.appendChild(when);

    this.callbackReason = el("input", null, { type: "text", maxlength: "500" });
    var reason = field("reason", this.callbackReason, "widget-callback-reason", false);
    this.callbackReasonLabel = reason.label;
    form.appendChild(reason.wrap);

    this.callbackSend = el("button", "primary", { type: "submit", "data-testid": "widget-callback-send" });
    form.appendChild(this.callbackSend);
    form.addEventListener("submit", function (event) {
      self.submitCallback(event);
    });
    this.callbackForm = form;
    view.appendChild(form);

    this.callbackThanks = el("div", "thanks", { role: "status", tabindex: "-1", "data-testid": "widget-callback-thanks" });
    this.callbackThanks.appendChild(icon(ICONS.check));
    this.callbackThanksText = el("span");
    this.callbackThanks.appendChild(this.callbackThanksText);
    this.callbackThanks.hidden = true;
    view.appendChild(this.callbackThanks);
    this.callbackView = view;
    return view;
  };

  Widget.prototype.refreshCallbackTexts = function () {
    var t = this.t.bind(this);
    this.callbackButton.setAttribute("aria-label", t("callback_open"));
    this.callbackButton.setAttribute("title", t("callback_open"));
    this.offlineCallbackText.textContent = t("callback_open");
    this.callbackBackText.textContent = t("callback_back");
    this.callbackIntro.textContent = t("callback_intro");
    this.callbackPhoneLabel.textContent = t("callback_phone");
    this.callbackPhoneHint.textContent = t("callback_phone_hint");
    this.callbackWhenLegend.textContent = t("callback_when");
    this.callbackChoiceTexts.asap.textContent = t("callback_asap");
    this.callbackChoiceTexts.today.textContent = t("callback_today");
    this.callbackChoiceTexts.tomorrow.textContent = t("callback_tomorrow");
    this.callbackTimesHint.textContent = t("callback_times").replace("{zone}", timeZone() || "UTC");
    this.callbackFromLabel.textContent = t("callback_from");
    this.callbackUntilLabel.textContent = t("callback_until");
    this.callbackReasonLabel.textContent = t("callback_reason") + " ";
    var optional = el("span", "optional");
    optional.textContent = t("callback_optional");
    this.callbackReasonLabel.appendChild(optional);
    this.callbackSend.textContent = t("callback_send");
  };

  // -- the DOM --

  Widget.prototype.build = function () {
    var self = this;
    var host = document.createElement("playerdesk-widget");
    host.setAttribute("data-testid", "widget-host");
    if (config.color) host.style.setProperty("--pd-accent", config.color);
    var shadow = host.attachShadow({ mode: "open" });
    this.host = host;
    this.shadow = shadow;
    applyStyles(shadow);
    var root = el("div", "root");
    shadow.appendChild(root);

    // launcher
    var launcher = el("button", "launcher", {
      type: "button",
      "data-testid": "widget-launcher",
      "aria-expanded": "false",
      "aria-controls": "pd-panel",
    });
    this.launcherIcon = icon(ICONS.chat);
    launcher.appendChild(this.launcherIcon);
    this.badge = el("span", "badge", { "aria-hidden": "true", "data-testid": "widget-badge" });
    this.badge.hidden = true;
    launcher.appendChild(this.badge);
    launcher.addEventListener("click", function () {
      self.toggle();
    });
    launcher.addEventListener("keydown", function (event) {
      if (event.key === "Escape") self.close();
    });
    this.launcher = launcher;

    // panel
    var panel = el("div", "panel", {
      id: "pd-panel",
      role: "dialog",
      "aria-modal": "false",
      "aria-labelledby": "pd-title",
      "data-testid": "widget-panel",
    });
    panel.hidden = true;
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.stopPropagation();
        self.close();
      }
    });
    this.panel = panel;

    var header = el("div", "header");
    var avatar = el("div", "avatar", { "aria-hidden": "true" });
    avatar.appendChild(icon(ICONS.chat));
    header.appendChild(avatar);
    var heading = el("div", "heading");
    this.title = el("h2", "title", { id: "pd-title", "data-testid": "widget-title" });
    this.subtitle = el("p", "subtitle", { "data-testid": "widget-subtitle" });
    this.dot = el("span", "dot", { "aria-hidden": "true" });
    this.subtitleText = el("span");
    this.subtitle.appendChild(this.dot);
    this.subtitle.appendChild(this.subtitleText);
    heading.appendChild(this.title);
    heading.appendChild(this.subtitle);
    header.appendChild(heading);
    this.closeButton = el("button", "close", { type: "button", "data-testid": "widget-close" });
    this.closeButton.appendChild(icon(ICONS.close));
    this.closeButton.addEventListener("click", function () {
      self.close();
    });
    this.callbackButton = el("button", "head-tool", { type: "button", "data-testid": "widget-callback-open" });
    this.callbackButton.appendChild(icon(ICONS.phone));
    this.callbackButton.addEventListener("click", function () {
      self.showCallback(true);
    });
    header.appendChild(this.callbackButton);
    header.appendChild(this.closeButton);
    panel.appendChild(header);

    this.banner = el("div", "banner", { role: "status", "data-testid": "widget-reconnecting" });
    this.banner.hidden = true;
    panel.appendChild(this.banner);

    // conversation view
    this.chatView = el("div", "view");
    this.chatView.style.display = "contents";
    this.log = el("div", "log", { role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "-1" });
    this.empty = el("p", "empty", { "data-testid": "widget-empty" });
    this.log.appendChild(this.empty);
    this.chatView.appendChild(this.log);
    this.typingRow = el("div", "typing", { "data-testid": "widget-typing", "aria-live": "polite" });
    var dots = el("span", "dots", { "aria-hidden": "true" });
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    this.typingText = el("span");
    this.typingRow.appendChild(dots);
    this.typingRow.appendChild(this.typingText);
    this.typingRow.hidden = true;
    this.chatView.appendChild(this.typingRow);
    this.queueRow = el("p", "queue", { "data-testid": "widget-queue", "aria-live": "polite" });
    this.queueRow.hidden = true;
    this.chatView.appendChild(this.queueRow);

    this.notice = el("p", "notice", { role: "alert", "data-testid": "widget-notice" });
    this.notice.hidden = true;

    var composer = el("form", "composer", { "data-testid": "widget-composer" });
    composer.addEventListener("submit", function (event) {
      event.preventDefault();
      self.submit();
    });
    this.fileInput = el("input", "visually-hidden", { type: "file", tabindex: "-1", "data-testid": "widget-file" });
    this.fileInput.addEventListener("change", function () {
      var file = self.fileInput.files && self.fileInput.files[0];
      self.fileInput.value = "";
      self.pickFile(file);
    });
    this.attachButton = el("button", "tool", { type: "button", "data-testid": "widget-attach" });
    this.attachButton.appendChild(icon(ICONS.clip));
    this.attachButton.addEventListener("click", function () {
      self.fileInput.click();
    });
    this.input = el("textarea", "input", { rows: "1", "data-testid": "widget-input" });
    this.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        self.submit();
      }
    });
    this.input.addEventListener("input", function () {
      self.autosize();
      self.refreshSend();
      self.typed();
    });
    this.input.addEventListener("blur", function () {
      self.stopTyping();
    });
    this.sendButton = el("button", "tool send", { type: "submit", "data-testid": "widget-send" });
    this.sendButton.appendChild(icon(ICONS.send));
    this.sendButton.disabled = true;
    composer.appendChild(this.fileInput);
    composer.appendChild(this.attachButton);
    composer.appendChild(this.input);
    composer.appendChild(this.sendButton);
    this.composer = composer;
    this.chatView.appendChild(this.notice);
    this.chatView.appendChild(composer);
    panel.appendChild(this.chatView);

    // leave-a-message view
    this.offlineView = el("div", "offline", { "data-testid": "widget-offline" });
    this.offlineView.hidden = true;
    this.offlineIntro = el("p");
    this.offlineView.appendChild(this.offlineIntro);
    var form = el("form", "offline-form", { novalidate: "" });
    var field = function (id, control, testid) {
      var wrap = el("div", "field");
      var label = el("label", null, { for: id });
      control.id = id;
      control.setAttribute("data-testid", testid);
      wrap.appendChild(label);
      wrap.appendChild(control);
      form.appendChild(wrap);
      return label;
    };
    this.offlineEmail = el("input", null, { type: "email", autocomplete: "email", required: "", maxlength: "254" });
    this.offlineEmailLabel = field("pd-email", this.offlineEmail, "widget-offline-email");
    this.offlineName = el("input", null, { type: "text", autocomplete: "name", maxlength: "200" });
    this.offlineNameLabel = field("pd-name", this.offlineName, "widget-offline-name");
    this.offlineMessage = el("textarea", null, { required: "", rows: "5" });
    this.offlineMessageLabel = field("pd-message", this.offlineMessage, "widget-offline-message");
    this.offlineSend = el("button", "primary", { type: "submit", "data-testid": "widget-offline-send" });
    form.appendChild(this.offlineSend);
    form.addEventListener("submit", function (event) {
      self.submitOffline(event);
    });
    this.offlineForm = form;
    this.offlineView.appendChild(form);
    this.thanks = el("div", "thanks", { role: "status", tabindex: "-1", "data-testid": "widget-offline-thanks" });
    this.thanks.appendChild(icon(ICONS.check));
    this.thanksText = el("span");
    this.thanks.appendChild(this.thanksText);
    this.thanks.hidden = true;
    this.offlineView.appendChild(this.thanks);
    // Rather talk than write: the same "call me back" as in the header.
    this.offlineCallback = el("button", "secondary", { type: "button", "data-testid": "widget-offline-callback" });
    this.offlineCallback.appendChild(icon(ICONS.phone));
    this.offlineCallbackText = el("span");
    this.offlineCallback.appendChild(this.offlineCallbackText);
    this.offlineCallback.addEventListener("click", function () {
      self.showCallback(true);
    });
    this.offlineView.appendChild(this.offlineCallback);
    panel.appendChild(this.offlineView);
    panel.appendChild(this.buildCallback());
    if (this.player) {
      if (this.player.email) this.offlineEmail.value = this.player.email;
      if (this.player.name) this.offlineName.value = this.player.name;
    }

    root.appendChild(panel);
    root.appendChild(launcher);
    (document.body || document.documentElement).appendChild(host);
  };

  Widget.prototype.refreshTexts = function () {
    var t = this.t.bind(this);
    this.launcher.setAttribute("aria-label", this.isOpen ? t("close") : t("open"));
    this.launcher.setAttribute("title", this.isOpen ? t("close") : t("open"));
    this.title.textContent = t("title");
    this.closeButton.setAttribute("aria-label", t("close"));
    this.closeButton.setAttribute("title", t("close"));
    this.banner.textContent = t("reconnecting");
    this.empty.textContent = t("empty");
    this.typingText.textContent = t("typing");
    this.attachButton.setAttribute("aria-label", t("attach"));
    this.attachButton.setAttribute("title", t("attach"));
    this.input.setAttribute("placeholder", t("placeholder"));
    this.input.setAttribute("aria-label", t("placeholder"));
    this.input.setAttribute("maxlength", String(this.limits.max_message_chars));
    this.sendButton.setAttribute("aria-label", t("send"));
    this.sendButton.setAttribute("title", t("send"));
    this.fileInput.setAttribute("accept", (this.limits.file_types || []).join(","));
    this.fileInput.setAttribute("aria-label", t("attach"));
    this.offlineIntro.textContent = t("offline_intro");
    this.offlineEmailLabel.textContent = t("offline_email");
    this.offlineNameLabel.textContent = t("offline_name");
    this.offlineMessageLabel.textContent = t("offline_message");
    this.offlineSend.textContent = t("offline_send");
    this.refreshCallbackTexts();
    this.host.setAttribute("lang", this.language || "");
  };

  /** Chat, or (nobody online and no conversation going on) the leave-a-message form; the
   *  "call me back" form over either while the player has it open. */
  Widget.prototype.refreshMode = function () {
    if (!this.panel) return;
    var offline = !this.agentsAvailable && (this.offlineDone || (!this.conversation && this.byId.size === 0));
    var callback = this.callbackShown;
    this.subtitleText.textContent = this.t(this.agentsAvailable ? "subtitle_online" : "subtitle_offline");
    this.dot.classList.toggle("off", !this.agentsAvailable);
    var before = this.view;
    this.view = callback ? "callback" : offline ? "offline" : "chat";
    this.callbackView.hidden = !callback;
    this.callbackButton.hidden = callback;
    this.offlineView.hidden = this.view !== "offline";
    this.chatView.style.display = this.view === "chat" ? "contents" : "none";
    if (before !== this.view) this.notice.hidden = true; // it was about the other view
    if (this.isOpen && before !== this.view) this.focusFirst();
  };

  Widget.prototype.refreshBanner = function () {
    if (!this.banner) return;
    // Only once the first connection was lost: not while the very first one is being made.
    this.banner.hidden = this.connected || !this.wanted || (this.attempt === 0 && !this.everConnected);
    if (this.connected) this.everConnected = true;
  };

  Widget.prototype.refreshEmpty = function () {
    if (!this.empty) return;
    this.empty.hidden = this.byId.size > 0 || this.pending.size > 0 || this.log.querySelector(".note") !== null;
  };

  Widget.prototype.refreshBadge = function () {
    if (!this.badge) return;
    var count = this.isOpen ? 0 : this.unreadCount();
    this.badge.hidden = count === 0;
    this.badge.textContent = count > 9 ? "9+" : String(count);
  };

  Widget.prototype.refreshSend = function () {
    this.sendButton.disabled = !this.input.value.trim();
  };

  Widget.prototype.autosize = function () {
    this.input.style.height = "auto";
    this.input.style.height = Math.min(this.input.scrollHeight + 2, 132) + "px";
  };

  Widget.prototype.showNotice = function (text) {
    var self = this;
    if (!this.notice) return;
    clearTimeout(this.noticeTimer);
    this.notice.textContent = text;
    this.notice.hidden = false;
    this.noticeTimer = setTimeout(function () {
      self.notice.hidden = true;
    }, NOTICE_MS);
    if (!this.callbackView.hidden) this.callbackView.appendChild(this.notice);
    else if (!this.offlineView.hidden) this.offlineView.appendChild(this.notice);
    else this.chatView.insertBefore(this.notice, this.composer);
  };

  Widget.prototype.nearBottom = function () {
    if (!this.log) return true;
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 80;
  };

  Widget.prototype.scrollToBottom = function () {
    if (this.log) this.log.scrollTop = this.log.scrollHeight;
  };

  Widget.prototype.focusFirst = function () {
    if (!this.callbackView.hidden) {
      if (!this.callbackThanks.hidden) this.callbackThanks.focus();
      else this.callbackPhone.focus();
    } else if (!this.offlineView.hidden) {
      if (!this.thanks.hidden) this.thanks.focus();
      else (this.offlineEmail.value ? this.offlineMessage : this.offlineEmail).focus();
    } else {
      this.input.focus();
    }
  };

  Widget.prototype.open = function () {
    var self = this;
    if (!this.panel) {
      this.openWhenReady = true;
      return;
    }
    if (this.isOpen) return;
    this.isOpen = true;
    storageSet(session(), OPEN_KEY, "1");
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.classList.add("open");
    this.launcher.replaceChild(icon(ICONS.down), this.launcherIcon);
    this.launcherIcon = this.launcher.firstChild;
    this.refreshTexts();
    this.refreshMode();
    this.refreshBadge();
    this.connect();
    this.scrollToBottom();
    this.focusFirst();
    this.scheduleReceipt();
    // After the panel's first layout the input can grow to its content.
    requestAnimationFrame(function () {
      self.autosize();
    });
  };

  Widget.prototype.close = function () {
    if (!this.isOpen) return;
    // What the player saw while the panel was open is read, even if the debounced receipt
    // has not gone out yet: send it now, or those messages would count as unread.
    clearTimeout(this.receiptTimer);
    this.flushReceipt();
    this.isOpen = false;
    storageSet(session(), OPEN_KEY, null);
    this.stopTyping();
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.classList.remove("open");
    this.launcher.replaceChild(icon(ICONS.chat), this.launcherIcon);
    this.launcherIcon = this.launcher.firstChild;
    this.refreshTexts();
    this.refreshBadge();
    this.launcher.focus();
  };

  Widget.prototype.toggle = function () {
    if (this.isOpen) this.close();
    else this.open();
  };

  Widget.prototype.boot = function () {
    var self = this;
    window.addEventListener("offline", function () {
      self.abandon(); // the network is gone: the socket is too, whatever it claims
    });
    window.addEventListener("online", function () {
      self.reconnectNow();
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState !== "visible") return;
      if (self.wanted && !self.ws) self.reconnectNow();
      self.scheduleReceipt();
    });
    var tries = 0;
    var start = function () {
      self.startSession().then(
        function (answer) {
          // A conversation is going on (or the panel was open on the previous page): follow it.
          if (answer.conversation || storageGet(session(), OPEN_KEY) || self.openWhenReady) self.connect();
          if (storageGet(session(), OPEN_KEY) || self.openWhenReady) self.open();
        },
        function () {
          tries += 1;
          setTimeout(start, backoff(tries));
        }
      );
    };
    start();
  };

  var widget = new Widget();
  window.PlayerDeskWidget = {
    open: function () {
      widget.open();
    },
    close: function () {
      widget.close();
    },
    toggle: function () {
      widget.toggle();
    },
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      widget.boot();
    });
  } else {
    widget.boot();
  }
})();
