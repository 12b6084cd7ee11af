// The sandbox's chat page: no build step, no dependencies. Talks to /sandbox/api and
// /sandbox/ws/<user_id>. Everything the bot sends is rendered with DOM APIs, never innerHTML.
"use strict";

const API = "/sandbox/api";
const OPEN_KEY = "jingong-sandbox-open-chats";
const columns = new Map(); // user_id -> ChatColumn
let knownUsers = new Map(); // user_id -> user JSON
let personas = [];
let botInfo = null;

// -- tiny helpers -----------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, options = {}) {
  const init = { method: options.method || "GET", headers: {} };
  if (options.body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch(API + path, init);
  let data = null;
  try { data = await response.json(); } catch (_) { /* empty body */ }
  if (!response.ok) {
    const detail = data && (data.error || JSON.stringify(data.detail || data));
    throw new Error(detail || response.statusText);
  }
  return data;
}

// UI icons as inline SVG: the machine may have no emoji font at all
const ICONS = {
  file: "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zm0 1.5L18.5 8H14zM8 13h8v1.6H8zm0 3.4h8V18H8z",
  phone: "M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z",
  user: "M12 12a4.5 4.5 0 1 0 0-9 4.5 4.5 0 0 0 0 9zm0 2c-4 0-8 2-8 5v2h16v-2c0-3-4-5-8-5z",
  bot: "M11 2h2v3h4a3 3 0 0 1 3 3v9a3 3 0 0 1-3 3H7a3 3 0 0 1-3-3V8a3 3 0 0 1 3-3h4zM9 10.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm6 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zM8 16v1.5h8V16z",
};

function icon(name, size = 20) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", String(size));
  svg.setAttribute("height", String(size));
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", ICONS[name]);
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}

// -- emoji the browser cannot draw ---------------------------------------------------------------
// Without an emoji font (Debian: fonts-noto-color-emoji) every 🔴 ✅ 📊 is an empty box, and the
// bot starts most buttons with one. The page draws each emoji once on a canvas and compares it
// with a code point no font has: an emoji drawn like that box is left out (with its space).
const EMOJI = /\p{Extended_Pictographic}(?:\uFE0F|\u20E3|[\u{1F3FB}-\u{1F3FF}]|\u200D\p{Extended_Pictographic})*\uFE0F? ?/gu;
const MISSING_PROBE = "\u{10FFFD}"; // a private-use code point: drawn as the "no glyph" box
const drawable = new Map(); // first code point -> can the browser draw it
let probe = null;

function glyphPixels(text) {
  if (!probe) {
    const canvas = document.createElement("canvas");
    canvas.width = 40; canvas.height = 40;
    probe = canvas.getContext("2d", { willReadFrequently: true });
    probe.textBaseline = "top";
  }
  probe.font = `28px ${getComputedStyle(document.body).fontFamily}`;
  probe.clearRect(0, 0, 40, 40);
  probe.fillText(text, 2, 4);
  return probe.getImageData(0, 0, 40, 40).data.join(",");
}

function canDraw(emoji) {
  const key = String.fromCodePoint(emoji.codePointAt(0));
  if (!drawable.has(key)) {
    const pixels = glyphPixels(key);
    drawable.set(key, pixels !== glyphPixels(MISSING_PROBE) && /[^0,]/.test(pixels));
  }
  return drawable.get(key);
}

// what the page shows of a text the bot sent: the same text less the emoji it cannot draw
function shown(text) {
  return text.replace(EMOJI, (emoji) => (canDraw(emoji) ? emoji : ""));
}

function initials(name) {
  return (name || "?").trim().slice(0, 1).toUpperCase();
}

