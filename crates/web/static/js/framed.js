// The portal inside the help button's panel (a frame on the customer's own web page, see
// embed.js). Pages that leave the portal (a sign-in, the staff sign-in) refuse to be framed, so
// their links open a window of their own. The panel learns whether the portal works here: a
// browser that keeps no cookies in frames would refuse every form, and the panel then offers a
// window instead.
(() => {
  if (window.parent === window) return;
  for (const link of document.querySelectorAll("a[data-leaves-frame]")) {
    link.target = "_blank";
    link.rel = "noopener";
  }
  const probe = "supportal_frame_probe=1";
  document.cookie = `${probe}; path=/; max-age=60; SameSite=None; Secure; Partitioned`;
  const works = document.cookie.split("; ").includes(probe);
  // Only the origins the site's admin listed can frame this page (its frame-ancestors), and
  // where the browser names the page that does, only it hears where the panel is.
  const parent = (window.location.ancestorOrigins && window.location.ancestorOrigins[0]) || "*";
  const said = { supportal: works ? "ready" : "no-cookies", href: window.location.href };
  window.parent.postMessage(said, parent);
})();
