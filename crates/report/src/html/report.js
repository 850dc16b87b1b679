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

  // The small count tables: a click on a column header sorts by that column (a cell's
  // `data-v` when it has one, else its text).
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

  // The findings and the counts per data store are data (see html/data.rs): the rows of
  // one page of each table are built here, as elements and text, never as HTML.
  var dataEl = document.getElementById("data");
  var table = document.getElementById("findings");
  if (!dataEl || !table) { return; }
  // When the tables are built (ms since the page began to load), for the browser test.
  var ready = function () {
    document.documentElement.setAttribute("data-ready-ms", String(Math.round(performance.now())));
  };
  var D = JSON.parse(dataEl.textContent);
  // The parsed data is all the page needs: drop its text (tens of megabytes on a large
  // audit) from the document.
  dataEl.parentNode.removeChild(dataEl);
  var S = D.s;
  var F = D.findings;
  var W = D.fields;
  var PAGE = 500;
  var STATUS = ["FAIL", "ERROR", "WAIVED", "PASS", "SKIP"];
  var SRANK = [0, 0, 1, 2, 3];
  var SEV = ["info", "low", "medium", "high", "critical"];
  var MARK = "\u0001";
  var n = F.length / W;

  function str(i) { return i < 0 ? "" : S[i]; }

  // A template back to its text: MARK and `n`, `a` or `i` stand for the subject's name,
  // label or id, two MARKs for one.
  function expand(t, s) {
    if (t.indexOf(MARK) < 0) { return t; }
    var out = "";
    var i = 0;
    while (i < t.length) {
      var j = t.indexOf(MARK, i);
      if (j < 0) { out += t.slice(i); break; }
      out += t.slice(i, j);
      var c = t.charAt(j + 1);
      out += c === "n" ? name(s) : c === "a" ? label(s) : c === "i" ? str(D.subjects[s][1]) : MARK;
      i = j + 2;
    }
    return out;
  }
  function name(s) { return str(D.subjects[s][0]); }
  function label(s) { var x = D.subjects[s]; return x[2] < 0 ? "" : expand(S[x[2]], s); }
  function source(s) {
    var x = D.subjects[s];
    return x[5] < 0 ? "" : x[6] === 0 ? S[x[5]] : S[x[5]] + ":" + x[6] + ":" + x[7];
  }

  // Invisible characters are shown as a marker naming them, as on the rest of the page.
  var hidden = {};
  var anyHidden = false;
  Object.keys(D.invisible).forEach(function (k) {
    hidden[String.fromCodePoint(parseInt(k.slice(2), 16))] = k;
    anyHidden = true;
  });
  // Appends `s` to `el` as text.
  function put(el, s) {
    if (!anyHidden) { el.appendChild(document.createTextNode(s)); return; }
    var buf = "";
    for (var ch of s) {
      var k = hidden[ch];
      if (k === undefined) { buf += ch; continue; }
      if (buf) { el.appendChild(document.createTextNode(buf)); buf = ""; }
      var m = document.createElement("span");
      m.className = "invisible";
      m.title = k + " " + D.invisible[k];
      m.textContent = "<" + k + ">";
      el.appendChild(m);
    }
    if (buf) { el.appendChild(document.createTextNode(buf)); }
  }
  // `s` for an attribute: each invisible character as a plain marker.
  function plain(s) {
    if (!anyHidden) { return s; }
    var out = "";
    for (var ch of s) { out += hidden[ch] === undefined ? ch : "<" + hidden[ch] + ">"; }
    return out;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { put(e, text); }
    return e;
  }
  function add(parent, child) { parent.appendChild(child); return child; }

  // Next and previous pages of a table; `draw(first)` shows the rows from `first` on.
  function pager(box, draw) {
    var p = { page: 0, total: 0 };
    var prev = el("button", "", "Previous");
    var text = el("span", "rows");
    var next = el("button", "", "Next");
    prev.type = next.type = "button";
    [prev, text, next].forEach(function (e) { box.appendChild(e); });
    p.show = function () {
      var last = Math.max(0, Math.ceil(p.total / PAGE) - 1);
      p.page = Math.max(0, Math.min(p.page, last));
      var first = p.page * PAGE;
      var end = Math.min(p.total, first + PAGE);
      text.textContent = p.total === 0 ? "No rows" : "Rows " + (first + 1) + "\u2013" + end + " of " + p.total;
      prev.disabled = p.page === 0;
      next.disabled = p.page >= last;
      box.hidden = p.total <= PAGE;
      draw(first, end);
    };
    prev.addEventListener("click", function () { p.page -= 1; p.show(); p.moved(); });
    next.addEventListener("click", function () { p.page += 1; p.show(); p.moved(); });
    p.moved = function () {};
    return p;
  }

  // Ranks of strings, for sorting by them as numbers: `key(i)` of items 0..count.
  function ranks(count, key) {
    var idx = [];
    for (var i = 0; i < count; i++) { idx.push(i); }
    var k = idx.map(key);
    idx.sort(function (a, b) { return k[a] < k[b] ? -1 : k[a] > k[b] ? 1 : 0; });
    var r = new Int32Array(count);
    var rank = 0;
    idx.forEach(function (i, pos) {
      if (pos > 0 && k[i] !== k[idx[pos - 1]]) { rank = pos; }
      r[i] = rank;
    });
    return r;
  }
  var subjectRanks = {};
  function subjectRank(field) {
    if (!subjectRanks[field]) {
      subjectRanks[field] = ranks(D.subjects.length, function (s) {
        return field === "name" ? plain(name(s)) : field === "id"
          ? plain(D.subjects[s][1] < 0 ? label(s) : S[D.subjects[s][1]])
          : plain(str(D.subjects[s][field === "account" ? 3 : 4]));
      });
    }
    return subjectRanks[field];
  }

  // ---- The findings table.
  var q = document.getElementById("q");
  var sev = document.getElementById("severity");
  var st = document.getElementById("status");
  var count = document.getElementById("count");
  // Without --html-all-rows the table lists FAIL, ERROR and WAIVED findings only.
  var summarised = table.getAttribute("data-rows") === "problems";
  var note = "";
  var sortKey = "";
  var sorted = [];
  for (var i0 = 0; i0 < n; i0++) { sorted.push(i0); }
  var view = sorted;

  function sortKeyOf(key) {
    if (key === "srank") { return function (i) { return SRANK[F[i * W]]; }; }
    if (key === "sevrank") { return function (i) { return F[i * W + 1]; }; }
    if (key === "policy") {
      var pr = ranks(D.policies.length, function (p) { return plain(S[D.policies[p][0]]); });
      return function (i) { return pr[F[i * W + 2]]; };
    }
    if (key === "resource" || key === "account" || key === "region") {
      var sr = subjectRank(key === "resource" ? "name" : key);
      return function (i) { return sr[F[i * W + 3]]; };
    }
    return function (i) { return i; };
  }

  // What the text filter looks in, lower case: the status, severity, policy, subject,
  // message and evidence of a finding.
  var policyText = D.policies.map(function (p) { return (S[p[0]] + "\n" + S[p[1]]).toLowerCase(); });
  var subjectText = [];
  var evidenceText = [];
  var messageText = [];
  function message(i) { return expand(S[F[i * W + 4]], F[i * W + 3]); }
  function textHas(i, needle) {
    var o = i * W;
    if ((STATUS[F[o]] + " " + SEV[F[o + 1]]).toLowerCase().indexOf(needle) >= 0) { return true; }
    if (policyText[F[o + 2]].indexOf(needle) >= 0) { return true; }
    var s = F[o + 3];
    if (subjectText[s] === undefined) {
      var x = D.subjects[s];
      subjectText[s] = plain([name(s), label(s), str(x[3]), str(x[4])].join("\n")).toLowerCase();
    }
    if (subjectText[s].indexOf(needle) >= 0) { return true; }
    var m = F[o + 4];
    var mt;
    if (messageText[m] !== undefined) {
      mt = messageText[m];
    } else {
      mt = plain(message(i)).toLowerCase();
      if (S[m].indexOf(MARK) < 0) { messageText[m] = mt; }
    }
    if (mt.indexOf(needle) >= 0) { return true; }
    var e = F[o + 5];
    if (e >= 0) {
      if (evidenceText[e] === undefined) {
        evidenceText[e] = plain(D.evsets[e].map(function (r) {
          return D.evidence[r].map(str).join(" ");
        }).join("\n")).toLowerCase();
      }
      if (evidenceText[e].indexOf(needle) >= 0) { return true; }
    }
    return false;
  }

  function filter() {
    var needle = q.value.trim().toLowerCase();
    var s = sev.value;
    var status = st.value;
    view = sorted.filter(function (i) {
      var o = i * W;
      var fs = STATUS[F[o]];
      if (s && SEV[F[o + 1]] !== s) { return false; }
      if (status === "problems") {
        if (fs === "PASS" || fs === "SKIP") { return false; }
      } else if (status && fs !== status) { return false; }
      return !needle || textHas(i, needle);
    });
    count.textContent = view.length + " of " + n + " findings shown" +
      (summarised ? " (PASS and SKIP are counted above, not listed)" : "") + note;
    table.setAttribute("data-shown", String(view.length));
    findingsPager.total = view.length;
  }

  function findingBody(i) {
    var o = i * W;
    var status = STATUS[F[o]];
    var severity = SEV[F[o + 1]];
    var p = D.policies[F[o + 2]];
    var s = F[o + 3];
    var x = D.subjects[s];
    var extra = F[o + 6] < 0 ? [-1, -1, -1] : D.extras[F[o + 6]];
    var b = el("tbody", "finding");
    [["status", status], ["severity", severity], ["srank", String(SRANK[F[o]])],
      ["sevrank", String(F[o + 1])], ["policy", plain(S[p[0]])], ["resource", plain(name(s))],
      ["account", plain(str(x[3]))], ["region", plain(str(x[4]))], ["order", String(i)]
    ].forEach(function (kv) { b.setAttribute("data-" + kv[0], kv[1]); });
    var row = add(b, el("tr", "row"));
    row.setAttribute("aria-expanded", "false");
    var td = add(row, el("td"));
    add(td, el("span", "badge " + status, status));
    if (extra[2] >= 0) {
      td.appendChild(document.createTextNode(" "));
      add(td, el("span", "badge new", S[extra[2]]));
    }
    add(add(row, el("td")), el("span", "sev " + severity, severity));
    td = add(row, el("td", "policy"));
    add(td, el("strong", "", S[p[0]]));
    add(td, el("div", "title", S[p[1]]));
    td = add(row, el("td", "", name(s)));
    add(td, el("div", "arn", label(s)));
    add(row, el("td", "nw", str(x[3])));
    add(row, el("td", "nw", str(x[4])));
    add(row, el("td", "msg", message(i)));

    var detail = add(b, el("tr", "detail"));
    detail.hidden = true;
    var cell = add(detail, el("td"));
    cell.colSpan = 7;
    var ev = F[o + 5];
    if (ev >= 0) {
      add(cell, el("h3", "", "Evidence"));
      var t = add(cell, el("table", "evidence"));
      D.evsets[ev].forEach(function (r) {
        var e = D.evidence[r];
        var tr = add(t, el("tr"));
        add(add(tr, el("td")), el("code", "", S[e[0]]));
        var found = add(tr, el("td", "", "found "));
        add(found, el("code", "", S[e[1]]));
        add(tr, el("td", "", "expected " + S[e[2]]));
      });
    }
    if (extra[0] >= 0) {
      var w = D.waivers[extra[0]];
      add(cell, el("h3", "", "Waiver"));
      add(cell, el("p", "", S[w[0]] + " \u00b7 approved by " + S[w[1]] +
        (w[2] >= 0 ? " \u00b7 expires " + S[w[2]] : "") + " \u00b7 " + S[w[3]]));
    }
    if (p[3] >= 0 && SRANK[F[o]] < 2) {
      var see = add(cell, el("p", "see"));
      var a = add(see, el("a", "", S[p[0]] + ": what it checks, why it matters, remediation"));
      a.setAttribute("href", "#policy-" + p[3]);
    }
    if (x[8] >= 0 && D.tags[x[8]].length > 0) {
      add(cell, el("h3", "", "Tags"));
      var tt = add(cell, el("table", "evidence"));
      var kv = D.tags[x[8]];
      for (var k = 0; k < kv.length; k += 2) {
        var tr2 = add(tt, el("tr"));
        add(add(tr2, el("td")), el("code", "", S[kv[k]]));
        add(tr2, el("td", "", S[kv[k + 1]]));
      }
    }
    if (extra[1] >= 0) {
      add(cell, el("h3", "", "Location"));
      add(cell, el("p", "arn", S[extra[1]]));
    }
    if (x[5] >= 0) {
      add(cell, el("h3", "", "Source"));
      add(cell, el("p", "arn", source(s)));
    }
    row.addEventListener("click", function () {
      detail.hidden = !detail.hidden;
      row.setAttribute("aria-expanded", detail.hidden ? "false" : "true");
    });
    return b;
  }

  var findingsPager = pager(document.getElementById("findings-pager"), function (first, end) {
    slice(table.tBodies).forEach(function (b) { table.removeChild(b); });
    var frag = document.createDocumentFragment();
    for (var k = first; k < end; k++) { frag.appendChild(findingBody(view[k])); }
    table.appendChild(frag);
  });
  findingsPager.moved = function () { updateHash(); };

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

  function updateHash() {
    var parts = [];
    if (q.value) { parts.push("q=" + encodeURIComponent(q.value)); }
    if (sev.value) { parts.push("severity=" + encodeURIComponent(sev.value)); }
    if (st.value !== "problems") { parts.push("status=" + encodeURIComponent(st.value || "all")); }
    if (sortKey) { parts.push("sort=" + encodeURIComponent(sortKey)); }
    if (findingsPager.page > 0) { parts.push("page=" + (findingsPager.page + 1)); }
    var h = parts.join("&");
    if (history.replaceState) { history.replaceState(null, "", h ? "#" + h : location.pathname + location.search); }
  }

  function choose(select, value) {
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === value) { select.value = value; return true; }
    }
    return false;
  }

  function refresh() { note = ""; filter(); findingsPager.page = 0; findingsPager.show(); updateHash(); }
  // Typing filters once it pauses: each pass reads every listed finding.
  var typing = 0;
  q.addEventListener("input", function () { clearTimeout(typing); typing = setTimeout(refresh, 200); });
  q.addEventListener("change", function () { clearTimeout(typing); refresh(); });
  [sev, st].forEach(function (e) { e.addEventListener("change", refresh); });

  // Column names in the URL (`#sort=severity`, `#sort=-policy` for descending).
  var names = { status: "srank", severity: "sevrank", finding: "order" };
  var headers = slice(table.querySelectorAll("th[data-key]"));

  function sortFindings(th, descending) {
    var key = th.getAttribute("data-key");
    var dir = toggle(th, headers, descending);
    var inUrl = key;
    Object.keys(names).forEach(function (nm) { if (names[nm] === key) { inUrl = nm; } });
    sortKey = (dir === 1 ? "" : "-") + inUrl;
    var k = sortKeyOf(key);
    var keys = new Float64Array(n);
    for (var i = 0; i < n; i++) { keys[i] = k(i); }
    sorted = [];
    for (var j = 0; j < n; j++) { sorted.push(j); }
    sorted.sort(function (a, b) { return keys[a] === keys[b] ? a - b : (keys[a] - keys[b]) * dir; });
  }

  headers.forEach(function (th) {
    th.addEventListener("click", function () {
      sortFindings(th);
      filter();
      findingsPager.page = 0;
      findingsPager.show();
      updateHash();
    });
  });

  var p = params();
  if (p.q !== undefined) { q.value = p.q; }
  if (p.severity !== undefined) { choose(sev, p.severity.toLowerCase()); }
  if (p.sort) {
    var desc = p.sort.charAt(0) === "-";
    var want = p.sort.replace(/^-/, "").toLowerCase();
    want = names[want] || want;
    headers.forEach(function (th) { if (th.getAttribute("data-key") === want) { sortFindings(th, desc); } });
  }
  if (p.status !== undefined) {
    var wanted = p.status === "all" ? "" : p.status.toUpperCase() === "PROBLEMS" ? "problems" : p.status.toUpperCase();
    if (!choose(st, wanted) && summarised && (wanted === "PASS" || wanted === "SKIP")) {
      note = "; " + wanted + " findings are not listed on this page";
    }
  }
  filter();
  if (p.page) { findingsPager.page = (parseInt(p.page, 10) || 1) - 1; }
  findingsPager.show();

  // ---- The counts per data store, a page at a time.
  var perStore = document.getElementById("counts-resource");
  if (!perStore || !D.counts) { ready(); return; }
  var C = D.counts;
  var storeOrder = [];
  for (var s0 = 0; s0 < D.stores; s0++) { storeOrder.push(s0); }
  var storeBody = add(perStore, el("tbody"));
  var storePager = pager(document.getElementById("counts-resource-pager"), function (first, end) {
    var body = el("tbody");
    for (var k = first; k < end; k++) {
      var s = storeOrder[k];
      var x = D.subjects[s];
      var tr = add(body, el("tr"));
      add(tr, el("td", "", name(s)));
      add(tr, el("td", "arn", x[1] < 0 ? label(s) : S[x[1]]));
      add(tr, el("td", "", str(x[3])));
      add(tr, el("td", "", str(x[4])));
      for (var c = 0; c < 5; c++) { add(tr, el("td", "n", String(C[s * 5 + c]))); }
    }
    perStore.replaceChild(body, storeBody);
    storeBody = body;
  });
  var storeHeaders = slice(perStore.tHead.rows[0].cells);
  storeHeaders.forEach(function (th) {
    th.addEventListener("click", function () {
      var dir = toggle(th, storeHeaders);
      var key = th.getAttribute("data-key");
      var keys;
      if (th.getAttribute("data-numeric") === "1") {
        var c = Number(key);
        keys = function (s) { return C[s * 5 + c]; };
      } else {
        var r = subjectRank(key);
        keys = function (s) { return r[s]; };
      }
      storeOrder.sort(function (a, b) {
        var ka = keys(a);
        var kb = keys(b);
        return ka === kb ? a - b : (ka - kb) * dir;
      });
      storePager.page = 0;
      storePager.show();
    });
  });
  storePager.total = D.stores;
  storePager.show();
  ready();
})();
