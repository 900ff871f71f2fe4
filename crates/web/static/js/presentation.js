// A presentation, live: the presenter's page (share the screen, one WebRTC connection per
// attendee, the attendee list, remove, end) and the attendee's page (the stream, and leaving
// when removed or at the end). Both share the chat with everyone in it. One socket per page
// carries everything (see the server's presentations/socket.rs); it comes back after a drop and
// resumes the chat after the last line shown.
import { Receiver, Senders } from "./sharing.js";

const RETRY_MS = 1500;

// The page's socket: reconnects until the server says this page is done (removed, ended).
class Line {
  constructor(path, heard) {
    this.path = path;
    this.heard = heard;
    this.socket = null;
    this.after = 0;
    this.done = false;
    this.failures = 0;
    this.onopen = () => {};
    this.open();
  }
  open() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${window.location.host}${this.path}?after=${this.after}`);
    this.socket = socket;
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      this.failures = 0;
      this.onopen();
    });
    socket.addEventListener("message", (event) => {
      try {
        this.heard(JSON.parse(event.data));
      } catch {
        // Not a frame of ours: ignored.
      }
    });
    socket.addEventListener("close", (event) => {
      if (this.done) return;
      // A node going away (1012): reconnect at once, elsewhere; it is no refusal.
      if (event.code === 1012) {
        setTimeout(() => this.open(), Math.random() * 250);
        return;
      }
      this.failures += opened ? 0 : 1;
      // Refused again and again: the page itself says where this attendee stands now.
      if (this.failures >= 3) window.location.reload();
      else setTimeout(() => this.open(), RETRY_MS);
    });
  }
  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }
  close() {
    this.done = true;
    if (this.socket) this.socket.close();
  }
}

// The chat everyone in the presentation shares. A line typed while the socket is down waits,
// with its own id, and goes out once it is back (the server stores it once).
class Chat {
  constructor(root, line) {
    this.root = root;
    this.line = line;
    this.log = root.querySelector(".chat-log");
    this.form = root.querySelector("form");
    this.input = root.querySelector("textarea");
    this.error = root.querySelector(".error");
    this.pending = new Map();
    this.count = 0;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.say();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        this.say();
      }
    });
  }
  say() {
    const text = this.input.value.trim();
    if (!text) {
      this.problem(this.root.dataset.emptyText || "Write a message first.");
      return;
    }
    this.problem("");
    this.count += 1;
    const id = `${Date.now().toString(36)}-${this.count}-${Math.random().toString(36).slice(2, 8)}`;
    this.pending.set(id, text);
    this.show({ id, name: "", text, from: "pending", mine: true }, true);
    this.input.value = "";
    this.line.send({ type: "say", id, text });
  }
  // The socket is back: what did not go out goes now.
  resend() {
    for (const [id, text] of this.pending) this.line.send({ type: "say", id, text });
  }
  problem(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }
  heard(frame) {
    if (frame.type === "line") {
      this.line.after = Math.max(this.line.after, frame.seq);
      this.pending.delete(frame.id);
      this.show(frame, false);
      return true;
    }
    if (frame.type === "refused") {
      const text = this.pending.get(frame.id);
      this.pending.delete(frame.id);
      const shown = this.log.querySelector(`[data-message-id="${CSS.escape(frame.id)}"]`);
      if (shown) shown.remove();
      if (text !== undefined && !this.input.value) this.input.value = text;
      this.problem(frame.error);
      return true;
    }
    return false;
  }
  show(frame, pending) {
    let item = this.log.querySelector(`[data-message-id="${CSS.escape(frame.id)}"]`);
    if (!item) {
      item = document.createElement("li");
      item.dataset.messageId = frame.id;
      this.log.append(item);
    }
    item.className = `chat-line from-${frame.from}${pending ? " pending" : ""}`;
    item.dataset.testid = "presentation-line";
    item.replaceChildren();
    if (frame.name) {
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = frame.name;
      item.append(who, " ");
    }
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = frame.text;
    item.append(text);
    this.log.scrollTop = this.log.scrollHeight;
  }
  closed() {
    this.form.hidden = true;
  }
}

// The presenter: their screen goes to each attendee who asks to view it.
class Presenter {
  constructor(root) {
    this.root = root;
    this.stream = null;
    this.servers = [];
    this.status = root.querySelector("[data-testid='presenter-status']");
    this.preview = root.querySelector(".presenter-preview");
    this.list = root.querySelector("[data-testid='attendee-list']");
    this.count = root.querySelector("[data-testid='attendee-count']");
    this.shareButton = root.querySelector("[data-testid='share-presentation']");
    this.stopButton = root.querySelector("[data-testid='stop-presentation-share']");
    this.endButton = root.querySelector("[data-testid='end-presentation']");
    this.line = new Line(root.dataset.ws, (frame) => this.heard(frame));
    this.senders = new Senders((frame) => this.line.send(frame), (peer) => this.senders.drop(peer));
    this.chat = new Chat(document.getElementById("presentation-chat"), this.line);
    this.line.onopen = () => this.chat.resend();
    this.shareButton.addEventListener("click", () => this.share());
    this.stopButton.addEventListener("click", () => this.stop());
    this.endButton.addEventListener("click", () => this.line.send({ type: "end" }));
    this.list.addEventListener("click", (event) => {
      const button = event.target.closest("[data-testid='remove-attendee']");
      if (button) this.line.send({ type: "remove", attendee: Number(button.dataset.attendee) });
    });
  }
  say(text) {
    this.status.textContent = text;
  }
  async share() {
    try {
      this.stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch {
      this.say(this.root.dataset.failedText);
      return;
    }
    this.stream.getVideoTracks().forEach((track) => track.addEventListener("ended", () => this.stop()));
    this.preview.srcObject = this.stream;
    this.shareButton.hidden = true;
    this.stopButton.hidden = false;
    this.say(this.root.dataset.sharingText);
    this.line.send({ type: "share", what: "started" });
  }
  stop() {
    if (!this.stream) return;
    this.stream.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.senders.dropAll();
    this.preview.srcObject = null;
    this.shareButton.hidden = false;
    this.stopButton.hidden = true;
    this.say(this.root.dataset.notSharedText);
    this.line.send({ type: "share", what: "stopped" });
  }
  heard(frame) {
    if (this.chat.heard(frame)) return;
    if (frame.type === "ice") {
      this.servers = frame.servers || [];
      // A new socket (a reconnect): attendees learn again that the screen is shared.
      if (this.stream) this.line.send({ type: "share", what: "started" });
    } else if (frame.type === "attendees") this.attendees(frame.list || []);
    else if (frame.type === "share" && frame.what === "view" && this.stream) {
      this.senders.connect(frame.from, this.stream, this.servers);
    } else if (frame.type === "rtc") this.senders.signal(frame.from, frame.data).catch(() => {});
    else if (frame.type === "ended") this.ended();
  }
  attendees(list) {
    const present = new Set(list.map((a) => a.peer));
    for (const peer of this.senders.names()) if (!present.has(peer)) this.senders.drop(peer);
    this.count.textContent = String(list.length);
    this.list.replaceChildren(
      ...list.map((attendee) => {
        const item = document.createElement("li");
        item.dataset.testid = "attendee";
        item.dataset.peer = attendee.peer;
        const name = document.createElement("span");
        name.textContent = attendee.name;
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "link";
        remove.dataset.testid = "remove-attendee";
        remove.dataset.attendee = String(attendee.id);
        remove.textContent = this.root.dataset.removeText;
        remove.setAttribute("aria-label", `${this.root.dataset.removeText} ${attendee.name}`);
        item.append(name, " ", remove);
        return item;
      }),
    );
  }
  ended() {
    this.line.close();
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.senders.dropAll();
    this.preview.srcObject = null;
    for (const button of [this.shareButton, this.stopButton, this.endButton]) button.hidden = true;
    this.chat.closed();
    this.say(this.root.dataset.endedText);
    this.root.dataset.state = "ended";
  }
}

// An attendee: asks to view, answers the presenter's offer, shows the stream.
class Attendee {
  constructor(root) {
    this.root = root;
    this.video = root.querySelector("[data-testid='presentation-view']");
    this.status = root.querySelector("[data-testid='attend-status']");
    this.line = new Line(root.dataset.ws, (frame) => this.heard(frame));
    this.chat = new Chat(document.getElementById("presentation-chat"), this.line);
    this.line.onopen = () => this.chat.resend();
    this.receiver = new Receiver((data) => this.line.send({ type: "rtc", to: "presenter", data }), {
      track: (stream) => {
        this.video.srcObject = stream;
        this.say(this.root.dataset.watchingText);
      },
      // The presenter's browser restarts ICE; until then, and if it never does, say so.
      lost: () => this.say(this.root.dataset.lostText),
      back: () => this.say(this.root.dataset.watchingText),
      gone: () => this.stopView(this.root.dataset.lostText),
    });
  }
  say(text) {
    this.status.textContent = text;
  }
  heard(frame) {
    if (this.chat.heard(frame)) return;
    if (frame.type === "ice") {
      this.receiver.servers = frame.servers || [];
      this.line.send({ type: "share", what: "view" });
    } else if (frame.type === "share" && frame.what === "started") this.line.send({ type: "share", what: "view" });
    else if (frame.type === "share" && frame.what === "stopped") this.stopView(this.root.dataset.waitingText);
    else if (frame.type === "rtc" && frame.from === "presenter") this.receiver.signal(frame.data).catch(() => {});
    else if (frame.type === "removed") this.finish("removed", this.root.dataset.removedText);
    else if (frame.type === "ended") this.finish("ended", this.root.dataset.endedText);
  }
  stopView(text) {
    this.receiver.close();
    this.video.srcObject = null;
    this.say(text);
  }
  finish(standing, text) {
    this.line.close();
    this.stopView(text);
    this.video.hidden = true;
    this.chat.closed();
    this.root.dataset.standing = standing;
    const leave = document.querySelector("[data-testid='leave-presentation']");
    if (leave) leave.hidden = true;
  }
}

const presenter = document.getElementById("presenter");
const attend = document.getElementById("attend");
if (presenter && window.RTCPeerConnection) window.supportalPresenter = new Presenter(presenter);
if (attend && window.RTCPeerConnection) window.supportalAttendee = new Attendee(attend);
