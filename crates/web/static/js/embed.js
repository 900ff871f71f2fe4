// Supportal's help button for any web page. The site's admin page gives the snippet:
//   <script src="https://support.example.com/static/embed.js" data-site="help" async></script>
// Optional: data-customer-name, data-company (filled in on the portal), data-lang (en, de),
// data-label, data-colour. Nothing inline is needed on the host page: its CSP allows this
// script's origin in script-src, and the button is styled through the DOM (no style sheet).
(() => {
  const script = document.currentScript;
  if (!script || !script.dataset.site) return;
  const data = script.dataset;
  const origin = new URL(script.src, window.location.href).origin;
  const asked = (data.lang || navigator.language || "en").slice(0, 2).toLowerCase();
  const lang = asked === "de" ? "de" : "en";
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = data.label || (lang === "de" ? "Hilfe holen" : "Get help");
  button.setAttribute("data-testid", "help-button");
  Object.assign(button.style, {
    position: "fixed",
    right: "20px",
    bottom: "20px",
    zIndex: "2147483000",
    padding: "12px 20px",
    border: "0",
    borderRadius: "999px",
    background: data.colour || "#1d4ed8",
    color: "#ffffff",
    font: "600 15px/1.2 system-ui, sans-serif",
    boxShadow: "0 2px 10px rgba(0, 0, 0, 0.25)",
    cursor: "pointer",
  });
  button.addEventListener("click", () => {
    const portal = new URL(`/p/${encodeURIComponent(data.site)}`, origin);
    portal.searchParams.set("lang", lang);
    portal.searchParams.set("from", window.location.href);
    if (data.customerName) portal.searchParams.set("name", data.customerName);
    if (data.company) portal.searchParams.set("company", data.company);
    // A window of its own: the portal's cookies are first-party there, and the host page keeps
    // its place. Blocked pop-ups open it in this tab instead.
    const opened = window.open(portal.href, "supportal-help", "popup,width=480,height=760");
    if (opened) opened.opener = null;
    else window.location.href = portal.href;
  });
  const place = () => document.body.appendChild(button);
  if (document.body) place();
  else document.addEventListener("DOMContentLoaded", place);
})();
