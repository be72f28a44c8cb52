// The kb serve page: plain JavaScript, no build step, no external resources. Every few seconds it
// reads the JSON API and redraws the versions, the progress of building versions, and the top rows
// of each live view. ?refresh=SECONDS changes the period (default 3). When kb serve runs with
// --token-file, the API answers 401: the page then asks for the token once and keeps it in this
// tab's sessionStorage (gone when the tab closes), sending it as Authorization: Bearer.
(function () {
  "use strict";

  var params = new URLSearchParams(window.location.search);
  var periodMs = Math.max(0.2, Number(params.get("refresh")) || 3) * 1000;
  var topRows = Math.max(1, Math.min(100, Number(params.get("top")) || 10));
  var refreshes = 0;

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") {
        e.textContent = attrs[k];
      } else if (k === "className") {
        e.className = attrs[k];
      } else {
        e.setAttribute(k, attrs[k]);
      }
    });
    (children || []).forEach(function (c) { e.appendChild(c); });
    return e;
  }

  function fmt(v) {
    if (v === null || v === undefined) return "-";
    if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString("en-US") : v.toFixed(1);
    return String(v);
  }

  var TOKEN_KEY = "kb-serve-token";

  function showTokenForm(wrong) {
    var form = document.getElementById("token-form");
    document.getElementById("token-message").textContent =
      wrong ? "The token was refused; enter the one in kb serve's --token-file." :
        "This server needs the token in kb serve's --token-file.";
    form.hidden = false;
  }

  document.getElementById("token-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var input = document.getElementById("token-input");
    window.sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    input.value = "";
    document.getElementById("token-form").hidden = true;
  });

  function getJson(url) {
    var headers = {};
    var token = window.sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = "Bearer " + token;
    return fetch(url, { cache: "no-store", headers: headers }).then(function (r) {
      if (r.status === 401) {
        showTokenForm(Boolean(token));
        throw new Error("waiting for the token");
      }
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(url + ": " + (body.error || r.status));
        return body;
      });
    });
  }

  function renderVersions(versions) {
    var tbody = document.querySelector("#versions tbody");
    var rows = versions.map(function (v) {
      var job = v.job_state ? v.job_state + (v.job_state === "running" && !v.job_alive ? " (dead)" : "") : "-";
      var tr = el("tr", { id: "version-" + v.view + "-" + v.version, "data-status": v.status }, [
        el("td", { text: v.view }),
        el("td", { text: v.version }),
        el("td", { className: "status status-" + v.status, text: (v.complete ? "complete" : v.status) + (v.live ? " (serving)" : "") }),
        el("td", { className: v.job_state === "running" && !v.job_alive ? "dead" : "", text: job }),
        el("td", { text: fmt(v.runner) }),
        el("td", { className: "num lag", title: v.lag_error || "", text: fmt(v.lag) }),
        el("td", { className: "num rate", text: fmt(v.records_per_second) }),
        el("td", { className: "num read", text: fmt(v.counters.read) }),
        el("td", { className: "num rows", text: fmt(v.rows) }),
        el("td", { text: fmt(v.newest_event_time) }),
        el("td", { text: fmt(v.fingerprint) }),
        el("td", { text: fmt(v.switched_at) })
      ]);
      return tr;
    });
    tbody.replaceChildren.apply(tbody, rows);
  }

  function renderProgress(versions) {
    // A finished historical or drained run is complete, not reprocessing: no card for it.
    var building = versions.filter(function (v) { return v.status === "building" && !v.complete; });
    document.getElementById("no-progress").hidden = building.length > 0;
    var cards = building.map(function (v) {
      var end = 0, done = 0;
      (v.lag_per_partition || []).forEach(function (p) {
        end += p.end_offset;
        done += p.end_offset - p.lag;
      });
      var pct = end > 0 ? Math.min(100, 100 * done / end) : 0;
      var parts = (v.lag_per_partition || []).map(function (p) { return "p" + p.partition + ": " + fmt(p.lag); });
      return el("div", { className: "card", id: "progress-" + v.view + "-" + v.version }, [
        el("h3", { text: v.view + " " + v.version + " building" + (v.job_alive ? "" : " (job not running)") }),
        el("div", { className: "bar" }, [el("div", { style: "width:" + pct.toFixed(1) + "%" })]),
        el("div", {}, [
          el("span", { text: "lag " }), el("b", { className: "lag", text: fmt(v.lag) }),
          el("span", { text: " records (" + (parts.join(", ") || v.lag_error || "-") + "), " }),
          el("b", { className: "rate", text: fmt(v.records_per_second) }),
          el("span", { text: " records/s, ETA " + (v.eta_seconds === null ? "-" : v.eta_seconds + " s") +
            ", read " + fmt(v.counters.read) + ", rows " + fmt(v.rows) +
            ", newest event " + fmt(v.newest_event_time) })
        ])
      ]);
    });
    var box = document.getElementById("progress");
    box.replaceChildren.apply(box, cards);
  }

  function renderView(view, data) {
    var section = el("section", { className: "view", id: "view-" + view.view });
    var title = view.view + (view.live_version ? " (live " + view.live_version + ")" : "");
    section.appendChild(el("h3", { text: title }));
    if (!data) {
      section.appendChild(el("p", { className: "muted", text: "no live version" }));
      return section;
    }
    var head = el("tr", {}, data.columns.map(function (c) { return el("th", { text: c }); }));
    var body = data.rows.map(function (r) {
      var key = view.key_columns.map(function (k) { return r[k]; }).join("|");
      return el("tr", { "data-key": key }, data.columns.map(function (c) {
        return el("td", { className: typeof r[c] === "number" ? "num" : "", "data-column": c, text: fmt(r[c]) });
      }));
    });
    section.appendChild(el("p", { className: "muted",
      text: "top " + topRows + " by " + view.default_by + " (version " + data.version + ")" }));
    section.appendChild(el("table", {}, [el("thead", {}, [head]), el("tbody", {}, body)]));
    return section;
  }

  function renderViews(views) {
    return Promise.all(views.map(function (v) {
      if (!v.live_version) return Promise.resolve(null);
      return getJson("api/views/" + encodeURIComponent(v.view) + "?top=" + topRows + "&by=" + v.default_by)
        .catch(function () { return null; });
    })).then(function (datas) {
      var box = document.getElementById("views");
      box.replaceChildren.apply(box, views.map(function (v, i) { return renderView(v, datas[i]); }));
    });
  }

  function refresh() {
    var error = document.getElementById("error");
    Promise.all([getJson("api/views"), getJson("api/versions")])
      .then(function (r) {
        renderVersions(r[1]);
        renderProgress(r[1]);
        return renderViews(r[0]);
      })
      .then(function () {
        refreshes++;
        error.hidden = true;
        var status = document.getElementById("status");
        status.textContent = "updated " + new Date().toISOString().substring(11, 19) + " UTC";
        status.setAttribute("data-refreshes", String(refreshes));
      })
      .catch(function (e) {
        error.hidden = false;
        error.textContent = String(e.message || e);
      })
      .then(function () { window.setTimeout(refresh, periodMs); });
  }

  refresh();
})();
