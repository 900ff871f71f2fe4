// The portal inside the help button's panel (a frame on the customer's own web page, see
// embed.js). Pages that leave the portal (a sign-in, the staff sign-in) refuse to be framed, so
// their links open a window of their own. "Open in a new window" (shown only here) takes the
// customer's place along: it is a link in this page, so the page's address, which for a
// waiting customer holds the session's secret, never goes to the host page (whose other
// scripts could read what it is told). The panel learns only whether the portal works here:
// a browser that keeps no cookies in frames would refuse every form, and the panel then
// offers a window instead.
(() => {
  if (window.parent === window) return;
  for (const link of document.querySelectorAll("a[data-leaves-frame]")) {
    link.target = "_blank";
    link.rel = "noopener";
  }
  for (const link of document.querySelectorAll("a[data-frame-only]")) {
    link.href = window.location.href;
    link.hidden = false;
    // The conversation goes on in the window; the panel closes rather than show a second copy.
    link.addEventListener("click", () => window.parent.postMessage({ supportal: "moved" }, "*"));
  }
  const probe = "supportal_frame_probe=1";
  document.cookie = `${probe}; path=/; max-age=60; SameSite=None; Secure; Partitioned`;
  const works = document.cookie.split("; ").includes(probe);
  window.parent.postMessage({ supportal: works ? "ready" : "no-cookies" }, "*");
})();
