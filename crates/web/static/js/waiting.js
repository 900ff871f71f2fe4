// Waiting page: keeps position, estimated wait and notices current, and moves on when a
// representative takes the request. Updates are pushed over a WebSocket; while it is down the
// page polls its status instead. Without JavaScript the page refreshes itself.
const box = document.getElementById("wait");
const notices = document.getElementById("notices");
const POLL_MS = 2000;
let socketOpen = false;

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

function show(status) {
  if (status.state !== "waiting") {
    window.location.reload();
    return;
  }
  box.querySelector("[data-testid='queue-position']").textContent = fill(box.dataset.positionText, status.position);
  box.querySelector("[data-testid='estimated-wait']").textContent = status.estimated_minutes
    ? fill(box.dataset.estimateText, status.estimated_minutes)
    : box.dataset.noEstimateText;
  showNotices(status.notices);
}

async function poll() {
  if (socketOpen) return;
  try {
    const response = await fetch(box.dataset.statusUrl, { headers: { accept: "application/json" }, cache: "no-store" });
    if (response.ok) show(await response.json());
  } catch {
    // Offline for a moment: the next round tries again.
  }
  setTimeout(poll, POLL_MS);
}

function connect() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const url = box.dataset.statusUrl.replace(/\/status$/, "/ws");
  const socket = new WebSocket(`${scheme}//${window.location.host}${url}`);
  socket.addEventListener("open", () => {
    socketOpen = true;
  });
  socket.addEventListener("message", (message) => show(JSON.parse(message.data)));
  socket.addEventListener("close", () => {
    if (socketOpen) {
      socketOpen = false;
      setTimeout(poll, POLL_MS);
    }
    setTimeout(connect, 5000);
  });
}

if (box && box.dataset.state === "waiting") {
  connect();
  setTimeout(poll, POLL_MS);
}
