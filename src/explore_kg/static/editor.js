/* The SPARQL editor: YASQE (syntax highlighting, prefix completion) on the page's textarea, queries
 * sent to this server's endpoint, the answer shown with the shared result views and offered as
 * downloads. Without JavaScript the form still works: it submits to the endpoint and the browser shows the raw result. */
(function () {
  "use strict";
  var form = document.getElementById("query-form");
  var textarea = document.getElementById("query");
  var status = document.getElementById("status");
  var results = document.getElementById("results");
  var downloads = document.getElementById("downloads");
  var endpoint = form.getAttribute("data-endpoint") || "/sparql";
  document.body.classList.add("js");

  var yasqe = null;
  if (typeof window.Yasqe === "function") {
    var host = document.createElement("div");
    host.id = "yasqe";
    textarea.parentNode.insertBefore(host, textarea);
    textarea.hidden = true;
    yasqe = new window.Yasqe(host, {
      value: textarea.value,
      persistenceId: null,          // the page's query is the starting point, not yesterday's
      autocompleters: ["prefixes", "variables"],   // the class/property completers ask a remote service
      prefixCcApi: null,            // bundled prefix list only: no request leaves the page
      showQueryButton: false,
      createShareableLink: null,
      resizeable: true,
      editorHeight: "300px",
      requestConfig: { endpoint: endpoint, method: "POST" },
    });
    // Ctrl+Enter / Cmd+Enter run the query here (with the result views), not through YASQE's own request.
    var ownRun = function () { run(); return Promise.resolve(); };
    yasqe.query = ownRun;
    var keys = Object.assign({}, yasqe.getOption("extraKeys"), { "Ctrl-Enter": ownRun, "Cmd-Enter": ownRun });
    yasqe.setOption("extraKeys", keys);
    if (yasqe.collapsePrefixes) yasqe.collapsePrefixes(true);  // the ~45 PREFIX lines fold into one
    window.ekgYasqe = yasqe;
  }

  function queryText() { return yasqe ? yasqe.getValue() : textarea.value; }

  function queryKind(text) {
    if (yasqe && yasqe.getQueryType) {
      var t = (yasqe.getQueryType() || "").toUpperCase();
      if (t) return t === "CONSTRUCT" || t === "DESCRIBE" ? "graph" : t === "ASK" ? "boolean" : "bindings";
    }
    var body = text.replace(/#[^\n]*/g, "").replace(/(PREFIX|BASE)\s+[^\n]*/gi, "");
    var m = /\b(SELECT|CONSTRUCT|DESCRIBE|ASK)\b/i.exec(body);
    var k = m ? m[1].toUpperCase() : "SELECT";
    return k === "CONSTRUCT" || k === "DESCRIBE" ? "graph" : k === "ASK" ? "boolean" : "bindings";
  }

  function setDownloads(text, kind) {
    downloads.hidden = false;
    downloads.querySelectorAll("[data-kind]").forEach(function (group) {
      var on = (group.getAttribute("data-kind") === "graph") === (kind === "graph");
      group.hidden = !on;
      group.querySelectorAll("a[data-format]").forEach(function (a) {
        a.href = endpoint + "?" + new URLSearchParams({ query: text, format: a.getAttribute("data-format") }).toString();
      });
    });
  }

  var running = null;
  function run() {
    var text = queryText();
    var kind = queryKind(text);
    if (running) running.abort();
    running = new AbortController();
    status.textContent = "Running…";
    status.className = "running";
    var started = performance.now();
    var accept = kind === "graph" ? "application/n-triples" : "application/sparql-results+json";
    fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: accept },
      body: new URLSearchParams({ query: text }).toString(),
      signal: running.signal,
    }).then(function (response) {
      return response.text().then(function (body) {
        if (!response.ok) throw new Error(body || response.status + " " + response.statusText);
        return kind === "graph" ? { triples: window.EKG.parseNTriples(body) } : JSON.parse(body);
      });
    }).then(function (data) {
      var result = window.EKG.renderResults(results, data);
      var ms = Math.round(performance.now() - started);
      status.textContent = (result.kind === "boolean" ? "Answered" : result.rows.length + " results") + " in " + ms + " ms";
      status.className = "ok";
      setDownloads(text, kind);
    }).catch(function (err) {
      if (err.name === "AbortError") return;
      while (results.firstChild) results.removeChild(results.firstChild);
      var pre = document.createElement("pre");
      pre.className = "error";
      pre.textContent = String(err.message || err).trim();
      results.appendChild(pre);
      status.textContent = "Error";
      status.className = "error";
      downloads.hidden = true;
    });
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
  if (!yasqe) {
    textarea.addEventListener("keydown", function (e) {
      if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); run(); }
    });
  }
  if (results.hasAttribute("data-result-json") || results.hasAttribute("data-error")) {
    // /sparql?query=... opened in a browser: the server already ran the query and put its answer in
    // the page (web.js upgrades the table with the result views); offer the same answer as downloads.
    if (results.hasAttribute("data-error")) {
      status.textContent = "Error";
      status.className = "error";
    } else {
      var answerKind = results.getAttribute("data-result-kind");
      setDownloads(queryText(), answerKind === "graph" ? "graph" : "bindings");
      status.textContent = results.getAttribute("data-status") || "Answered";
      status.className = "ok";
    }
  } else {
    run();  // show the starting query's answer at once
  }
})();
