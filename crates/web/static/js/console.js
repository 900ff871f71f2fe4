// Console: keeps the queue list current over a WebSocket. The server sends only "event N
// happened"; the list is re-fetched as HTML the server renders for this rep. On reconnect the
// socket resumes after the last event seen, so nothing is missed or shown twice. The open
// session's conversation has its own socket, resuming after its last line.
import { Chat } from "./chat.js";
import { ScreenViewer } from "./sharing.js";

const root = document.getElementById("console");
const holder = document.getElementById("queue");
const liveState = document.getElementById("live-state");
const notifyButton = document.getElementById("enable-notifications");
let lastSeq = Number(root.dataset.lastSeq || 0);
let retryMs = 1000;
let refreshTimer = null;

// Everything that asks for the rep: a customer in line, an offer, an invitation.
const idsIn = (element) => new Set([...element.querySelectorAll("[data-alert-id]")].map((item) => item.dataset.alertId));
let known = idsIn(holder);

// Browsers keep audio silent until the page is clicked or typed in: the first click anywhere
// (the "Enable notifications" one too) makes the one audio context and wakes it, so later
// arrivals can sound while the rep looks elsewhere.
let audio = null;
function unlockAudio() {
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") audio.resume();
  } catch {
    // No audio here: arrivals still show in the list and as notifications.
  }
}
for (const kind of ["click", "keydown", "touchstart"]) {
  document.addEventListener(kind, unlockAudio, { capture: true });
}

function beep() {
  try {
    if (!audio) unlockAudio();
    if (audio.state !== "running") return;
    const tone = audio.createOscillator();
    const volume = audio.createGain();
    tone.frequency.value = 880;
    volume.gain.value = 0.1;
    tone.connect(volume).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.2);
    // How many arrivals sounded (tests read it; nobody else does).
    root.dataset.beeps = String(Number(root.dataset.beeps || 0) + 1);
  } catch {
    // No audio (autoplay policy, headless): the list itself still shows the arrival.
  }
}

function announceArrivals(count) {
  beep();
  if ("Notification" in window && Notification.permission === "granted") {
    const text = count === 1 ? root.dataset.oneWaiting : root.dataset.manyWaiting.replace("{count}", String(count));
    new Notification("Supportal", { body: text });
  }
}

async function refresh() {
  refreshTimer = null;
  const response = await fetch("/console/queue", { cache: "no-store", credentials: "same-origin" });
  if (!response.ok) return;
  holder.innerHTML = await response.text();
  const now = idsIn(holder);
  const arrivals = [...now].filter((id) => !known.has(id));
  known = now;
  if (arrivals.length > 0) announceArrivals(arrivals.length);
}

// A message in one of the rep's sessions: its tab is marked unless its chat is the one open,
// and a sound plays when the console is in the background.
function chatArrived(session) {
  const open = document.getElementById("chat");
  const openSession = document.querySelector("[data-testid='session-panel']")?.dataset.sessionId;
  if (!open || String(session) !== openSession) {
    const badge = document.querySelector(`[data-testid='unread-badge'][data-session-id='${session}']`);
    if (badge) badge.hidden = false;
  }
  if (document.hidden) beep();
}

// An offer counts down the seconds left to answer: its deadline against the server's time when
// the list was shown, moved on by the time passed here since (a list pushed again later brings
// the server's time again, so the figures agree across refreshes).
function tickOffers() {
  for (const left of document.querySelectorAll("[data-offer-expires]")) {
    if (!left.dataset.shownAt) left.dataset.shownAt = String(Date.now());
    const serverNow = Number(left.dataset.serverNow) + (Date.now() - Number(left.dataset.shownAt));
    const seconds = Math.floor((Number(left.dataset.offerExpires) - serverNow) / 1000);
    left.textContent = String(Math.max(0, seconds));
  }
}
setInterval(tickOffers, 1000);

// Whether the open session's customer still has their page open, and for how long it has been
// closed (counted against the server's time, as offers are).
const presence = document.querySelector("[data-testid='customer-presence']");
function showPresence() {
  if (!presence) return;
  const d = presence.dataset;
  if (d.here === "true") {
    presence.textContent = d.hereText;
    presence.classList.remove("gone");
    return;
  }
  if (!d.shownAt) d.shownAt = String(Date.now());
  const serverNow = Number(d.serverNow) + (Date.now() - Number(d.shownAt));
  const minutes = Math.floor((serverNow - Number(d.since)) / 60000);
  const form = new Intl.PluralRules(document.documentElement.lang || "en").select(minutes);
  const text = minutes < 1 ? d.goneNow : (form === "one" ? d.goneOne : d.goneOther);
  presence.textContent = text.replace("{n}", String(minutes));
  presence.classList.add("gone");
}
function customerPresence(frame) {
  if (!presence) return;
  presence.dataset.here = String(frame.here);
  presence.dataset.since = String(frame.since);
  // The frame's time is the server's: count from it as if it were the page's server time.
  presence.dataset.serverNow = String(frame.since);
  presence.dataset.shownAt = String(Date.now());
  showPresence();
}
showPresence();
setInterval(showPresence, 15000);

// A node going away closes its sockets with 1012 (service restart): reconnect at once (the
// load balancer sends us elsewhere), spread over a quarter second so that not every page of
// the node arrives together. Null for any other close: back off as usual.
function soon(event) {
  return event.code === 1012 ? Math.random() * 250 : null;
}

function scheduleRefresh() {
  // Several events in a burst cause one fetch.
  if (refreshTimer === null) refreshTimer = setTimeout(refresh, 100);
}

function connect() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${window.location.host}/console/ws?after=${lastSeq}`);
  socket.addEventListener("open", () => {
    retryMs = 1000;
    liveState.textContent = root.dataset.liveText;
  });
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.v !== 1) return;
    if (event.type === "message") {
      chatArrived(event.session);
      return;
    }
    lastSeq = Math.max(lastSeq, event.seq);
    scheduleRefresh();
  });
  socket.addEventListener("close", (event) => {
    liveState.textContent = root.dataset.reconnectingText;
    setTimeout(connect, soon(event) ?? retryMs);
    if (!soon(event)) retryMs = Math.min(retryMs * 2, 15000);
  });
}

if ("Notification" in window && Notification.permission === "default") {
  notifyButton.hidden = false;
  notifyButton.addEventListener("click", async () => {
    await Notification.requestPermission();
    notifyButton.hidden = true;
  });
}

connect();

const chatSection = document.getElementById("chat");
if (chatSection) {
  const chat = new Chat(chatSection);
  const pane = document.querySelector("[data-testid='screen-pane']");
  const viewer = pane && window.RTCPeerConnection ? new ScreenViewer(pane, (frame) => chat.send(frame)) : null;
  // Tests read the connection's statistics through it.
  if (pane) pane.screenViewer = viewer;
  let chatRetryMs = 1000;
  const openChat = () => {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${scheme}//${window.location.host}${chatSection.dataset.socketUrl}?after=${chat.after}`;
    const socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      chatRetryMs = 1000;
      chat.attach(socket);
      chat.flush();
    });
    socket.addEventListener("message", (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "customer") customerPresence(data);
      else if (!chat.heard(data) && viewer) viewer.heard(data);
    });
    socket.addEventListener("close", (event) => {
      chat.poll();
      setTimeout(openChat, soon(event) ?? chatRetryMs);
      if (!soon(event)) chatRetryMs = Math.min(chatRetryMs * 2, 15000);
    });
  };
  openChat();
}