function avatarColor(id) {
  const colors = ["#e17076", "#7bc862", "#e5ca77", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774"];
  return colors[Math.abs(Number(id)) % colors.length];
}

// the bot writes Beijing time ("截至 0:00（北京时间）"): the page shows the same clock, not the browser's
const BOT_TIME_ZONE = "Asia/Shanghai";
const TIME_FORMAT = new Intl.DateTimeFormat("zh-CN", {
  hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: BOT_TIME_ZONE,
});

function formatTime(unix) {
  return TIME_FORMAT.format(new Date(unix * 1000));
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// -- entities → DOM (offsets are UTF-16 code units, like JS strings) ---------------------------
function entityElement(entity, text, onCommand) {
  switch (entity.type) {
    case "bold": return el("b");
    case "italic": return el("i");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "code": return el("code");
    case "pre": return el("pre", { "data-language": entity.language });
    case "blockquote":
    case "expandable_blockquote": return el("blockquote");
    case "spoiler": {
      const span = el("span", { class: "spoiler", title: "点击显示 · click to reveal" });
      span.addEventListener("click", () => span.classList.add("revealed"));
      return span;
    }
    case "text_link": return el("a", { href: entity.url, target: "_blank", rel: "noopener noreferrer" });
    case "url": {
      const href = /^[a-z]+:\/\//i.test(text) ? text : `http://${text}`;
      return el("a", { href, target: "_blank", rel: "noopener noreferrer" });
    }
    case "bot_command": {
      const span = el("span", { class: "command" });
      if (onCommand) span.addEventListener("click", () => onCommand(text));
      return span;
    }
    case "text_mention": return el("span", { class: "mention" });
    default: return el("span", { "data-entity": entity.type });
  }
}

function renderEntities(text, entities, onCommand) {
  const sorted = (entities || []).slice().sort((a, b) => a.offset - b.offset || b.length - a.length);
  function build(start, end, list) {
    const fragment = document.createDocumentFragment();
    let pos = start;
    let i = 0;
    while (i < list.length) {
      const entity = list[i];
      const entityEnd = entity.offset + entity.length;
      if (entity.offset < pos || entityEnd > end) { i++; continue; } // overlapping: skip
      if (entity.offset > pos) fragment.append(shown(text.slice(pos, entity.offset)));
      const inner = [];
      let j = i + 1;
      while (j < list.length && list[j].offset < entityEnd) {
        if (list[j].offset + list[j].length <= entityEnd) inner.push(list[j]);
        j++;
      }
      const node = entityElement(entity, text.slice(entity.offset, entityEnd), onCommand);
      node.append(build(entity.offset, entityEnd, inner));
      fragment.append(node);
      pos = entityEnd;
      i = j;
    }
    if (pos < end) fragment.append(shown(text.slice(pos, end)));
    return fragment;
  }
  return build(0, text.length, sorted);
}

// -- a chat column ------------------------------------------------------------------------------
class ChatColumn {
  constructor(user) {
    this.user = user;
    this.userId = user.id;
    this.messages = new Map(); // message_id -> element
    this.pendingQueries = new Map(); // query_id -> button element
    this.closed = false;
    this.socket = null;
    this.typingTimer = null;
    this.toastTimer = null;
    this.contactRequested = false;

    const node = document.getElementById("chat-template").content.firstElementChild.cloneNode(true);
    node.dataset.userId = String(user.id);
    this.node = node;
    this.$ = (selector) => node.querySelector(selector);
    this.$messages = this.$(".messages");
    this.$keyboard = this.$(".reply-keyboard");
    this.$input = this.$(".composer-input");

    const avatar = this.$(".avatar");
    avatar.textContent = initials(user.first_name);
    avatar.style.background = avatarColor(user.id);
    this.$(".chat-title").textContent = this.title();
    this.setStatus();

    this.$(".composer").addEventListener("submit", (event) => { event.preventDefault(); this.sendText(); });
    this.$(".close-btn").addEventListener("click", () => closeColumn(this.userId));
    this.$(".block-btn").addEventListener("click", () => this.toggleBlock());
    this.$(".attach-contact").append(icon("phone", 18));
    this.$(".attach-contact").addEventListener("click", () => this.askContact(null));
    this.$(".contact-form").addEventListener("submit", (event) => { event.preventDefault(); this.shareContact(); });
    this.$(".contact-cancel").addEventListener("click", () => { this.$(".contact-form").hidden = true; });
    this.$(".alert-ok").addEventListener("click", () => { this.$(".alert-overlay").hidden = true; });
    this.renderBlocked(Boolean(user.blocked_bot));
    this.connect();
    this.loadActions();
  }

  // -- page actions: the host program's buttons outside the chat (e.g. "send the digest now") --
  async loadActions() {
    let actions = [];
    try { actions = await api(`/users/${this.userId}/actions`); } catch (_) { return; }
    const bar = this.$(".page-actions");
    bar.replaceChildren(...actions.map((action) => el("button", {
      type: "button",
      class: "page-action",
      dataset: { actionId: action.id },
      onclick: (event) => this.runAction(action, event.currentTarget),
    }, shown(action.label))));
    bar.hidden = actions.length === 0;
  }

  async runAction(action, node) {
    node.classList.add("loading");
    node.disabled = true;
    const answer = await this.run(() => api(
      `/users/${this.userId}/actions/${encodeURIComponent(action.id)}`, { method: "POST" }));
    node.classList.remove("loading");
    node.disabled = false;
    if (answer && answer.note) this.toast(shown(answer.note));
  }

  title() {
    const persona = personas.find((p) => p.user_id === this.userId);
    const name = [this.user.first_name, this.user.last_name].filter(Boolean).join(" ");
    return persona ? `${name} · ${persona.role}` : name;
  }

  setStatus(text) {
    const bot = botInfo ? botInfo.bot.first_name : "bot";
    this.$(".chat-status").textContent = text || `与 ${bot} 的对话 · id ${this.userId}`;
  }

  // -- socket ---------------------------------------------------------------------------------
  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/sandbox/ws/${this.userId}`);
    this.socket = socket;
    socket.addEventListener("message", (event) => this.onEvent(JSON.parse(event.data)));
    socket.addEventListener("close", () => {
      if (!this.closed) setTimeout(() => { if (!this.closed) this.connect(); }, 1000);
    });
  }

  onEvent(event) {
    switch (event.type) {
      case "snapshot":
        this.user = event.user;
        this.$messages.replaceChildren();
        this.messages.clear();
        for (const message of event.messages) this.upsert(message, false);
        this.renderKeyboard(event.reply_keyboard);
        this.renderBlocked(Boolean(event.user.blocked_bot));
        this.node.dataset.ready = "1";
        break;
      case "message": this.upsert(event.message, false); break;
      case "edited": this.upsert(event.message, true); break;
      case "deleted": {
        const node = this.messages.get(event.message_id);
        if (node) { node.remove(); this.messages.delete(event.message_id); }
        break;
      }
      case "reply_keyboard": this.renderKeyboard(event.keyboard); break;
      case "callback_answer": this.onCallbackAnswer(event); break;
      case "chat_action": this.showTyping(event.action); break;
      case "blocked": this.renderBlocked(event.blocked); break;
      default: break; // ping
    }
  }

  // -- messages -------------------------------------------------------------------------------
  upsert(message, edited) {
    const node = this.renderMessage(message);
    const existing = this.messages.get(message.message_id);
    if (existing) {
      existing.replaceWith(node);
      if (edited) node.classList.add("flash");
    } else {
      const nearBottom = this.$messages.scrollHeight - this.$messages.scrollTop - this.$messages.clientHeight < 80;
      this.$messages.append(node);
      if (nearBottom || !message.from.is_bot) this.scrollToBottom();
    }
    this.messages.set(message.message_id, node);
    if (message.from.is_bot) this.setStatus();
  }

  scrollToBottom() {
    requestAnimationFrame(() => { this.$messages.scrollTop = this.$messages.scrollHeight; });
    const images = this.$messages.querySelectorAll("img.photo");
    images.forEach((img) => img.addEventListener("load", () => {
      this.$messages.scrollTop = this.$messages.scrollHeight;
    }, { once: true }));
  }

  renderMessage(message) {
    const mine = !message.from.is_bot;
    const bubble = el("div", { class: "bubble" });
    if (message.photo) {
      bubble.append(el("a", { href: message.file_url, target: "_blank" },
        el("img", { class: "photo", src: message.file_url, alt: message.caption || "photo" })));
    }
    if (message.document) {
      const doc = message.document;
      bubble.append(el("a", { class: "doc", href: message.file_url, download: doc.file_name || "file" },
        el("span", { class: "doc-icon" }, icon("file")),
        el("span", {},
          el("div", { class: "doc-name" }, doc.file_name || "document"),
          el("div", { class: "doc-size" }, formatSize(doc.file_size || 0)))));
    }
    if (message.contact) {
      const c = message.contact;
      bubble.append(el("div", { class: "contact-card" },
        el("span", { class: "doc-icon" }, icon("user")),
        el("span", {},
          el("div", { class: "doc-name" }, [c.first_name, c.last_name].filter(Boolean).join(" ")),
          el("div", { class: "doc-size" }, c.phone_number))));
    }
    const text = message.text ?? message.caption;
    if (text) {
      const entities = message.text !== undefined ? message.entities : message.caption_entities;
      const onCommand = (command) => this.send(command);
      bubble.append(el("div", { class: "text" }, renderEntities(text, entities, onCommand)));
    }
    const meta = [message.edit_date ? "已编辑 edited" : null, formatTime(message.date)].filter(Boolean).join(" · ");
    bubble.append(el("div", { class: "meta" }, meta));

    const node = el("div", {
      class: `msg ${mine ? "me" : "bot"}`,
      dataset: { messageId: String(message.message_id) },
    }, bubble);
    const keyboard = message.reply_markup && message.reply_markup.inline_keyboard;
    if (keyboard && keyboard.length) node.append(this.renderInlineKeyboard(message, keyboard));
    return node;
  }

  renderInlineKeyboard(message, rows) {
    const wrapper = el("div", { class: "inline-keyboard" });
    for (const row of rows) {
      const line = el("div", { class: "inline-row" });
      for (const button of row) {
        const attrs = { type: "button", class: "inline-btn" };
        if (button.callback_data !== undefined) {
          attrs.dataset = { callbackData: button.callback_data };
          attrs.onclick = (event) => this.press(message.message_id, button, event.currentTarget);
        } else if (button.url) {
          attrs.class += " url";
          attrs.onclick = () => window.open(button.url, "_blank", "noopener");
        } else {
          attrs.title = "沙盒不支持此按钮 · not emulated";
        }
        line.append(el("button", attrs, shown(button.text)));
      }
      wrapper.append(line);
    }
    return wrapper;
  }

  renderKeyboard(keyboard) {
    this.$keyboard.replaceChildren();
    this.replyKeyboard = keyboard;
    if (!keyboard || !keyboard.keyboard) {
      this.$keyboard.hidden = true;
      this.$input.placeholder = "消息 · Message";
      return;
    }
    for (const row of keyboard.keyboard) {
      const line = el("div", { class: "reply-row" });
      for (const button of row) {
        const contact = Boolean(button.request_contact);
        line.append(el("button", {
          type: "button",
          class: contact ? "reply-btn contact" : "reply-btn",
          onclick: () => (contact ? this.askContact(button.text) : this.pressReply(button.text)),
        }, contact ? icon("phone", 16) : null, shown(button.text)));
      }
      this.$keyboard.append(line);
    }
    this.$keyboard.hidden = false;
    this.$input.placeholder = keyboard.input_field_placeholder || "消息 · Message";
  }

  renderBlocked(blocked) {
    this.blocked = blocked;
    this.node.classList.toggle("blocked", blocked);
    this.$(".block-btn").textContent = blocked ? "解除屏蔽 unblock" : "屏蔽 block";
    if (blocked) this.setStatus("已屏蔽机器人 · bot blocked");
    else this.setStatus();
  }

  // -- actions --------------------------------------------------------------------------------
  async run(action) {
    try { return await action(); } catch (error) { this.toast(String(error.message || error), true); }
    return null;
  }

  async send(text) {
    if (!text.trim()) return;
    await this.run(() => api(`/users/${this.userId}/text`, { method: "POST", body: { text } }));
  }

  async sendText() {
    const text = this.$input.value;
    if (!text.trim()) return;
    this.$input.value = "";
    await this.send(text);
    this.$input.focus();
  }

  async press(messageId, button, node) {
    node.classList.add("loading");
    const answer = await this.run(() => api(`/users/${this.userId}/press`, {
      method: "POST", body: { message_id: messageId, data: button.callback_data },
    }));
    if (!answer) { node.classList.remove("loading"); return; }
    this.pendingQueries.set(answer.query_id, node);
    // Telegram clients stop the spinner after a while even if the bot never answers
    setTimeout(() => {
      if (this.pendingQueries.get(answer.query_id) === node) {
        node.classList.remove("loading");
        this.pendingQueries.delete(answer.query_id);
      }
    }, 15000);
  }

  onCallbackAnswer(event) {
    const node = this.pendingQueries.get(event.query_id);
    if (node) node.classList.remove("loading");
    this.pendingQueries.delete(event.query_id);
    if (event.url) window.open(event.url, "_blank", "noopener");
    if (!event.text) return;
    if (event.show_alert) {
      this.$(".alert-text").textContent = shown(event.text);
      this.$(".alert-overlay").hidden = false;
    } else {
      this.toast(shown(event.text));
    }
  }

  async pressReply(text) {
    await this.run(() => api(`/users/${this.userId}/reply_button`, { method: "POST", body: { text } }));
  }

  askContact(buttonText) {
    this.contactButton = buttonText;
    const form = this.$(".contact-form");
    const input = this.$(".contact-phone");
    input.value = this.user.phone_number || input.value || "";
    form.hidden = false;
    input.focus();
  }

  async shareContact() {
    const phone = this.$(".contact-phone").value.trim();
    if (!phone) return;
    const done = this.contactButton
      ? await this.run(() => api(`/users/${this.userId}/reply_button`, {
        method: "POST", body: { text: this.contactButton, phone_number: phone },
      }))
      : await this.run(() => api(`/users/${this.userId}/contact`, {
        method: "POST", body: { phone_number: phone },
      }));
    if (done) {
      this.user.phone_number = phone;
      this.$(".contact-form").hidden = true;
    }
  }

  async toggleBlock() {
    const path = this.blocked ? "unblock" : "block";
    await this.run(() => api(`/users/${this.userId}/${path}`, { method: "POST" }));
  }

  showTyping(action) {
    const labels = { typing: "正在输入… typing", upload_photo: "正在发送图片… sending a photo", upload_document: "正在发送文件… sending a file" };
    this.setStatus(labels[action] || `${action}…`);
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.setStatus(), 5000);
  }

  toast(text, error = false) {
    const toast = this.$(".toast");
    toast.textContent = text;
    toast.classList.toggle("error", error);
    toast.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => { toast.hidden = true; }, error ? 5000 : 2500);
  }

  destroy() {
    this.closed = true;
    if (this.socket) this.socket.close();
    this.node.remove();
  }
}

// -- columns and sidebar ------------------------------------------------------------------------
function saveOpen() {
  localStorage.setItem(OPEN_KEY, JSON.stringify([...columns.keys()]));
}

function openColumn(userId) {
  userId = Number(userId);
  if (columns.has(userId)) {
    columns.get(userId).node.scrollIntoView({ behavior: "smooth", inline: "end" });
    columns.get(userId).$input.focus({ preventScroll: true });
    showChip(userId);
    return;
  }
  const user = knownUsers.get(userId);
  if (!user) return;
  const column = new ChatColumn(user);
  columns.set(userId, column);
  document.getElementById("columns").append(column.node);
  document.getElementById("empty-hint").hidden = true;
  column.node.scrollIntoView({ behavior: "smooth", inline: "end" });
  column.$input.focus();
  saveOpen();
  renderPeople();
  showChip(userId);
}

// at phone width the personas are a strip: keep the chip of the chat just opened in sight
function showChip(userId) {
  const chip = document.querySelector(`#personas .person[data-user-id="${userId}"]`);
  if (chip) chip.scrollIntoView({ block: "nearest", inline: "nearest" });
}

function closeColumn(userId) {
  const column = columns.get(userId);
  if (!column) return;
  column.destroy();
  columns.delete(userId);
  document.getElementById("empty-hint").hidden = columns.size > 0;
  saveOpen();
  renderPeople();
}

function setDrawer(open) {
  document.body.classList.toggle("drawer-open", open);
  const toggle = document.getElementById("drawer-toggle");
  toggle.setAttribute("aria-expanded", String(open));
  toggle.textContent = open ? "关闭 · Close" : "全部 · All";
}

function personButton(user, role) {
  const avatar = el("span", { class: "avatar" }, initials(user.first_name || user.name));
  avatar.style.background = avatarColor(user.id ?? user.user_id);
  const id = user.id ?? user.user_id;
  return el("button", {
    type: "button",
    class: columns.has(id) ? "person open" : "person",
    dataset: { userId: String(id) },
    onclick: () => { setDrawer(false); openColumn(id); },
  }, avatar, el("span", {},
    el("div", { class: "person-name" }, user.first_name || user.name),
    el("div", { class: "person-role" }, role)));
}

function renderPeople() {
  const personaIds = new Set(personas.map((p) => p.user_id));
  const personaBox = document.getElementById("personas");
  personaBox.replaceChildren(...personas.map((p) => personButton(p, p.role)));
  if (!personas.length) personaBox.append(el("p", { class: "muted" }, "暂无 · none yet"));
  const others = [...knownUsers.values()].filter((u) => !personaIds.has(u.id));
  const userBox = document.getElementById("users");
  userBox.replaceChildren(...others.map((u) => personButton(u, `id ${u.id} · ${u.language_code || "?"}`)));
  if (!others.length) userBox.append(el("p", { class: "muted" }, "暂无 · none yet"));
}

async function refreshPeople() {
  try {
    const [users, personaList] = await Promise.all([api("/users"), api("/personas")]);
    knownUsers = new Map(users.map((u) => [u.id, u]));
    personas = personaList;
    renderPeople();
  } catch (error) {
    console.warn("sandbox: could not refresh users", error);
  }
}

async function createUser(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const data = new FormData(form);
  try {
    const user = await api("/users", {
      method: "POST",
      body: { first_name: String(data.get("first_name")), language_code: String(data.get("language_code")) },
    });
    form.reset();
    setDrawer(false);
    knownUsers.set(user.id, user);
    openColumn(user.id);
  } catch (error) {
    alert(String(error.message || error));
  }
}

async function main() {
  document.getElementById("new-user").addEventListener("submit", createUser);
  for (const link of document.querySelectorAll("#sidebar a")) link.textContent = shown(link.textContent);
  document.getElementById("drawer-toggle").addEventListener("click",
    () => setDrawer(!document.body.classList.contains("drawer-open")));
  try {
    botInfo = await api("/info");
    const bot = botInfo.bot;
    document.getElementById("bot-info").replaceChildren(icon("bot", 16), ` ${bot.first_name} @${bot.username}`);
  } catch (error) {
    document.getElementById("bot-info").textContent = "sandbox unreachable · 沙盒无法连接";
  }
  await refreshPeople();
  let reopen = [];
  try { reopen = JSON.parse(localStorage.getItem(OPEN_KEY) || "[]"); } catch (_) { reopen = []; }
  for (const id of reopen) if (knownUsers.has(id)) openColumn(id);
  setInterval(refreshPeople, 4000);
  document.body.dataset.ready = "1";
}

main();
