(function () {
  "use strict";
  var table = document.getElementById("findings");
  if (!table) { return; }
  var q = document.getElementById("q");
  var sev = document.getElementById("severity");
  var st = document.getElementById("status");
  var count = document.getElementById("count");
  var bodies = Array.prototype.slice.call(table.querySelectorAll("tbody.finding"));
  var total = bodies.length;

  function params() {
    var raw = (location.hash || "").replace(/^#/, "");
    if (!raw) { raw = (location.search || "").replace(/^\?/, ""); }
    var out = {};
    raw.split("&").forEach(function (kv) {
      if (!kv) { return; }
      var i = kv.indexOf("=");
      var k = decodeURIComponent(i < 0 ? kv : kv.slice(0, i));
      var v = i < 0 ? "" : decodeURIComponent(kv.slice(i + 1).replace(/\+/g, " "));
      out[k] = v;
    });
    return out;
  }

  function apply() {
    var needle = q.value.trim().toLowerCase();
    var s = sev.value;
    var status = st.value;
    var shown = 0;
    bodies.forEach(function (b) {
      var ok = true;
      if (s && b.getAttribute("data-severity") !== s) { ok = false; }
      if (status === "problems") {
        if (b.getAttribute("data-status") === "PASS" || b.getAttribute("data-status") === "SKIP") { ok = false; }
      } else if (status && b.getAttribute("data-status") !== status) { ok = false; }
      if (ok && needle && b.textContent.toLowerCase().indexOf(needle) < 0) { ok = false; }
      if (ok) { b.removeAttribute("hidden"); shown += 1; } else { b.setAttribute("hidden", ""); }
    });
    count.textContent = shown + " of " + total + " findings shown";
    table.setAttribute("data-shown", String(shown));
  }

  function updateHash() {
    var parts = [];
    if (q.value) { parts.push("q=" + encodeURIComponent(q.value)); }
    if (sev.value) { parts.push("severity=" + encodeURIComponent(sev.value)); }
    if (st.value !== "problems") { parts.push("status=" + encodeURIComponent(st.value || "all")); }
    var h = parts.join("&");
    if (history.replaceState) { history.replaceState(null, "", h ? "#" + h : location.pathname + location.search); }
  }

  function choose(select, value) {
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === value) { select.value = value; return; }
    }
  }

  var p = params();
  if (p.q !== undefined) { q.value = p.q; }
  if (p.severity !== undefined) { choose(sev, p.severity.toLowerCase()); }
  if (p.status !== undefined) { choose(st, p.status === "all" ? "" : p.status.toUpperCase() === "PROBLEMS" ? "problems" : p.status.toUpperCase()); }

  [q, sev, st].forEach(function (el) {
    el.addEventListener("input", function () { apply(); updateHash(); });
    el.addEventListener("change", function () { apply(); updateHash(); });
  });

  bodies.forEach(function (b) {
    var row = b.querySelector("tr.row");
    var detail = b.querySelector("tr.detail");
    row.addEventListener("click", function () {
      if (detail.hasAttribute("hidden")) { detail.removeAttribute("hidden"); row.setAttribute("aria-expanded", "true"); }
      else { detail.setAttribute("hidden", ""); row.setAttribute("aria-expanded", "false"); }
    });
  });

  var headers = Array.prototype.slice.call(table.querySelectorAll("th[data-key]"));
  headers.forEach(function (th) {
    th.addEventListener("click", function () {
      var key = th.getAttribute("data-key");
      var numeric = th.getAttribute("data-numeric") === "1";
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      bodies.sort(function (a, b) {
        var x = a.getAttribute("data-" + key) || "";
        var y = b.getAttribute("data-" + key) || "";
        var c = numeric ? (Number(x) - Number(y)) : (x < y ? -1 : x > y ? 1 : 0);
        if (c === 0) { c = Number(a.getAttribute("data-order")) - Number(b.getAttribute("data-order")); return c; }
        return c * dir;
      });
      bodies.forEach(function (b) { table.appendChild(b); });
    });
  });

  apply();
})();
