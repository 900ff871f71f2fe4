// A conversation on the page: sends what is typed with its own id (a resend after a lost
// connection stores nothing twice), keeps unsent messages until they go out, and shows the lines
// the server pushes or the page polls, each once, in the server's order. Text is only ever set
// as text; links are the ones the server found (http and https).
const MAX = 4000;

function newId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function textElement(segments) {
  const text = document.createElement("span");
  text.className = "text";
  for (const segment of segments) {
    if (segment.href && /^https?:\/\//i.test(segment.href)) {
      const link = document.createElement("a");
      link.href = segment.href;
      link.rel = "noopener noreferrer";
      link.target = "_blank";
      link.textContent = segment.text;
      text.append(link);
    } else {
      text.append(segment.text);
    }
  }
  return text;
}

function lineElement(line, labels) {
  const item = document.createElement("li");
  item.className = `chat-line from-${line.from}`;
  item.dataset.testid = line.kind === "message" ? "chat-message" : "chat-system-message";
  item.dataset.messageId = line.id;
  item.dataset.seq = String(line.seq);
  item.dataset.from = line.from;
  if (line.kind === "message") {
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = line.name;
    item.append(who, " ");
    // A customer the site's identity provider vouched for: the rep sees the check mark.
    if (line.from === "customer" && labels.customerVerified === "true") {
      const mark = document.createElement("span");
      mark.className = "verified";
      mark.dataset.testid = "verified-mark";
      mark.title = "Signed in through the site's identity provider";
      mark.textContent = "✔";
      item.append(mark, " ");
    }
  }
  if (line.file) {
    // A file: a download link (the server sends it as an attachment, never inline).
    const text = document.createElement("span");
    text.className = "text";
    const link = document.createElement("a");
    link.href = `${labels.filesUrl}/${encodeURIComponent(line.file.id)}`;
    link.dataset.testid = "attachment-link";
    link.setAttribute("download", "");
    link.textContent = line.file.name;
    const size = document.createElement("span");
    size.className = "muted";
    size.textContent = `(${line.file.size})`;
    text.append(link, " ", size);
    item.append(text);
    return item;
  }
  const text = textElement(line.segments);
  if (line.lang) item.dataset.lang = line.lang;
  if (line.lang && line.original == null) text.lang = line.lang;
  item.append(text);
  if (line.original != null) {
    // The translation is shown; the original is one click (or Enter) away.
    const details = document.createElement("details");
    details.className = "original";
    const summary = document.createElement("summary");
    summary.dataset.testid = "show-original";
    summary.textContent = labels.showOriginal;
    const original = document.createElement("span");
    original.lang = line.lang || "";
    original.dataset.testid = "original-text";
    original.textContent = line.original;
    details.append(summary, original);
    item.append(" ", details);
  }
  if (line.not_translated) {
    const mark = document.createElement("span");
    mark.className = "mark";
    mark.dataset.testid = "not-translated";
    mark.textContent = labels.notTranslated;
    item.append(" ", mark);
  }
  return item;
}

