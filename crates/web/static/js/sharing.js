// Screen sharing in a support session, over WebRTC: the customer's browser sends its screen to
// each rep who views it (one peer connection per rep); the server only carries the signaling
// over the session's socket ("rtc" frames to one peer, "share" frames about the share) and
// gives each page its ICE servers ("ice" frame, with TURN credentials of its own). Nothing is
// shared before the customer says yes in the page's own prompt, which names the rep and the
// organization as the server knows them.

// Tests force relayed connections (TURN) by setting this before a connection starts.
const policy = () => window.supportalIcePolicy || "all";

export function peerConnection(servers) {
  return new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: policy() });
}

// Candidates that come before the description they belong to wait for it.
export class Negotiation {
  constructor(pc) {
    this.pc = pc;
    this.early = [];
  }

  async description(description) {
    await this.pc.setRemoteDescription(description);
    for (const candidate of this.early.splice(0)) await this.pc.addIceCandidate(candidate);
  }

  async candidate(candidate) {
    if (this.pc.remoteDescription) await this.pc.addIceCandidate(candidate);
    else this.early.push(candidate);
  }
}

// One sender's connections, one per viewer (`peer`), each carrying the same stream. A
// connection whose network changed under it offers again with an ICE restart, without asking
// the person again. `failed(peer)` hears of an offer that could not be made.
export class Senders {
  constructor(send, failed) {
    this.send = send;
    this.failed = failed;
    this.peers = new Map();
  }

  // A new connection to `peer` sending `stream`; `prepare(pc)` adds what else it carries.
  connect(peer, stream, servers, prepare = () => {}) {
    this.drop(peer);
    const pc = peerConnection(servers);
    const negotiation = new Negotiation(pc);
    this.peers.set(peer, negotiation);
    for (const track of stream.getTracks()) pc.addTrack(track, stream);
    prepare(pc);
    pc.addEventListener("icecandidate", (event) => {
      if (event.candidate) this.send({ type: "rtc", to: peer, data: { candidate: event.candidate.toJSON() } });
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed" && this.peers.get(peer) === negotiation) this.offer(peer, pc, true);
    });
    this.offer(peer, pc, false);
  }

  async offer(peer, pc, restart) {
    try {
      await pc.setLocalDescription(await pc.createOffer({ iceRestart: restart }));
      this.send({ type: "rtc", to: peer, data: { description: pc.localDescription.toJSON(), restart } });
    } catch {
      this.failed(peer);
    }
  }

  // An answer or a candidate from `from`.
  async signal(from, data) {
    const negotiation = this.peers.get(from);
    if (!negotiation || !data) return;
    if (data.description && data.description.type === "answer") await negotiation.description(data.description);
    if (data.candidate) await negotiation.candidate(data.candidate);
  }

  drop(peer) {
    const negotiation = this.peers.get(peer);
    if (negotiation) negotiation.pc.close();
    this.peers.delete(peer);
  }

  dropAll() {
    for (const peer of [...this.peers.keys()]) this.drop(peer);
  }

  names() {
    return [...this.peers.keys()];
  }
}

// How long a viewer whose connection failed waits for the sender's ICE restart before its view
// ends (the sender restarts as soon as it sees the failure).
const RESTART_WAIT_MS = 20000;

// A viewer's connection to a sender: answers its offers (a first one opens the connection; an
// ICE restart, marked so by the sender, keeps it and what it shows), passes on what arrives,
// and, when the network under it failed, waits a while for the restart before giving up.
// `send(data)` goes to the sender; `events`: track(stream), datachannel(channel), lost(),
// back(), gone().
export class Receiver {
  constructor(send, events) {
    this.send = send;
    this.events = events;
    this.servers = [];
    this.negotiation = null;
    this.waiting = null;
  }

  async signal(data) {
    if (!data) return;
    if (data.description && data.description.type === "offer") {
      const restart = data.restart && this.negotiation && this.negotiation.pc.signalingState !== "closed";
      if (!restart) this.open();
      const pc = this.negotiation.pc;
      await this.negotiation.description(data.description);
      await pc.setLocalDescription(await pc.createAnswer());
      this.send({ description: pc.localDescription.toJSON() });
    }
    if (data.candidate && this.negotiation) await this.negotiation.candidate(data.candidate);
  }

