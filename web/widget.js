/* Frontdesk chat widget: <script src="https://HOST/widget.js" async></script>
 * The look comes from the server (console: Widget settings, via GET /api/v1/availability, once per
 * page view); data-color, data-position (right|left), data-title, data-greeting, data-lang
 * (en|de|fr|es), data-launcher-text, data-prechat and data-hide-when-offline win over it (README).
 * A launcher and a chat panel (an iframe of HOST/chat/) in a shadow root: nothing leaks. */
(function () {
  "use strict";
  var d = document;
  var script = d.currentScript || (function () {
    var all = d.querySelectorAll("script[src]");
    for (var i = all.length - 1; i >= 0; i--) if (/\/widget\.js(\?|#|$)/.test(all[i].src)) return all[i];
    return null;
  })();
  if (!script || d.querySelector("[data-frontdesk-widget]")) return;
  var origin;
  try { origin = new URL(script.src, location.href).origin; } catch (e) { return; }
  var ds = script.dataset;
  var color, left, lang, L, title, greeting, launcherText, started = false;
  function str(v, n) { return typeof v === "string" ? v.slice(0, n) : ""; }
  // The server's look (w), with this page's data-* attributes over it.
  function start(w) {
    if (started) return;
    started = true;
    w = w && typeof w === "object" ? w : {};
    var c = ds.color || str(w.color, 30);
    color = c && /^(#[0-9a-f]{3,8}|[a-z]+|rgba?\([\d\s.,%]+\))$/i.test(c) ? c : "#2f6fed";
    left = (ds.position || w.position) === "left";
    lang = ds.lang || (w.language !== "auto" && str(w.language, 5)) || "";
    L = {
      de: ["Chat öffnen", "Chat schließen", "ungelesen", "Chatten Sie mit uns"],
      fr: ["Ouvrir le chat", "Fermer le chat", "non lus", "Discutez avec nous"],
      es: ["Abrir el chat", "Cerrar el chat", "sin leer", "Chatea con nosotros"]
    }[String(lang || navigator.language || "en").toLowerCase().split("-")[0]] || ["Open chat", "Close chat", "unread", "Chat with us"];
    title = ds.title || str(w.title, 80) || L[3];
    greeting = ds.greeting || str(w.greeting, 500);
    launcherText = ds.launcherText || str(w.launcher_text, 40);
    if (d.body) init(); else d.addEventListener("DOMContentLoaded", init);
  }

  function init() {
    var host = d.createElement("div");
    host.setAttribute("data-frontdesk-widget", "");
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    var side = left ? "left" : "right";
    var css =
      ":host{all:initial}" +
      "*{box-sizing:border-box}" +
      ".l{position:fixed;bottom:20px;" + side + ":20px;z-index:2147483646;width:60px;height:60px;border-radius:50%;border:0;" +
      "background:" + color + ";color:#fff;cursor:pointer;box-shadow:0 6px 20px rgba(16,24,40,.28);display:grid;place-items:center;" +
      "transition:transform .15s ease;padding:0}" +
      ".l:hover{transform:scale(1.06)}.l:focus-visible{outline:3px solid #111;outline-offset:3px}" +
      ".l.t{width:auto;border-radius:30px;padding:0 20px 0 16px;grid-auto-flow:column;gap:8px;font:600 15px/1 system-ui,sans-serif}" +
      ".l svg{width:28px;height:28px;fill:currentColor}.o .l .s{display:none}.l .x{display:none}.o .l .x{display:block}.o .l .c{display:none}" +
      ".b{position:absolute;top:-4px;" + (left ? "left" : "right") + ":-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;" +
      "background:#d92d20;color:#fff;font:700 12px/22px system-ui,sans-serif;text-align:center;border:2px solid #fff}" +
      ".b[hidden],div[hidden]{display:none}" +
      ".p{position:fixed;bottom:92px;" + side + ":20px;z-index:2147483647;width:380px;height:min(640px,calc(100vh - 112px));" +
      "border-radius:16px;overflow:hidden;box-shadow:0 12px 48px rgba(16,24,40,.28);background:#fff;" +
      "opacity:0;transform:translateY(12px);pointer-events:none;visibility:hidden;transition:opacity .18s,transform .18s,visibility 0s .18s}" +
      ".o .p{opacity:1;transform:none;pointer-events:auto;visibility:visible;transition:opacity .18s,transform .18s}" +
      ".p iframe{border:0;width:100%;height:100%;display:block}" +
      "@media (max-width:480px){.p{inset:0;width:100%;height:100%;border-radius:0;bottom:0}.o .l{display:none}}" +
      "@media (prefers-reduced-motion:reduce){.p,.l{transition:none}}";
    if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function" && CSSStyleSheet.prototype.replaceSync) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = [sheet];
    } else {
      var st = d.createElement("style");
      st.textContent = css;
      root.appendChild(st);
    }
    var wrap = d.createElement("div");
    var btn = d.createElement("button");
    btn.type = "button";
    btn.className = launcherText ? "l t" : "l";
    btn.setAttribute("aria-label", L[0] + ": " + title);
    btn.setAttribute("aria-expanded", "false");
    btn.setAttribute("aria-controls", "fd-panel");
    btn.appendChild(icon("c", "M12 3C6.5 3 2 6.9 2 11.7c0 2.6 1.3 4.9 3.4 6.5L4.6 22l4.1-2.3c1 .3 2.1.4 3.3.4 5.5 0 10-3.9 10-8.7S17.5 3 12 3z"));
    btn.appendChild(icon("x", "M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7 2.9 18.3 9.2 12 2.9 5.7 4.3 4.3l6.3 6.3 6.3-6.3z"));
    if (launcherText) {
      var lt = d.createElement("span");
      lt.className = "s";
      lt.textContent = launcherText;
      btn.appendChild(lt);
    }
    var badge = d.createElement("span");
    badge.className = "b";
    badge.hidden = true;
    badge.setAttribute("aria-hidden", "true");
    btn.appendChild(badge);

    var panel = d.createElement("div");
    panel.className = "p";
    panel.id = "fd-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", title);
    var frame = d.createElement("iframe");
    frame.title = title;
    frame.setAttribute("allow", "autoplay");
    var q = new URLSearchParams({ embed: "1", host: location.origin, title: title, color: color });
    if (greeting) q.set("greeting", greeting);
    if (ds.prechat) q.set("prechat", ds.prechat);
    if (lang) q.set("lang", lang);
    // data-hide-when-offline: the launcher waits until the chat page says someone is available.
    var hideOffline = ds.hideWhenOffline != null && ds.hideWhenOffline !== "false";
    if (hideOffline) { q.set("hideoffline", "1"); wrap.hidden = true; }
    frame.src = origin + "/chat/?" + q.toString();
    panel.appendChild(frame);
    wrap.appendChild(panel);
    wrap.appendChild(btn);
    root.appendChild(wrap);
    d.body.appendChild(host);

    var open = false, unread = 0, ref = d.referrer;
    function post(type, extra) {
      var m = extra || {};
      m.type = type;
      try { frame.contentWindow.postMessage(m, origin); } catch (e) { /* not loaded yet */ }
    }
    // The page the visitor is on (visitor_page); an SPA navigation is a new page view.
    var lastUrl = location.href;
    function page() { post("frontdesk:page", { url: location.href, title: d.title, referrer: ref }); }
    function moved() {
      if (location.href === lastUrl) return;
      ref = lastUrl; lastUrl = location.href;
      setTimeout(page, 50);
    }
    ["pushState", "replaceState"].forEach(function (k) {
      var f = history[k];
      if (typeof f === "function") history[k] = function () { var r = f.apply(this, arguments); moved(); return r; };
    });
    window.addEventListener("popstate", moved);
    window.addEventListener("hashchange", moved);
    function setOpen(v, focusBack) {
      open = v;
      wrap.className = v ? "o" : "";
      btn.setAttribute("aria-expanded", String(v));
      label();
      post(v ? "frontdesk:open" : "frontdesk:close");
      if (v) { setBadge(0); frame.focus(); } else if (focusBack) btn.focus();
    }
    function setBadge(n) {
      n = Math.max(0, Math.min(99, n | 0));
      badge.textContent = n ? String(n) : "";
      badge.hidden = !n;
      unread = n;
      label();
    }
    function label() {
      btn.setAttribute("aria-label", (open ? L[1] : L[0]) + ": " + title + (unread ? " (" + unread + " " + L[2] + ")" : ""));
    }
    btn.addEventListener("click", function () { setOpen(!open, false); });
    window.addEventListener("message", function (ev) {
      if (ev.origin !== origin || ev.source !== frame.contentWindow) return;
      var m = ev.data;
      if (!m || typeof m.type !== "string") return;
      if (m.type === "frontdesk:unread") { if (!open) setBadge(m.count); }
      else if (m.type === "frontdesk:close") setOpen(false, true);
      else if (m.type === "frontdesk:open") setOpen(true);
      else if (m.type === "frontdesk:ready") { post(open ? "frontdesk:open" : "frontdesk:close"); page(); }
      else if (m.type === "frontdesk:labels" && m.labels) {
        ["launcher_open", "launcher_close", "launcher_unread"].forEach(function (k, i) {
          if (typeof m.labels[k] === "string") L[i] = m.labels[k].slice(0, 100);
        });
        label();
      }
      else if (m.type === "frontdesk:launcher" && hideOffline) { wrap.hidden = !m.show && !open; }
    });
  }

  function icon(cls, path) {
    var ns = "http://www.w3.org/2000/svg";
    var s = d.createElementNS(ns, "svg");
    s.setAttribute("viewBox", "0 0 24 24");
    s.setAttribute("aria-hidden", "true");
    s.setAttribute("class", cls);
    var p = d.createElementNS(ns, "path");
    p.setAttribute("d", path);
    s.appendChild(p);
    return s;
  }

  // The look, asked once per page view (no visitor is created for it); without an answer in 4 s
  // the widget starts with its attributes and defaults.
  try {
    var x = new XMLHttpRequest();
    x.open("GET", origin + "/api/v1/availability");
    x.timeout = 4000;
    x.onload = function () { var w; try { w = JSON.parse(x.responseText).widget; } catch (e) { /* none */ } start(w); };
    x.onerror = x.ontimeout = function () { start(); };
    x.send();
  } catch (e) { start(); }
  setTimeout(start, 5000);
})();
