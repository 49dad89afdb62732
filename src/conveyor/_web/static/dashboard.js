// Conveyor dashboard: live sections over server-sent events, charts (vendored uPlot) and buttons that
// call the JSON API. Hand-written, no build step. All HTML comes from the server (Jinja2, autoescaped);
// this file only swaps whole sections and sets textContent, so event data is never turned into markup
// here. The charts read their numbers from the section's data-charts attribute (JSON).
(function () {
  "use strict";
  var base = document.body.dataset.base || "";
  var query = document.body.dataset.query || "";
  var live = document.getElementById("live");
  var toast = document.getElementById("toast");
  var toastTimer = null;

  function say(text, bad) {
    toast.textContent = text;
    toast.className = bad ? "bad" : "good";
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toast.textContent = ""; toast.className = ""; }, 4000);
  }

  function call(method, path, body) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { "X-Conveyor-Request": "1" }
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = body;
    }
    return fetch(base + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw new Error(data.error || response.status + " " + response.statusText); }
        return data;
      });
    });
  }

  var enc = encodeURIComponent;
  var actions = {
    "pause": function (b) { return call("POST", "/api/workers/" + enc(b.dataset.worker) + "/pause"); },
    "resume": function (b) { return call("POST", "/api/workers/" + enc(b.dataset.worker) + "/resume"); },
    "unblock": function (b) { return call("POST", "/api/workers/" + enc(b.dataset.worker) + "/unblock"); },
    "purge": function (b) { return call("POST", "/api/workers/" + enc(b.dataset.worker) + "/purge"); },
    "discard-unknown": function (b) { return call("POST", "/api/workers/" + enc(b.dataset.worker) + "/purge"); },
    "retry": function (b) { return call("POST", "/api/dead/retry", JSON.stringify({ id: Number(b.dataset.id) })); },
    "discard": function (b) { return call("POST", "/api/dead/discard", JSON.stringify({ id: Number(b.dataset.id) })); },
    "retry-worker": function (b) { return call("POST", "/api/dead/retry", JSON.stringify({ worker: b.dataset.worker })); },
    "discard-worker": function (b) { return call("POST", "/api/dead/discard", JSON.stringify({ worker: b.dataset.worker })); },
    "pause-schedule": function (b) { return call("POST", "/api/schedules/" + enc(b.dataset.schedule) + "/pause"); },
    "resume-schedule": function (b) { return call("POST", "/api/schedules/" + enc(b.dataset.schedule) + "/resume"); },
    "cancel": function (b) { return call("DELETE", "/api/messages/" + enc(b.dataset.id)); },
    "replay": function (b) {
      return call("POST", "/api/workers/" + enc(b.dataset.worker) + "/traces/" + enc(b.dataset.id) + "/replay");
    }
  };

  function describe(name, data) {
    if (data.id !== undefined && (name === "replay")) { return "emitted message " + data.id; }
    if (data.purged !== undefined) { return "removed " + data.purged + " message(s)"; }
    if (data.retried !== undefined) { return "retrying " + data.retried + " dead letter(s)"; }
    if (data.discarded !== undefined) { return "discarded " + data.discarded + " dead letter(s)"; }
    if (data.cancelled) { return "cancelled message " + data.id; }
    if (data.schedule !== undefined) { return "schedule " + data.schedule + (data.paused ? " paused" : " resumed"); }
    if (data.paused !== undefined) { return data.worker + (data.paused ? " paused" : " resumed"); }
    if (data.worker !== undefined && data.blocked === null) { return data.worker + " unblocked"; }
    return name + ": done";
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button || !actions[button.dataset.action]) { return; }
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) { return; }
    button.disabled = true;
    actions[button.dataset.action](button).then(function (data) {
      say(describe(button.dataset.action, data), false);
    }).catch(function (error) {
      say(error.message, true);
    }).then(function () { button.disabled = false; });
  });

  var form = document.getElementById("emit-form");
  if (form) { form.addEventListener("submit", function (event) {
    event.preventDefault();
    var worker = form.elements.worker.value.trim();
    var text = form.elements.event.value;
    try { JSON.parse(text); } catch (error) { say("the event is not valid JSON: " + error.message, true); return; }
    var params = [];
    if (form.elements.delay.value) { params.push("delay=" + enc(form.elements.delay.value)); }
    if (form.elements.key.value) { params.push("key=" + enc(form.elements.key.value)); }
    var path = "/api/emit/" + enc(worker) + (params.length ? "?" + params.join("&") : "");
    call("POST", path, text).then(function (data) {
      say("emitted message " + data.id + " to " + worker, false);
    }).catch(function (error) { say(error.message, true); });
  }); }

  // -- charts -----------------------------------------------------------------------------------
  var palette = ["#2f6fde", "#d9480f", "#2b8a3e", "#ae3ec9", "#e8a100", "#0c8599"];

  function ink() { return window.getComputedStyle(document.body).color; }

  function formatter(unit) {
    return function (u, value) {
      if (value === null || value === undefined) { return "–"; }
      if (unit === "seconds") {
        if (value === 0) { return "0"; }
        if (value < 0.001) { return Math.round(value * 1e6) + " µs"; }
        return value < 1 ? +(value * 1000).toFixed(1) + " ms" : +value.toFixed(2) + " s";
      }
      return String(+value.toFixed(2));
    };
  }

  function clock(ts) { return new Date(ts * 1000).toISOString().slice(11, 16); } // HH:MM UTC

  function drawCharts(root) {
    if (!window.uPlot) { return; }
    Array.prototype.forEach.call(root.querySelectorAll("[data-charts]"), function (box) {
      var data = JSON.parse(box.dataset.charts);
      data.charts.forEach(function (chart) {
        var figure = box.querySelector('[data-chart="' + chart.id + '"]');
        if (!figure) { return; }
        if (figure._uplot) { figure._uplot.destroy(); }
        var color = ink();
        var series = [{ label: "UTC", value: function (u, ts) { return ts === null ? "–" : clock(ts); } }];
        chart.series.forEach(function (s, i) {
          series.push({
            label: s.label, stroke: palette[i % palette.length], width: i === 0 ? 2 : 1.25,
            value: formatter(chart.unit), points: { show: false }
          });
        });
        var axis = { stroke: color, grid: { stroke: "rgba(128,128,128,.18)" }, ticks: { stroke: "rgba(128,128,128,.3)" } };
        var opts = {
          title: chart.title + (chart.unit === "seconds" ? "" : " (" + (data.step === 60 ? "per minute" : "per 10 min") + ")"),
          width: Math.max(260, figure.clientWidth || 320),
          height: 190,
          series: series,
          scales: { y: { range: function (u, min, max) { return [0, Math.max(max, chart.unit === "seconds" ? 0.001 : 1)]; } } },
          axes: [
            Object.assign({}, axis, { values: function (u, ticks) { return ticks.map(clock); } }),
            Object.assign({}, axis, { size: 56, values: function (u, ticks) { return ticks.map(function (t) { return formatter(chart.unit)(u, t); }); } })
          ],
          legend: { live: false }
        };
        var rows = [data.x].concat(chart.series.map(function (s) { return s.values; }));
        figure._uplot = new window.uPlot(opts, rows, figure);
        figure.setAttribute("role", "img");
        figure.setAttribute("aria-label", chart.title + ": " + chart.series.map(function (s) {
          var sum = s.values.reduce(function (a, b) { return chart.unit === "seconds" ? Math.max(a, b) : a + b; }, 0);
          return s.label + " " + (chart.unit === "seconds" ? "at most " + formatter("seconds")(null, sum) : sum);
        }).join(", "));
      });
    });
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { drawCharts(document); }, 150);
  });
  drawCharts(document);

  function replace(id, html) {
    var element = document.getElementById(id);
    if (!element) { return; }
    var open = Array.prototype.map.call(element.querySelectorAll("details[open]"), function (d) { return d.id; });
    Array.prototype.forEach.call(element.querySelectorAll("[data-chart]"), function (f) {
      if (f._uplot) { f._uplot.destroy(); }
    });
    element.innerHTML = html;
    open.forEach(function (detailsId) {
      var details = document.getElementById(detailsId);
      if (details) { details.open = true; }
    });
    drawCharts(element);
  }

  if (!live) {
    return; // a page without live sections (one message)
  }
  if (window.EventSource) {
    var source = new EventSource(base + "/api/stream" + query);
    source.addEventListener("open", function () { live.textContent = "live"; live.className = "live on"; });
    source.addEventListener("error", function () { live.textContent = "reconnecting…"; live.className = "live off"; });
    source.addEventListener("section", function (message) {
      var data = JSON.parse(message.data);
      replace(data.id, data.html);
    });
  } else {
    live.textContent = "no live updates in this browser";
  }
})();