  open() {
    this.close();
    const pc = peerConnection(this.servers);
    const negotiation = new Negotiation(pc);
    this.negotiation = negotiation;
    pc.addEventListener("datachannel", (event) => {
      if (this.events.datachannel) this.events.datachannel(event.channel);
    });
    pc.addEventListener("track", (event) => this.events.track(event.streams[0] || new MediaStream([event.track])));
    pc.addEventListener("icecandidate", (event) => {
      if (event.candidate) this.send({ candidate: event.candidate.toJSON() });
    });
    pc.addEventListener("connectionstatechange", () => {
      if (this.negotiation !== negotiation) return;
      if (pc.connectionState === "failed") {
        this.events.lost();
        clearTimeout(this.waiting);
        this.waiting = setTimeout(() => {
          if (this.negotiation === negotiation && pc.connectionState !== "connected") this.events.gone();
        }, RESTART_WAIT_MS);
      } else if (pc.connectionState === "connected") {
        clearTimeout(this.waiting);
        if (this.events.back) this.events.back();
      }
    });
  }

  close() {
    clearTimeout(this.waiting);
    if (this.negotiation) this.negotiation.pc.close();
    this.negotiation = null;
  }
}

// The rep's pointer and strokes on the shared screen: drawn over a video (the rep's view, the
// customer's preview), in coordinates from 0 to 1 of the picture itself, fading out.
const FADE_MS = 4000;
const MOST_STROKES = 100;
const MOST_POINTS = 64;

// Where the picture sits inside a video element (it keeps its proportions: bars around it).
function pictureRect(video) {
  const box = { width: video.clientWidth, height: video.clientHeight };
  if (!video.videoWidth || !video.videoHeight || !box.width || !box.height) return { x: 0, y: 0, ...box };
  const scale = Math.min(box.width / video.videoWidth, box.height / video.videoHeight);
  const width = video.videoWidth * scale;
  const height = video.videoHeight * scale;
  return { x: (box.width - width) / 2, y: (box.height - height) / 2, width, height };
}

const inside = (n) => typeof n === "number" && n >= 0 && n <= 1;

export class Marks {
  constructor(canvas, video) {
    this.canvas = canvas;
    this.video = video;
    this.strokes = new Map();
    this.pointer = null;
    this.received = 0;
    this.frame = null;
  }

  // A mark from the rep: `{kind: "pointer", x, y}` or `{kind: "stroke", id, points: [[x, y]…]}`.
  take(mark) {
    const now = performance.now();
    if (mark && mark.kind === "pointer" && inside(mark.x) && inside(mark.y)) {
      this.pointer = { x: mark.x, y: mark.y, at: now };
    } else if (mark && mark.kind === "stroke" && Array.isArray(mark.points)) {
      let stroke = this.strokes.get(mark.id);
      if (!stroke) {
        if (this.strokes.size >= MOST_STROKES) return;
        stroke = { points: [], at: now };
        this.strokes.set(mark.id, stroke);
        this.received += 1;
        this.canvas.dataset.strokes = String(this.received);
      }
      const points = mark.points.slice(0, MOST_POINTS).filter((p) => Array.isArray(p) && inside(p[0]) && inside(p[1]));
      stroke.points.push(...points);
      stroke.at = now;
    } else return;
    this.draw();
  }

  clear() {
    this.strokes.clear();
    this.pointer = null;
    this.draw();
  }

  draw() {
    if (this.frame === null) this.frame = requestAnimationFrame(() => this.paint());
  }

  paint() {
    this.frame = null;
    const now = performance.now();
    const canvas = this.canvas;
    canvas.width = canvas.clientWidth;
    canvas.height = canvas.clientHeight;
    const context = canvas.getContext("2d");
    context.clearRect(0, 0, canvas.width, canvas.height);
    const picture = pictureRect(this.video);
    const at = (p) => [picture.x + p[0] * picture.width, picture.y + p[1] * picture.height];
    context.lineWidth = 3;
    context.lineCap = "round";
    context.strokeStyle = context.fillStyle = "#e11d48";
    let visible = 0;
    for (const [id, stroke] of this.strokes) {
      const age = now - stroke.at;
      if (age > FADE_MS) {
        this.strokes.delete(id);
        continue;
      }
      visible += 1;
      context.globalAlpha = 1 - age / FADE_MS;
      context.beginPath();
      stroke.points.forEach((p, n) => (n ? context.lineTo(...at(p)) : context.moveTo(...at(p))));
      context.stroke();
    }
    if (this.pointer && now - this.pointer.at < FADE_MS) {
      context.globalAlpha = 1 - (now - this.pointer.at) / FADE_MS;
      context.beginPath();
      context.arc(...at([this.pointer.x, this.pointer.y]), 6, 0, 2 * Math.PI);
      context.fill();
      visible += 1;
    } else this.pointer = null;
    canvas.dataset.visible = String(visible);
    if (visible) this.draw();
  }
}

