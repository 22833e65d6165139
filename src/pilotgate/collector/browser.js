/* pilotgate browser capture: dwell, reactions, copies and abandonment of AI answers.
 * Served by `pilotgate serve` at /v1/browser.js; no dependencies.
 *
 *   pilotgate.init({collector: "https://collector.example", key: "pg_…", feature, version})
 *   pilotgate.shown(interactionId, answerElement)  // dwell starts
 *   pilotgate.accept(id, {score, comment}) · reject(id, {comment}) · edit(id, text)
 *   pilotgate.step(name, meta)
 *
 * Dwell is the time the answer element is on screen (IntersectionObserver) while the tab
 * is visible (visibilitychange). A shown answer with no reaction when the page is hidden
 * or left is sent as an "abandoned" step with navigator.sendBeacon. The key must be a
 * browser key (`pilotgate keys create --scope browser --origin …`): it can only send
 * feedback and steps for its project, from its origins. Nothing here ever throws into
 * the page: every call returns a promise that resolves (to false when sending failed).
 */
(function (global) {
  "use strict";
  var cfg = null;
  var answers = {};
  var hooked = false;

  function now() { return global.performance.now(); }
  function iso() { return new Date().toISOString(); }
  function tabVisible() { return global.document.visibilityState === "visible"; }

  function onScreen(el) {
    var r = el.getBoundingClientRect();
    var h = global.innerHeight || global.document.documentElement.clientHeight;
    var w = global.innerWidth || global.document.documentElement.clientWidth;
    return r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < h && r.left < w;
  }

  function look(a) {
    a.inView = onScreen(a.el);
    a.checkedAt = now();
    if (a.inView) { resume(a); } else { pause(a); }
  }

  function resume(a) {
    if (a.since === null && !a.done && a.inView && tabVisible()) { a.since = now(); }
  }
  function pause(a) {
    if (a.since !== null) { a.dwell += now() - a.since; a.since = null; }
  }
  function dwellOf(a) { return Math.round(a.dwell + (a.since !== null ? now() - a.since : 0)); }

  function sessionId() {
    if (cfg.sessionId) { return cfg.sessionId; }
    var id = null;
    try { id = global.sessionStorage.getItem("pilotgate.session"); } catch (e) { id = null; }
    if (!id) {
      id = "web-" + Math.random().toString(36).slice(2) + Date.now().toString(36);
      try { global.sessionStorage.setItem("pilotgate.session", id); } catch (e) { /* private mode */ }
    }
    cfg.sessionId = id;
    return id;
  }

  function send(records) {
    if (!cfg || !global.fetch) { return Promise.resolve(false); }
    try {
      return global.fetch(cfg.collector + "/v1/ingest", {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        keepalive: true,
        headers: {"Content-Type": "application/json", "Authorization": "Bearer " + cfg.key},
        body: JSON.stringify({records: records})
      }).then(function (r) { return r.ok; }, function () { return false; });
    } catch (e) {
      return Promise.resolve(false);
    }
  }

  function beacon(records) {
    var body = JSON.stringify({key: cfg.key, records: records});
    try {
      if (global.navigator.sendBeacon) {
        // text/plain: the one body type a beacon sends without a preflight
        var blob = new Blob([body], {type: "text/plain;charset=UTF-8"});
        if (global.navigator.sendBeacon(cfg.collector + "/v1/browser/beacon", blob)) { return; }
      }
    } catch (e) { /* fall through */ }
    try {
      global.fetch(cfg.collector + "/v1/browser/beacon", {
        method: "POST", mode: "no-cors", credentials: "omit", keepalive: true,
        headers: {"Content-Type": "text/plain;charset=UTF-8"}, body: body
      }).catch(function () { return null; });
    } catch (e) { /* nothing more to try */ }
  }

  function abandonAll() {
    var records = [];
    Object.keys(answers).forEach(function (id) {
      var a = answers[id];
      pause(a);
      if (a.done || a.abandoned) { return; }
      a.abandoned = true;
      records.push({kind: "step", session_id: sessionId(), ts: iso(), name: "abandoned",
                    metadata: {interaction_id: id, dwell_ms: dwellOf(a),
                               feature: cfg.feature, version: cfg.version}});
    });
    if (records.length) { beacon(records); }
  }

  function hook() {
    if (hooked) { return; }
    hooked = true;
    global.document.addEventListener("visibilitychange", function () {
      if (tabVisible()) {
        // measure now rather than wait for the observer's next report (a frame or more)
        Object.keys(answers).forEach(function (id) { look(answers[id]); });
      } else {
        abandonAll();
      }
    });
    global.addEventListener("pagehide", abandonAll);
  }

  function observe(id, a) {
    if (!global.IntersectionObserver) { return; }
    a.observer = new global.IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.time < a.checkedAt) { return; }  // older than what look() measured
        // a "left the viewport" report can be a frame stale (a page restored from the
        // back/forward cache reports its first, pre-layout frame): the geometry decides
        a.inView = e.isIntersecting || (tabVisible() && onScreen(a.el));
        if (a.inView) { resume(a); } else { pause(a); }
      });
    });
    a.observer.observe(a.el);
  }

  function finish(id) {
    var a = answers[id];
    if (!a) { return null; }
    var dwell = dwellOf(a);
    pause(a);
    a.done = true;
    if (a.observer) { a.observer.disconnect(); }
    return dwell;
  }

  function feedback(id, fields) {
    if (!cfg) { return Promise.resolve(false); }
    var rec = {kind: "feedback", interaction_id: String(id), ts: iso(), dwell_ms: finish(id)};
    Object.keys(fields).forEach(function (k) {
      if (fields[k] !== undefined) { rec[k] = fields[k]; }
    });
    return send([rec]);
  }

  var api = {
    init: function (options) {
      var o = options || {};
      cfg = {collector: String(o.collector || "").replace(/\/+$/, ""), key: String(o.key || ""),
             feature: o.feature || null, version: o.version || null, sessionId: o.sessionId || null};
      hook();
      return api;
    },
    shown: function (interactionId, element) {
      if (!cfg || !element) { return; }
      var id = String(interactionId);
      var a = {el: element, since: null, dwell: 0, inView: false, checkedAt: 0, done: false,
               abandoned: false, observer: null};
      answers[id] = a;
      look(a);
      observe(id, a);
      element.addEventListener("copy", function () {
        api.step("copied_answer", {interaction_id: id, dwell_ms: dwellOf(a)});
      });
    },
    dwell: function (interactionId) {
      var a = answers[String(interactionId)];
      return a ? dwellOf(a) : null;
    },
    accept: function (id, opts) {
      var o = opts || {};
      return feedback(id, {accepted: true, score: o.score, comment: o.comment});
    },
    reject: function (id, opts) {
      var o = opts || {};
      return feedback(id, {accepted: false, score: o.score, comment: o.comment});
    },
    edit: function (id, text, opts) {
      var o = opts || {};
      var accepted = o.accepted === undefined ? true : o.accepted;
      return feedback(id, {accepted: accepted, edited_output: String(text), comment: o.comment});
    },
    step: function (name, meta) {
      if (!cfg) { return Promise.resolve(false); }
      var m = {};
      Object.keys(meta || {}).forEach(function (k) { m[k] = meta[k]; });
      if (cfg.feature && m.feature === undefined) { m.feature = cfg.feature; }
      if (cfg.version && m.version === undefined) { m.version = cfg.version; }
      return send([{kind: "step", session_id: sessionId(), ts: iso(), name: String(name),
                    metadata: m}]);
    }
  };
  global.pilotgate = api;
})(typeof window !== "undefined" ? window : this);
