// Waiting page and chat: keeps position, estimated wait and notices current, becomes the chat
// when a representative takes the request (same page, no reload), and shows the end. Updates are
// pushed over a WebSocket that resumes the conversation after the last line shown; while it is
// down the page polls instead. Without JavaScript the page refreshes itself.
import { Chat } from "./chat.js";
import { ScreenSender } from "./sharing.js";

const box = document.getElementById("wait");
const notices = document.getElementById("notices");
const chatSection = document.getElementById("chat");
const chat = chatSection ? new Chat(chatSection) : null;
const shareSection = document.getElementById("screen-share");
const sharing = shareSection && chat && window.RTCPeerConnection ? new ScreenSender(shareSection, (frame) => chat.send(frame)) : null;
// Tests reach the share through its section, as they reach the rep's view through its pane.
if (sharing) shareSection.screenSender = sharing;
const leave = document.querySelector("[data-testid='leave-form']");
const again = document.querySelector("[data-testid='ask-again']");
const repAway = document.querySelector("[data-testid='rep-disconnected']");
const POLL_MS = 2000;
let socketOpen = false;
let state = box.dataset.state;

const fill = (template, n) => template.replace("{n}", String(n));

function showNotices(list) {
  const banners = list.map((notice) => {
    const banner = document.createElement("div");
    banner.className = `notice-banner severity-${notice.severity}`;
    banner.setAttribute("role", "status");
    banner.dataset.testid = "notice";
    const label = document.createElement("strong");
    label.textContent = notices.dataset.label;
    banner.append(label, " ", notice.text);
    return banner;
  });
  notices.replaceChildren(...banners);
}

function heading(testid, text) {
  const title = document.createElement("h1");
  title.dataset.testid = testid;
  title.textContent = text;
  return title;
}

// The heading changes only when what it says does: views arrive again with the same news
// (a heartbeat, a message), and replacing it each time would re-announce it to screen readers.
function showHeading(testid, text) {
  const current = box.querySelector(`[data-testid='${testid}']`);
  if (!current || current.textContent !== text) box.replaceChildren(heading(testid, text));
}

// The rep's consoles all closed: said once, with their name, until a console of theirs is back.
function showRepConnection(status) {
  if (!repAway) return;
  const away = status.state === "active" && status.rep_disconnected;
  if (away) repAway.textContent = box.dataset.repAwayText.replaceAll("{rep}", status.rep_name || "");
  repAway.hidden = !away;
}

function show(status) {
  showNotices(status.notices);
  if (sharing) sharing.setActive(status.state === "active", status.rep_name);
  showRepConnection(status);
  if (status.state === "waiting") {
    if (state !== "waiting") {
      // Back in a queue (a transfer): the page that counts places knows how to show it.
      window.location.reload();
      return;
    }
    box.querySelector("[data-testid='queue-position']").textContent = fill(box.dataset.positionText, status.position);
    box.querySelector("[data-testid='estimated-wait']").textContent = status.estimated_minutes
      ? fill(box.dataset.estimateText, status.estimated_minutes)
      : box.dataset.noEstimateText;
    return;
  }
  if (status.state === "active") {
    showHeading("session-taken", box.dataset.takenText.replace("{rep}", status.rep_name || ""));
    leave.hidden = false;
  } else {
    showHeading("session-ended", box.dataset.endedText);
    leave.hidden = true;
    again.hidden = false;
    const survey = document.querySelector("[data-testid='survey']");
    if (survey) survey.hidden = false;
    if (chat) chat.close();
  }
  state = status.state;
  box.dataset.state = state;
}

async function poll() {
  if (socketOpen) return;
  try {
    const response = await fetch(box.dataset.statusUrl, { headers: { accept: "application/json" }, cache: "no-store" });
    if (response.ok) show(await response.json());
  } catch {
    // Offline for a moment: the next round tries again.
  }
  if (chat) await chat.poll();
  if (state !== "ended") setTimeout(poll, POLL_MS);
}

function connect() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const path = box.dataset.statusUrl.replace(/\/status$/, "/ws");
  const after = chat ? chat.after : 0;
  const socket = new WebSocket(`${scheme}//${window.location.host}${path}?after=${after}`);
  socket.addEventListener("open", () => {
    socketOpen = true;
    if (chat) {
      chat.attach(socket);
      chat.flush();
    }
  });
  socket.addEventListener("message", (message) => {
    const data = JSON.parse(message.data);
    // Views carry no type; typed frames are the conversation's (or screen sharing's).
    if (data.type) {
      if (!(chat && chat.heard(data)) && sharing) sharing.heard(data);
    } else show(data);
  });
  socket.addEventListener("close", (event) => {
    // A node going away (1012) asks for a reconnect at once: the load balancer picks another.
    const restarting = event.code === 1012;
    if (socketOpen) {
      socketOpen = false;
      if (!restarting) setTimeout(poll, POLL_MS);
    }
    if (state !== "ended") setTimeout(connect, restarting ? Math.random() * 250 : 3000);
  });
}

if (box && state !== "ended") {
  if (sharing) sharing.setActive(state === "active");
  connect();
  setTimeout(poll, POLL_MS);
}