// The customer's side: the prompt, the share, and a connection per viewing rep.
export class ScreenSender {
  constructor(root, send) {
    this.root = root;
    this.send = send;
    this.servers = [];
    this.stream = null;
    this.senders = new Senders(send, () => this.send({ type: "share", what: "failed" }));
    this.offerButton = root.querySelector("[data-testid='offer-screen-share']");
    this.consent = root.querySelector("[data-testid='share-consent']");
    this.consentText = this.consent.querySelector(".consent-text");
    this.banner = root.querySelector("[data-testid='sharing-banner']");
    this.previewVideo = root.querySelector(".preview-video");
    this.marks = new Marks(root.querySelector("[data-testid='annotation-preview']"), this.previewVideo);
    this.offerButton.addEventListener("click", () => this.ask(root.dataset.repName || ""));
    root.querySelector("[data-testid='share-consent-accept']").addEventListener("click", () => this.accept());
    root.querySelector("[data-testid='share-consent-decline']").addEventListener("click", () => this.decline());
    root.querySelector("[data-testid='stop-sharing']").addEventListener("click", () => this.stop());
  }

  // Whether a rep holds the session (only then is there someone to share with).
  setActive(active, repName) {
    if (repName) this.root.dataset.repName = repName;
    // A site whose sessions start as full sessions asks once, as soon as a rep takes it.
    const asked = `supportal-share-asked:${window.location.pathname}`;
    if (active && this.root.dataset.askAtStart === "true" && !this.stream && !sessionStorage.getItem(asked)) {
      sessionStorage.setItem(asked, "1");
      this.ask(this.root.dataset.repName || "");
    }
    this.root.hidden = !active && !this.stream;
    this.offerButton.hidden = !active || Boolean(this.stream);
    if (!active && this.stream) this.stop();
  }

  heard(frame) {
    if (frame.type === "ice") {
      this.servers = frame.servers || [];
      // A new socket (a reconnect): viewers learn again that the screen is shared.
      if (this.stream) this.send({ type: "share", what: "started" });
      return true;
    }
    if (frame.type === "share") {
      if (frame.what === "request" && !this.stream) this.ask(frame.name);
      else if (frame.what === "view" && this.stream) this.connect(frame.from);
      else if (frame.what === "close") this.senders.drop(frame.from);
      return true;
    }
    if (frame.type === "rtc") {
      this.senders.signal(frame.from, frame.data).catch(() => {});
      return true;
    }
    return false;
  }

  ask(repName) {
    const template = this.root.dataset.consentText;
    this.consentText.textContent = template.replaceAll("{rep}", repName).replaceAll("{org}", this.root.dataset.org);
    this.root.hidden = false;
    this.consent.hidden = false;
    this.consent.querySelector("[data-testid='share-consent-accept']").focus();
  }

