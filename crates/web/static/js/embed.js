// Supportal's help button for any web page. The site's admin page gives the snippet:
//   <script src="https://support.example.com/static/embed.js" data-site="help" async></script>
// Optional: data-customer-name, data-company (filled in on the portal), data-lang (en, de),
// data-label, data-colour, data-open ("panel": the portal in a panel on this page, for pages
// whose origin the site's admin listed; "window", the default: a window of its own).
// Nothing inline is needed on the host page: its CSP allows this script's origin in script-src
// (and, for the panel, in frame-src); everything is styled through the DOM (no style sheet).
(() => {
  const script = document.currentScript;
  if (!script || !script.dataset.site) return;
  const data = script.dataset;
  const origin = new URL(script.src, window.location.href).origin;
  const asked = (data.lang || navigator.language || "en").slice(0, 2).toLowerCase();
  const lang = asked === "de" ? "de" : "en";
  const texts = {
    en: {
      help: "Get help",
      title: "Help",
      window: "Open in a new window",
      close: "Close help",
      frame: "Support",
      stuck: "Help cannot be shown on this page. Open it in a window of its own:",
    },
    de: {
      help: "Hilfe holen",
      title: "Hilfe",
      window: "In neuem Fenster öffnen",
      close: "Hilfe schließen",
      frame: "Support",
      stuck: "Die Hilfe kann auf dieser Seite nicht angezeigt werden. Öffnen Sie sie in einem eigenen Fenster:",
    },
  }[lang];
  const accent = data.colour || "#1d4ed8";
  const font = "600 15px/1.2 system-ui, sans-serif";

  const portal = new URL(`/p/${encodeURIComponent(data.site)}`, origin);
  portal.searchParams.set("lang", lang);
  portal.searchParams.set("from", window.location.href);
  // A customer already waiting (who closed the panel or the window, or moved on to another
  // page) goes back to their conversation instead of a new form.
  portal.searchParams.set("resume", "1");
  if (data.customerName) portal.searchParams.set("name", data.customerName);
  if (data.company) portal.searchParams.set("company", data.company);

  // A window of its own: the portal's cookies are first-party there, and the host page keeps
  // its place. Blocked pop-ups open it in this tab instead.
  const openWindow = (href) => {
    const opened = window.open(href, "supportal-help", "popup,width=480,height=760");
    if (opened) opened.opener = null;
    else window.location.href = href;
  };

  const button = document.createElement("button");
  button.type = "button";
  button.textContent = data.label || texts.help;
  button.setAttribute("data-testid", "help-button");
  Object.assign(button.style, {
    position: "fixed",
    right: "20px",
    bottom: "20px",
    zIndex: "2147483000",
    padding: "12px 20px",
    border: "0",
    borderRadius: "999px",
    background: accent,
    color: "#ffffff",
    font,
    boxShadow: "0 2px 10px rgba(0, 0, 0, 0.25)",
    cursor: "pointer",
  });

  const panel = data.open === "panel" ? makePanel() : null;
  if (panel) button.setAttribute("aria-expanded", "false");
  button.addEventListener("click", () => (panel ? panel.toggle() : openWindow(portal.href)));

  // The panel: a frame of the portal (allowed by its frame-ancestors only on listed origins).
  // The portal page in it offers "Open in a new window" itself, keeping the customer's place
  // (framed.js), and says whether it works here; silence or "no cookies" show a way out here.
  function makePanel() {
    const box = document.createElement("div");
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-label", texts.title);
    box.setAttribute("data-testid", "help-panel");
    Object.assign(box.style, {
      position: "fixed",
      right: "20px",
      bottom: "80px",
      zIndex: "2147483000",
      width: "min(420px, calc(100vw - 40px))",
      height: "min(680px, calc(100vh - 100px))",
      display: "none",
      flexDirection: "column",
      background: "#ffffff",
      borderRadius: "12px",
      overflow: "hidden",
      boxShadow: "0 4px 24px rgba(0, 0, 0, 0.3)",
    });
    const bar = document.createElement("div");
    Object.assign(bar.style, {
      display: "flex",
      alignItems: "center",
      gap: "8px",
      padding: "8px 12px",
      background: accent,
      color: "#ffffff",
      font,
    });
    const title = document.createElement("span");
    title.textContent = texts.title;
    title.style.flex = "1";
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "×";
    close.setAttribute("aria-label", texts.close);
    close.title = texts.close;
    close.setAttribute("data-testid", "help-panel-close");
    Object.assign(close.style, {
      border: "0",
      background: "transparent",
      color: "#ffffff",
      font,
      cursor: "pointer",
      padding: "4px 8px",
    });
    bar.append(title, close);
    const frame = document.createElement("iframe");
    frame.title = texts.frame;
    frame.setAttribute("data-testid", "help-panel-frame");
    Object.assign(frame.style, { flex: "1", border: "0", width: "100%" });
    const stuck = document.createElement("div");
    stuck.setAttribute("role", "alert");
    stuck.setAttribute("data-testid", "help-panel-stuck");
    Object.assign(stuck.style, { display: "none", padding: "16px", font: "15px/1.4 system-ui, sans-serif", color: "#111827" });
    const stuckText = document.createElement("p");
    stuckText.textContent = texts.stuck;
    const stuckLink = document.createElement("a");
    stuckLink.href = portal.href;
    stuckLink.target = "_blank";
    stuckLink.rel = "noopener";
    stuckLink.textContent = texts.window;
    stuck.append(stuckText, stuckLink);
    box.append(bar, frame, stuck);

    let loaded = false;
    let heard = false;
    const show = (working) => {
      frame.style.display = working ? "block" : "none";
      stuck.style.display = working ? "none" : "block";
    };
    window.addEventListener("message", (event) => {
      if (event.source !== frame.contentWindow || event.origin !== origin) return;
      const said = (event.data || {}).supportal;
      if (said === "ready") {
        heard = true;
        show(true);
      }
      if (said === "no-cookies") show(false);
      if (said === "moved") {
        // The customer carried on in a window of their own: no second copy here.
        frame.src = "about:blank";
        loaded = false;
        hide();
      }
    });
    // Open on one page of the site, the panel opens again on the next (this tab only).
    const remembered = `supportal-help-open:${data.site}`;
    const remember = (open) => {
      try {
        if (open) window.sessionStorage.setItem(remembered, "1");
        else window.sessionStorage.removeItem(remembered);
      } catch {
        // Storage refused (a privacy mode): the panel simply starts closed.
      }
    };
    const open = (focus = true) => {
      remember(true);
      if (!loaded) {
        loaded = true;
        heard = false;
        show(true);
        frame.src = portal.href;
        window.setTimeout(() => heard || show(false), 8000);
      }
      box.style.display = "flex";
      button.setAttribute("aria-expanded", "true");
      if (focus) frame.focus();
    };
    function hide() {
      remember(false);
      box.style.display = "none";
      button.setAttribute("aria-expanded", "false");
      button.focus();
    }
    close.addEventListener("click", hide);
    box.addEventListener("keydown", (event) => {
      if (event.key === "Escape") hide();
    });
    whenBody(() => {
      document.body.appendChild(box);
      let reopen = false;
      try {
        reopen = window.sessionStorage.getItem(remembered) === "1";
      } catch {
        reopen = false;
      }
      if (reopen) open(false);
    });
    return { toggle: () => (box.style.display === "none" ? open() : hide()) };
  }

  whenBody(() => document.body.appendChild(button));

  // `place` once the page has a body (the snippet may sit in the head, loaded async).
  function whenBody(place) {
    if (document.body) place();
    else document.addEventListener("DOMContentLoaded", place);
  }
})();
