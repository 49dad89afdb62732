// Conveyor dashboard: live sections over server-sent events, and buttons that call the JSON API.
// Hand-written, no build step. All HTML comes from the server (Jinja2, autoescaped); this file only
// swaps whole sections and sets textContent, so event data is never turned into markup here.
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

  function replace(id, html) {
    var element = document.getElementById(id);
    if (!element) { return; }
    var open = Array.prototype.map.call(element.querySelectorAll("details[open]"), function (d) { return d.id; });
    element.innerHTML = html;
    open.forEach(function (detailsId) {
      var details = document.getElementById(detailsId);
      if (details) { details.open = true; }
    });
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