  async accept() {
    this.consent.hidden = true;
    try {
      this.stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (error) {
      this.send({ type: "share", what: error && error.name === "NotAllowedError" ? "declined" : "failed" });
      return;
    }
    // The browser's own "stop sharing" ends the track.
    this.stream.getVideoTracks().forEach((track) => track.addEventListener("ended", () => this.stop()));
    this.banner.hidden = false;
    this.offerButton.hidden = true;
    this.previewVideo.srcObject = this.stream;
    this.send({ type: "share", what: "started" });
  }

  decline() {
    this.consent.hidden = true;
    this.send({ type: "share", what: "declined" });
  }

  stop() {
    if (!this.stream) return;
    this.stream.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.senders.dropAll();
    this.previewVideo.srcObject = null;
    this.marks.clear();
    this.banner.hidden = true;
    this.offerButton.hidden = false;
    this.send({ type: "share", what: "stopped" });
  }

  // A connection to `peer` that sends the screen; the rep's pointer and strokes come back on
  // a data channel of the same connection.
  connect(peer) {
    this.senders.connect(peer, this.stream, this.servers, (pc) => {
      const channel = pc.createDataChannel("annotations");
      channel.addEventListener("message", (event) => {
        try {
          this.marks.take(JSON.parse(event.data));
        } catch {
          // Not a mark: ignored.
        }
      });
    });
  }
}

// The rep's side: ask, and show the customer's screen while it is shared.
export class ScreenViewer {
  constructor(root, send) {
    this.root = root;
    this.send = send;
    this.video = root.querySelector("[data-testid='screen-view']");
    this.status = root.querySelector(".share-status");
    this.channel = null;
    this.receiver = new Receiver((data) => this.send({ type: "rtc", to: "customer", data }), {
      datachannel: (channel) => {
        this.channel = channel;
      },
      track: (stream) => {
        this.video.srcObject = stream;
        this.root.classList.add("viewing");
        this.say(this.root.dataset.viewingText);
      },
      // The network under the connection changed: the customer's page restarts ICE.
      lost: () => this.say(this.root.dataset.reconnectingText),
      back: () => this.say(this.root.dataset.viewingText),
      // The customer's page went away (closed, reloaded) and did not come back.
      gone: () => this.end(this.root.dataset.lostText),
    });
    const overlay = root.querySelector("[data-testid='screen-annotate']");
    this.marks = new Marks(overlay, this.video);
    this.drawOn(overlay);
    root.querySelector("[data-testid='request-screen-share']").addEventListener("click", () => {
      this.say(root.dataset.askedText);
      this.send({ type: "share", what: "request" });
    });
    root.querySelector("[data-testid='screen-full']").addEventListener("click", () => {
      if (this.video.requestFullscreen) this.video.requestFullscreen().catch(() => {});
    });
  }

  say(text) {
    this.status.textContent = text || "";
  }

  // Pointing moves a dot; pressing and dragging draws a stroke. Both go to the customer.
  drawOn(overlay) {
    let stroke = null;
    let strokes = 0;
    let lastPointer = 0;
    const point = (event) => {
      const picture = pictureRect(this.video);
      const box = overlay.getBoundingClientRect();
      const x = (event.clientX - box.left - picture.x) / picture.width;
      const y = (event.clientY - box.top - picture.y) / picture.height;
      return inside(x) && inside(y) ? [x, y] : null;
    };
    overlay.addEventListener("pointerdown", (event) => {
      const at = point(event);
      if (!at) return;
      strokes += 1;
      stroke = `s${strokes}`;
      if (overlay.setPointerCapture && event.pointerId !== undefined) {
        try {
          overlay.setPointerCapture(event.pointerId);
        } catch {
          // A synthetic pointer cannot be captured.
        }
      }
      this.mark({ kind: "stroke", id: stroke, points: [at] });
    });
    overlay.addEventListener("pointermove", (event) => {
      const at = point(event);
      if (!at) return;
      if (stroke) this.mark({ kind: "stroke", id: stroke, points: [at] });
      else if (event.timeStamp - lastPointer > 33) {
        lastPointer = event.timeStamp;
        this.mark({ kind: "pointer", x: at[0], y: at[1] });
      }
    });
    const end = () => {
      stroke = null;
    };
    overlay.addEventListener("pointerup", end);
    overlay.addEventListener("pointercancel", end);
  }

  mark(mark) {
    this.marks.take(mark);
    if (this.channel && this.channel.readyState === "open") this.channel.send(JSON.stringify(mark));
  }

  heard(frame) {
    if (frame.type === "ice") {
      this.receiver.servers = frame.servers || [];
      // A customer already sharing sends to a console that opens (or reconnects) now.
      this.send({ type: "share", what: "view" });
      return true;
    }
    if (frame.type === "share") {
      if (frame.what === "started") this.send({ type: "share", what: "view" });
      else if (frame.what === "stopped") this.end(this.root.dataset.stoppedText);
      else if (frame.what === "declined") this.end(this.root.dataset.declinedText);
      else if (frame.what === "failed") this.end(this.root.dataset.failedText);
      return true;
    }
    if (frame.type === "rtc") {
      if (frame.from === "customer") this.receiver.signal(frame.data).catch(() => {});
      return true;
    }
    return false;
  }

  end(text) {
    this.receiver.close();
    this.channel = null;
    this.video.srcObject = null;
    this.marks.clear();
    this.root.classList.remove("viewing");
    this.say(text);
  }
}
