(function () {
  "use strict";
  var slice = function (xs) { return Array.prototype.slice.call(xs); };

  // Sorts rows by the keys `keyOf` gives, reading each key once, ties in the original
  // order; `dir` is 1 or -1.
  function sortBy(items, keyOf, numeric, dir) {
    var keyed = items.map(function (item) {
      var k = keyOf(item);
      return { item: item, k: numeric ? Number(k) : k, i: item.hlOrder };
    });
    keyed.sort(function (a, b) {
      var c = a.k < b.k ? -1 : a.k > b.k ? 1 : 0;
      return c === 0 ? a.i - b.i : c * dir;
    });
    return keyed.map(function (x) { return x.item; });
  }

  // Marks `th` as sorted and returns the direction: ascending first, then each click flips.
  function toggle(th, headers, descending) {
    var dir = descending === undefined
      ? (th.getAttribute("aria-sort") === "ascending" ? -1 : 1)
      : (descending ? -1 : 1);
    headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    return dir;
  }

  // The count tables: a click on a column header sorts by that column (a cell's `data-v`
  // when it has one, else its text).
  slice(document.querySelectorAll("table.sortable")).forEach(function (t) {
    var body = t.tBodies[0];
    var rows = slice(body.rows);
    rows.forEach(function (r, i) { r.hlOrder = i; });
    var headers = slice(t.tHead.rows[0].cells);
    headers.forEach(function (th, col) {
      th.addEventListener("click", function () {
        var dir = toggle(th, headers);
        var numeric = th.getAttribute("data-numeric") === "1";
        rows = sortBy(rows, function (r) {
          var c = r.cells[col];
          return c ? (c.getAttribute("data-v") || c.textContent) : "";
        }, numeric, dir);
        var frag = document.createDocumentFragment();
        rows.forEach(function (r) { frag.appendChild(r); });
        body.appendChild(frag);
      });
    });
  });

  var table = document.getElementById("findings");
  if (!table) { return; }
  var q = document.getElementById("q");
  var sev = document.getElementById("severity");
  var st = document.getElementById("status");
  var count = document.getElementById("count");
  var bodies = slice(table.querySelectorAll("tbody.finding"));
  bodies.forEach(function (b, i) { b.hlOrder = i; });
  var total = bodies.length;
  // Without --html-all-rows the table lists FAIL, ERROR and WAIVED findings only.
  var summarised = table.getAttribute("data-rows") === "problems";
  var note = "";
  var sortKey = "";

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
    count.textContent = shown + " of " + total + " findings shown" +
      (summarised ? " (PASS and SKIP are counted above, not listed)" : "") + note;
    table.setAttribute("data-shown", String(shown));
  }

  function updateHash() {
    var parts = [];
    if (q.value) { parts.push("q=" + encodeURIComponent(q.value)); }
    if (sev.value) { parts.push("severity=" + encodeURIComponent(sev.value)); }
    if (st.value !== "problems") { parts.push("status=" + encodeURIComponent(st.value || "all")); }
    if (sortKey) { parts.push("sort=" + encodeURIComponent(sortKey)); }
    var h = parts.join("&");
    if (history.replaceState) { history.replaceState(null, "", h ? "#" + h : location.pathname + location.search); }
  }

  function choose(select, value) {
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === value) { select.value = value; return true; }
    }
    return false;
  }

  [q, sev, st].forEach(function (el) {
    el.addEventListener("input", function () { note = ""; apply(); updateHash(); });
    el.addEventListener("change", function () { note = ""; apply(); updateHash(); });
  });

  bodies.forEach(function (b) {
    var row = b.querySelector("tr.row");
    var detail = b.querySelector("tr.detail");
    row.addEventListener("click", function () {
      if (detail.hasAttribute("hidden")) { detail.removeAttribute("hidden"); row.setAttribute("aria-expanded", "true"); }
      else { detail.setAttribute("hidden", ""); row.setAttribute("aria-expanded", "false"); }
    });
  });

  // Column names in the URL (`#sort=severity`, `#sort=-policy` for descending).
  var names = { status: "srank", severity: "sevrank", finding: "order" };
  var headers = slice(table.querySelectorAll("th[data-key]"));

  function sortFindings(th, descending) {
    var key = th.getAttribute("data-key");
    var dir = toggle(th, headers, descending);
    var name = key;
    Object.keys(names).forEach(function (n) { if (names[n] === key) { name = n; } });
    sortKey = (dir === 1 ? "" : "-") + name;
    bodies = sortBy(bodies, function (b) { return b.getAttribute("data-" + key) || ""; },
      th.getAttribute("data-numeric") === "1", dir);
    var frag = document.createDocumentFragment();
    bodies.forEach(function (b) { frag.appendChild(b); });
    table.appendChild(frag);
  }

  headers.forEach(function (th) {
    th.addEventListener("click", function () { sortFindings(th); updateHash(); });
  });

  var p = params();
  if (p.q !== undefined) { q.value = p.q; }
  if (p.severity !== undefined) { choose(sev, p.severity.toLowerCase()); }
  if (p.status !== undefined) {
    var wanted = p.status === "all" ? "" : p.status.toUpperCase() === "PROBLEMS" ? "problems" : p.status.toUpperCase();
    if (!choose(st, wanted) && summarised && (wanted === "PASS" || wanted === "SKIP")) {
      note = "; " + wanted + " findings are not listed on this page";
    }
  }
  if (p.sort) {
    var desc = p.sort.charAt(0) === "-";
    var want = p.sort.replace(/^-/, "").toLowerCase();
    want = names[want] || want;
    headers.forEach(function (th) { if (th.getAttribute("data-key") === want) { sortFindings(th, desc); } });
  }

  apply();
})();
