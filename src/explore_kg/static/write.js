// The editor's write box (serve --writable only): sends the editor's text to /update with the token
// typed in (kept in the page only, never stored), and shows the answer: the change's number, or the
// validation report that refused it.
(function () {
  "use strict";
  var box = document.getElementById("write");
  if (!box) return;
  var token = document.getElementById("write-token");
  var message = document.getElementById("write-message");
  var out = document.getElementById("write-status");
  document.getElementById("write-send").addEventListener("click", function () {
    var text = window.ekgYasqe ? window.ekgYasqe.getValue() : document.getElementById("query").value;
    if (!token.value) { out.textContent = "Enter a token to write."; out.className = "error"; return; }
    var headers = {"Content-Type": "application/sparql-update", "Authorization": "Bearer " + token.value,
                   "Accept": "text/plain"};
    var note = message.value.replace(/[^\x20-\x7e]/g, "?");  // a header holds ASCII only
    if (note) headers["X-Change-Message"] = note;
    out.textContent = "Sending…";
    out.className = "running";
    fetch("/update", {method: "POST", headers: headers, body: text, credentials: "omit"}).then(function (r) {
      return r.text().then(function (body) {
        out.textContent = (r.ok ? "" : r.status + " " + r.statusText + "\n") + body;
        out.className = r.ok ? "ok" : "error";
      });
    }).catch(function (err) { out.textContent = String(err); out.className = "error"; });
  });
})();
