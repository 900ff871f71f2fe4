// Screen sharing in a support session, over WebRTC: the customer's browser sends its screen to
// each rep who views it (one peer connection per rep); the server only carries the signaling
// over the session's socket ("rtc" frames to one peer, "share" frames about the share) and
// gives each page its ICE servers ("ice" frame, with TURN credentials of its own). Nothing is
// shared before the customer says yes in the page's own prompt, which names the rep and the
// organization as the server knows them.

// Tests force relayed connections (TURN) by setting this before a connection starts.
const policy = () => window.supportalIcePolicy || "all";

function peerConnection(servers) {
  return new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: policy() });
}

// Candidates that come before the description they belong to wait for it.
class Negotiation {
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

// The customer's side: the prompt, the share, and a connection per viewing rep.
export class ScreenSender {
  constructor(root, send) {
    this.root = root;
    this.send = send;
    this.servers = [];
    this.stream = null;
    this.peers = new Map();
    this.offerButton = root.querySelector("[data-testid='offer-screen-share']");
    this.consent = root.querySelector("[data-testid='share-consent']");
    this.consentText = this.consent.querySelector(".consent-text");
    this.banner = root.querySelector("[data-testid='sharing-banner']");
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
      else if (frame.what === "close") this.drop(frame.from);
      return true;
    }
    if (frame.type === "rtc") {
      this.signal(frame.from, frame.data).catch(() => {});
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
    for (const peer of [...this.peers.keys()]) this.drop(peer);
    this.banner.hidden = true;
    this.offerButton.hidden = false;
    this.send({ type: "share", what: "stopped" });
  }

  drop(peer) {
    const negotiation = this.peers.get(peer);
    if (negotiation) negotiation.pc.close();
    this.peers.delete(peer);
  }

  // A connection to `peer` that sends the screen; it offers again with an ICE restart when the
  // network under it changed, without asking again.
  connect(peer) {
    this.drop(peer);
    const pc = peerConnection(this.servers);
    const negotiation = new Negotiation(pc);
    this.peers.set(peer, negotiation);
    for (const track of this.stream.getTracks()) pc.addTrack(track, this.stream);
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
      this.send({ type: "rtc", to: peer, data: { description: pc.localDescription.toJSON() } });
    } catch {
      this.send({ type: "share", what: "failed" });
    }
  }

  async signal(from, data) {
    const negotiation = this.peers.get(from);
    if (!negotiation || !data) return;
    if (data.description && data.description.type === "answer") await negotiation.description(data.description);
    if (data.candidate) await negotiation.candidate(data.candidate);
  }
}

// The rep's side: ask, and show the customer's screen while it is shared.
export class ScreenViewer {
  constructor(root, send) {
    this.root = root;
    this.send = send;
    this.servers = [];
    this.negotiation = null;
    this.video = root.querySelector("[data-testid='screen-view']");
    this.status = root.querySelector(".share-status");
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

  heard(frame) {
    if (frame.type === "ice") {
      this.servers = frame.servers || [];
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
      if (frame.from === "customer") this.signal(frame.data).catch(() => {});
      return true;
    }
    return false;
  }

  async signal(data) {
    if (!data) return;
    if (data.description && data.description.type === "offer") {
      // A first offer, or an ICE restart of the same connection.
      if (!this.negotiation || this.negotiation.pc.connectionState === "closed") this.open();
      const pc = this.negotiation.pc;
      await this.negotiation.description(data.description);
      await pc.setLocalDescription(await pc.createAnswer());
      this.send({ type: "rtc", to: "customer", data: { description: pc.localDescription.toJSON() } });
    }
    if (data.candidate && this.negotiation) await this.negotiation.candidate(data.candidate);
  }

  open() {
    const pc = peerConnection(this.servers);
    this.negotiation = new Negotiation(pc);
    pc.addEventListener("track", (event) => {
      this.video.srcObject = event.streams[0] || new MediaStream([event.track]);
      this.root.classList.add("viewing");
      this.say(this.root.dataset.viewingText);
    });
    pc.addEventListener("icecandidate", (event) => {
      if (event.candidate) this.send({ type: "rtc", to: "customer", data: { candidate: event.candidate.toJSON() } });
    });
    // The customer's page went away (closed, reloaded): the view ends. Their new offer, after
    // an ICE restart or a reload, opens it again.
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed" && this.negotiation && this.negotiation.pc === pc) {
        this.end(this.root.dataset.lostText);
      }
    });
  }

  end(text) {
    if (this.negotiation) this.negotiation.pc.close();
    this.negotiation = null;
    this.video.srcObject = null;
    this.root.classList.remove("viewing");
    this.say(text);
  }
}
