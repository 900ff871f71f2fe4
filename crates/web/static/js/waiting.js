// Waiting page: keeps position, estimated wait and notices current, and moves on when a
// representative takes the request. Without JavaScript the page refreshes itself instead.
const box = document.getElementById("wait");
const notices = document.getElementById("notices");
const POLL_MS = 2000;

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

async function refresh() {
  try {
    const response = await fetch(box.dataset.statusUrl, { headers: { accept: "application/json" }, cache: "no-store" });
    if (response.ok) {
      const status = await response.json();
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
  } catch {
    // Offline for a moment: the next round tries again.
  }
  setTimeout(refresh, POLL_MS);
}

if (box && box.dataset.state === "waiting") {
  setTimeout(refresh, POLL_MS);
}