export class Chat {
  constructor(section) {
    this.section = section;
    this.log = section.querySelector("[data-testid='chat-log']");
    this.form = section.querySelector("form.chat-form");
    this.after = Number(section.dataset.lastSeq || "0");
    this.outbox = [];
    this.watchFiles();
    if (this.form) {
      this.input = this.form.querySelector("[data-testid='chat-input']");
      this.error = this.form.querySelector("[data-testid='chat-error']");
      this.csrf = this.form.querySelector("input[name='csrf']").value;
      this.form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.submit();
      });
      this.input.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.shiftKey) {
          event.preventDefault();
          if (!this.completeCanned()) this.submit();
        }
      });
      this.watchCanned();
      this.watchTyping();
    }
  }

  /// The file form: checked for size here (the server checks again), sent without leaving
  /// the page, the error beside the field.
  watchFiles() {
    const form = this.section.querySelector("form.file-form");
    if (!form) return;
    const input = form.querySelector("[data-testid='attach-file']");
    const error = form.querySelector("[data-testid='file-error']");
    const say = (text) => {
      error.textContent = text;
      error.hidden = !text;
      if (text) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const file = input.files[0];
      if (file && file.size > Number(form.dataset.maxBytes)) {
        say(form.dataset.tooLarge);
        return;
      }
      const data = new FormData(form);
      data.set("client_id", newId());
      try {
        const response = await fetch(form.action, { method: "POST", headers: { accept: "application/json" }, body: data });
        const answer = await response.json().catch(() => ({}));
        if (response.ok && answer.line) {
          say("");
          input.value = "";
          this.add([answer.line], false);
        } else {
          say(answer.error || form.dataset.tooLarge);
        }
      } catch {
        say(this.section.dataset.notSent);
      }
    });
  }

  /// Canned messages (the console): a click puts one in the message; typing `/` and the first
  /// letters of a shortcut shows only the matching ones, and Enter takes the first.
  watchCanned() {
    this.canned = Array.from(document.querySelectorAll("[data-testid='canned-message']"));
    for (const button of this.canned) {
      button.addEventListener("click", () => this.insertCanned(button.dataset.body));
    }
    this.input.addEventListener("input", () => {
      const typed = this.cannedPrefix();
      for (const button of this.canned) {
        button.hidden = typed !== null && !button.dataset.shortcut.startsWith(typed);
      }
    });
  }

  /// The shortcut being typed: what follows a `/` that starts the message, or null.
  cannedPrefix() {
    const match = /^\/(\S*)$/.exec(this.input.value);
    return match ? match[1].toLowerCase() : null;
  }

  /// Enter while typing a shortcut: insert the first match (true when one was inserted).
  completeCanned() {
    const typed = this.cannedPrefix();
    if (typed === null || !this.canned) return false;
    const first = this.canned.find((b) => b.dataset.shortcut.startsWith(typed));
    if (!first) return false;
    this.insertCanned(first.dataset.body);
    return true;
  }

  insertCanned(body) {
    const typing = this.cannedPrefix() !== null;
    this.input.value = typing || !this.input.value ? body : `${this.input.value} ${body}`;
    for (const button of this.canned) button.hidden = false;
    this.input.focus();
  }

  /// The conversation's socket: typing goes out on it, and how far this page has received
  /// and shown the conversation.
  attach(socket) {
    this.socket = socket;
    this.reported = { received: 0, read: 0 };
    this.reportSeen();
    // What was sent on it and not yet answered goes again, with the same ids, on the next one.
    socket.addEventListener("close", () => this.outbox.forEach((m) => this.markUnsent(m)));
  }

  /// A frame of the conversation from the socket (lines, typing, read marks); false for others.
  heard(data) {
    if (data.type === "chat") this.add(data.lines);
    else if (data.type === "typing") this.showTyping(data.name);
    else if (data.type === "marks") this.showMarks(data);
    else if (data.type === "refused") this.refused(this.outbox.find((m) => m.id === data.client_id), data.error);
    else return false;
    return true;
  }

  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  /// While the person types (not a /shortcut), the others are told, at most every 2 s.
  watchTyping() {
    let last = 0;
    this.input.addEventListener("input", () => {
      const now = Date.now();
      if (!this.input.value.trim() || this.input.value.startsWith("/") || now - last < 2000) return;
      last = now;
      this.send({ type: "typing" });
    });
    document.addEventListener("visibilitychange", () => this.reportSeen());
    window.addEventListener("focus", () => this.reportSeen());
  }

  /// Someone else is typing: said under the conversation until 4 s after the last sign.
  showTyping(name) {
    const line = this.section.querySelector("[data-testid='typing']");
    if (!line) return;
    line.textContent = this.section.dataset.typing.replace("{name}", name);
    line.hidden = false;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => { line.hidden = true; }, 4000);
  }

  /// Tell the server how far this page has received the conversation, and how far the person
  /// has seen it (the page visible): the sender's "delivered" and "read".
  reportSeen() {
    if (!this.reported) return;
    const received = this.after;
    const read = document.visibilityState === "visible" ? this.after : this.reported.read;
    if (received > this.reported.received || read > this.reported.read) {
      this.reported = { received: Math.max(received, this.reported.received), read: Math.max(read, this.reported.read) };
      this.send({ type: "seen", received: this.reported.received, read: this.reported.read });
    }
  }

  /// Marks on this side's messages: read or delivered by the other side, else sent.
  showMarks(marks) {
    this.marks = marks;
    const side = this.section.dataset.side;
    const other = side === "customer"
      ? { received: marks.rep_received, read: marks.rep_read }
      : { received: marks.customer_received, read: marks.customer_read };
    for (const item of this.log.querySelectorAll(`[data-testid='chat-message'][data-from='${side}']`)) {
      const seq = Number(item.dataset.seq);
      const state = other.read >= seq ? "read" : other.received >= seq ? "delivered" : "sent";
      let receipt = item.querySelector("[data-testid='receipt']");
      if (!receipt) {
        receipt = document.createElement("span");
        receipt.className = "receipt";
        receipt.dataset.testid = "receipt";
        item.append(" ", receipt);
      }
      receipt.dataset.state = state;
      receipt.textContent = this.section.dataset[`mark${state[0].toUpperCase()}${state.slice(1)}`];
    }
  }

  /// Lines from the server; each shown once. The socket and reads give every line up to the
  /// last they give (`complete`), so the page has all up to there: `after`, where a reconnect
  /// resumes. A send's answer is the sender's own line alone: lines before it may still be on
  /// their way (another's message committed just before), so it moves nothing, else a socket
  /// reopening after it would never get them.
  add(lines, complete = true) {
    for (const line of lines) {
      if (complete) this.after = Math.max(this.after, line.seq);
      if (this.log.querySelector(`[data-seq='${line.seq}']`)) continue;
      const pending = line.kind === "message"
        ? this.log.querySelector(`.pending[data-message-id='${CSS.escape(line.id)}']`)
        : null;
      const element = lineElement(line, this.section.dataset);
      if (pending) pending.remove();
      if (line.kind === "message") this.outbox = this.outbox.filter((m) => m.id !== line.id);
      const later = Array.from(this.log.querySelectorAll("[data-seq]")).find((e) => Number(e.dataset.seq) > line.seq);
      this.log.insertBefore(element, later || this.log.querySelector(".pending"));
    }
    if (lines.length) {
      if (this.marks) this.showMarks(this.marks);
      this.reportSeen();
    }
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
    if (text) {
      this.input.setAttribute("aria-invalid", "true");
      this.input.setAttribute("aria-describedby", this.error.id);
    } else {
      this.input.removeAttribute("aria-invalid");
    }
  }

  submit() {
    const body = this.input.value.trim();
    if (!body || body.length > MAX) {
      // The server says why, in the visitor's language; nothing is lost from the input.
      this.deliver({ id: newId(), body: this.input.value, pending: null });
      return;
    }
    const pending = document.createElement("li");
    const id = newId();
    pending.className = "chat-line pending from-me";
    pending.dataset.messageId = id;
    pending.textContent = body;
    this.log.append(pending);
    this.input.value = "";
    this.showError("");
    this.deliver({ id, body, pending });
  }

  /// Send a message: on the socket when it is open (its stored line comes back there, matched
  /// by id), else by POST. Kept until answered, and sent again with the same id after a
  /// reconnect, so a retry never stores a second copy.
  async deliver(message) {
    if (!this.outbox.includes(message)) this.outbox.push(message);
    // Too long for a message: the POST's answer says so (a socket frame that large is refused).
    if (this.socket && this.socket.readyState === WebSocket.OPEN && message.body.length <= MAX) {
      this.send({ type: "send", client_id: message.id, body: message.body });
      return;
    }
    const form = new URLSearchParams({ csrf: this.csrf, body: message.body, client_id: message.id });
    let response;
    try {
      response = await fetch(this.section.dataset.sendUrl, {
        method: "POST",
        headers: { accept: "application/json" },
        body: form,
      });
    } catch {
      // Offline: kept, marked, and sent again with the same id when the connection is back.
      this.markUnsent(message);
      return;
    }
    const answer = await response.json().catch(() => ({}));
    if (response.ok && answer.line) {
      this.add([answer.line], false);
      this.outbox = this.outbox.filter((m) => m !== message);
      return;
    }
    // No answer from Supportal itself (a load balancer's 502 while a node restarts, a node
    // going away): not a refusal. Kept, marked, sent again with the same id on reconnect.
    if (!answer.error || response.status >= 500) {
      this.markUnsent(message);
      return;
    }
    this.refused(message, answer.error);
  }

  markUnsent(message) {
    if (!message.pending) return;
    message.pending.title = this.section.dataset.notSent;
    message.pending.classList.add("unsent");
  }

  /// Not sent (empty, too long, the session ended): the text back in the field, the reason
  /// beside it.
  refused(message, error) {
    if (!message) return;
    if (message.pending) message.pending.remove();
    this.outbox = this.outbox.filter((m) => m !== message);
    if (!this.input.value) this.input.value = message.body;
    this.showError(error || "");
  }

  /// The connection is back: send what waited, in the order it was typed.
  async flush() {
    for (const message of [...this.outbox]) await this.deliver(message);
  }

  /// Read what followed the last line shown (while the socket is down).
  async poll() {
    try {
      const url = `${this.section.dataset.readUrl}?after=${this.after}`;
      const response = await fetch(url, { headers: { accept: "application/json" }, cache: "no-store" });
      if (response.ok) {
        this.add(await response.json());
        await this.flush();
      }
    } catch {
      // Still offline: the next round tries again.
    }
  }

  close() {
    if (this.form) this.form.hidden = true;
  }
}
