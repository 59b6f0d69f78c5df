/* explore-kg result views: table, network and timeline for SPARQL results.
 *
 * Shared by the editor and the saved-query pages. Everything is built with DOM calls and textContent,
 * never from HTML strings, so labels from the data cannot inject markup. No request leaves the page.
 */
(function () {
  "use strict";

  var BASE = "https://w3id.org/explore-kg/";
  var OWN_PATHS = ["id/", "vocab/", "source/", "graph/"];
  var XSD = "http://www.w3.org/2001/XMLSchema#";
  var PRECISION = {};
  PRECISION[XSD + "date"] = "day";
  PRECISION[XSD + "dateTime"] = "day";
  PRECISION[XSD + "gYearMonth"] = "month";
  PRECISION[XSD + "gYear"] = "year";
  PRECISION[BASE + "ontology#japaneseFiscalYear"] = "JFY";
  var KIND_COLOURS = {
    agency: "#1f77b4", organisation: "#6baed6", mission: "#d62728", programme: "#ff7f0e",
    agreement: "#2ca02c", person: "#9467bd", spacecraft: "#8c564b", instrument: "#e377c2",
    event: "#bcbd22", body: "#7f7f7f", place: "#17becf", country: "#17becf", contribution: "#98df8a",
    "launch-vehicle": "#c49c94", technology: "#c5b0d5", objective: "#dbdb8d", position: "#f7b6d2",
  };

  var known = {};  // IRI -> [label, short label], from /labels.json
  var labelsLoaded = fetch("/labels.json").then(function (r) { return r.ok ? r.json() : {}; })
    .then(function (j) { known = j || {}; }, function () { known = {}; });

  var prefixes = (function () {
    var el = document.getElementById("ekg-prefixes");
    try { return el ? JSON.parse(el.textContent) : {}; } catch (e) { return {}; }
  })();

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] === null || attrs[k] === undefined) return;
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  function compact(iri) {
    var best = "", found = null;
    Object.keys(prefixes).forEach(function (p) {
      var ns = prefixes[p];
      if (iri.indexOf(ns) === 0 && ns.length > best.length && /^[\w.-]*$/.test(iri.slice(ns.length))) {
        best = ns; found = p;
      }
    });
    return found === null ? iri : found + ":" + iri.slice(best.length);
  }

  /* Where a link to this IRI should go: our own pages locally, other http(s) IRIs as they are. */
  function href(iri) {
    if (iri.indexOf(BASE) === 0) {
      var rest = iri.slice(BASE.length);
      if (rest === "ontology") return "/ontology";
      if (rest.indexOf("ontology#") === 0) return "/ontology#" + encodeURIComponent(rest.slice(9));
      for (var i = 0; i < OWN_PATHS.length; i++) {
        if (rest.indexOf(OWN_PATHS[i]) === 0) return "/" + rest.split("/").map(encodeURIComponent).join("/");
      }
    }
    return /^https?:\/\//i.test(iri) ? iri : null;
  }

  function isThing(iri) { return iri.indexOf(BASE + "id/") === 0; }

  function kindOf(iri) {
    var m = /^https:\/\/w3id\.org\/explore-kg\/(?:id|vocab)\/([^/]+)\//.exec(iri);
    return m ? m[1] : null;
  }

  /* ---------- Results as a uniform shape: {vars, rows, labels, kind} ---------- */

  /* A SPARQL JSON result, or a list of triples from a CONSTRUCT, normalised for the views.
   * A column named xLabel (or x_label) holds the label of column x: it labels x's IRIs. */
  function normalise(data) {
    if (data.triples) {
      var rows = data.triples.map(function (t) { return { s: t[0], p: t[1], o: t[2] }; });
      var labels = {};
      rows.forEach(function (r) {
        if (r.o.type === "literal" && /(#label|prefLabel|\/title|#acronym)$/.test(r.p.value) && !labels[r.s.value]) {
          labels[r.s.value] = r.o.value;
        }
      });
      return { vars: ["s", "p", "o"], rows: rows, labels: labels, kind: "graph" };
    }
    if (data.boolean !== undefined) return { kind: "boolean", value: data.boolean, vars: [], rows: [], labels: {} };
    var vars = data.head.vars, bindings = data.results.bindings, lbls = {};
    vars.forEach(function (v) {
      var lv = labelColumn(vars, v);
      if (!lv) return;
      bindings.forEach(function (b) {
        if (b[v] && b[v].type === "uri" && b[lv] && !lbls[b[v].value]) lbls[b[v].value] = b[lv].value;
      });
    });
    return { vars: vars, rows: bindings, labels: lbls, kind: "bindings" };
  }

  function labelColumn(vars, v) {
    var names = [v + "Label", v + "_label", v + "label"];
    for (var i = 0; i < names.length; i++) if (vars.indexOf(names[i]) >= 0) return names[i];
    return null;
  }

  function isLabelColumn(vars, v) {
    return vars.some(function (o) { return o !== v && labelColumn(vars, o) === v; });
  }

  function labelOf(result, iri) { return result.labels[iri] || (known[iri] && known[iri][0]) || compact(iri); }
  function shortLabelOf(result, iri) { return (known[iri] && known[iri][1]) || labelOf(result, iri); }

  function iriColumns(result) {
    return result.vars.filter(function (v) {
      if (result.kind === "graph" && v === "p") return false;
      return result.rows.some(function (r) { return r[v] && r[v].type === "uri"; });
    });
  }

  function dateColumns(result) {
    return result.vars.filter(function (v) {
      return result.rows.some(function (r) { return r[v] && r[v].type === "literal" && PRECISION[r[v].datatype]; });
    });
  }

  /* ---------- Table ---------- */

  function termNode(result, term) {
    if (!term) return document.createTextNode("");
    if (term.type === "uri") {
      var target = href(term.value);
      var text = labelOf(result, term.value);
      return target ? el("a", { href: target, title: term.value, text: text, className: target[0] === "/" ? "own" : "external" })
                    : el("span", { className: "iri", title: term.value, text: text });
    }
    if (term.type === "bnode") return el("span", { className: "bnode", text: "_:" + term.value });
    var precision = PRECISION[term.datatype];
    var span = el("span", { className: "literal", title: term.datatype ? compact(term.datatype) : null,
                            text: precision === "JFY" ? "JFY " + term.value : term.value });
    var wrap = el("span", {}, [span]);
    if (precision) wrap.appendChild(el("span", { className: "badge precision-" + precision.toLowerCase(), text: precision }));
    if (term["xml:lang"]) wrap.appendChild(el("span", { className: "lang", text: "@" + term["xml:lang"] }));
    return wrap;
  }

  function renderTable(result, host) {
    if (result.kind === "boolean") {
      host.appendChild(el("p", { className: "boolean", text: "Answer: " + (result.value ? "yes (true)" : "no (false)") }));
      return;
    }
    var vars = result.vars;
    var table = el("table", { className: "results" });
    var head = el("tr", {}, vars.map(function (v) { return el("th", { scope: "col", text: "?" + v }); }));
    table.appendChild(el("thead", {}, [head]));
    var body = el("tbody");
    result.rows.forEach(function (r) {
      body.appendChild(el("tr", {}, vars.map(function (v) { return el("td", {}, [termNode(result, r[v])]); })));
    });
    table.appendChild(body);
    host.appendChild(el("div", { className: "table-wrap" }, [table]));
  }

  /* ---------- Network (cytoscape) ---------- */

  function networkElements(result) {
    var nodes = {}, edges = {}, cols = iriColumns(result).filter(function (v) { return !isLabelColumn(result.vars, v); });
    // Only things (agencies, missions, agreements ...) are nodes, not vocabulary concepts or source
    // documents, when at least two columns hold things; otherwise any IRI will do.
    var thingColumns = cols.filter(function (v) {
      return result.rows.some(function (r) { return r[v] && r[v].type === "uri" && isThing(r[v].value); });
    });
    var things = result.kind !== "graph" && thingColumns.length >= 2;
    function node(iri) {
      if (!nodes[iri]) nodes[iri] = { data: { id: iri, label: shortLabelOf(result, iri), kind: kindOf(iri) || "other",
                                              colour: KIND_COLOURS[kindOf(iri)] || "#999" } };
    }
    function edge(a, b, label) {
      var id = a + "\u0000" + b + "\u0000" + label;
      if (a === b || edges[id]) return;
      edges[id] = { data: { id: "e" + Object.keys(edges).length, source: a, target: b, label: label } };
    }
    result.rows.forEach(function (r) {
      if (result.kind === "graph") {
        if (r.s.type === "uri" && r.o.type === "uri" && !/#type$/.test(r.p.value)) {
          node(r.s.value); node(r.o.value); edge(r.s.value, r.o.value, compact(r.p.value));
        }
        return;
      }
      // a chain through the row's things, in column order: mission -> partner -> item, agreement -> party
      var present = cols.filter(function (v) { return r[v] && r[v].type === "uri" && (!things || isThing(r[v].value)); });
      present.forEach(function (v) { node(r[v].value); });
      for (var i = 1; i < present.length; i++) edge(r[present[i - 1]].value, r[present[i]].value, present[i]);
    });
    var list = Object.keys(nodes).map(function (k) { return nodes[k]; });
    return { nodes: list, edges: Object.keys(edges).map(function (k) { return edges[k]; }) };
  }

  /* What the colours of the nodes mean (the kinds present) and what a link is (the column it comes from). */
  function networkLegend(elements) {
    var kinds = {}, links = {};
    elements.nodes.forEach(function (n) { kinds[n.data.kind] = (kinds[n.data.kind] || 0) + 1; });
    elements.edges.forEach(function (e) { links[e.data.label] = true; });
    var items = Object.keys(kinds).sort().map(function (k) {
      var known = KIND_COLOURS[k] ? k : "other";
      return el("span", { className: "legend-item" }, [
        el("span", { className: "swatch kind-" + known, "aria-hidden": "true" }),
        (k === "other" ? "other" : k.replace(/-/g, " ")) + " (" + kinds[k] + ")"]);
    });
    var linkNames = Object.keys(links).sort();
    return el("div", { className: "legend network-legend", role: "note", "aria-label": "Legend" }, [
      el("span", { className: "legend-title", text: "Nodes:" })].concat(items).concat(linkNames.length ? [
      el("span", { className: "legend-title", text: "Links:" }),
      el("span", { className: "legend-item" }, [el("span", { className: "arrow", "aria-hidden": "true", text: "→" }),
        linkNames.slice(0, 6).join(", ") + (linkNames.length > 6 ? ", …" : "")])] : []));
  }

  function renderNetwork(result, host) {
    var elements = networkElements(result);
    if (!elements.edges.length) {
      host.appendChild(el("p", { className: "empty", text: "No links between IRIs in this result." }));
      return;
    }
    var box = el("div", { className: "network", "data-nodes": String(elements.nodes.length),
                          "data-edges": String(elements.edges.length) });
    host.appendChild(networkLegend(elements));
    host.appendChild(box);
    host.appendChild(el("p", { className: "hint", text: elements.nodes.length + " nodes, " + elements.edges.length +
      " links. Drag to pan, scroll to zoom, click a node to open its page." }));
    if (typeof window.cytoscape !== "function") {
      box.appendChild(el("p", { className: "error", text: "The network library did not load." }));
      return;
    }
    var cy = window.cytoscape({
      container: box,
      elements: elements.nodes.concat(elements.edges),
      style: [
        { selector: "node", style: { "background-color": "data(colour)", label: "data(label)", "font-size": 11,
          "text-valign": "bottom", "text-margin-y": 4, width: 18, height: 18, color: "#222",
          "text-wrap": "ellipsis", "text-max-width": 140 } },
        { selector: "edge", style: { width: 1.5, "line-color": "#bbb", "target-arrow-color": "#bbb",
          "target-arrow-shape": "triangle", "curve-style": "bezier", label: "data(label)", "font-size": 9,
          color: "#777", "text-rotation": "autorotate" } },
      ],
      layout: { name: "cose", animate: false, randomize: true, nodeRepulsion: 40000, idealEdgeLength: 70,
                nodeOverlap: 40, componentSpacing: 80, gravity: 0.6, numIter: 2500, padding: 20 },
    });
    cy.on("tap", "node", function (evt) {
      var target = href(evt.target.id());
      if (target && target[0] === "/") window.location.assign(target);
    });
    box.classList.add("ready");
    host._cy = cy;
  }

  /* ---------- Timeline (own SVG) ---------- */

  var DAY = 86400000;

  /* The span [start, end) a date literal covers, at its precision. */
  function span(term) {
    var precision = PRECISION[term.datatype], v = term.value.trim(), m;
    if (precision === "JFY" && (m = /^(\d{4})$/.exec(v))) {
      return { start: Date.UTC(+m[1], 3, 1), end: Date.UTC(+m[1] + 1, 3, 1), precision: "JFY",
               text: "JFY " + m[1] + " (Apr " + m[1] + " – Mar " + (+m[1] + 1) + ")" };
    }
    if (precision === "year" && (m = /^(-?\d{4})/.exec(v))) {
      return { start: Date.UTC(+m[1], 0, 1), end: Date.UTC(+m[1] + 1, 0, 1), precision: "year", text: m[1] };
    }
    if (precision === "month" && (m = /^(\d{4})-(\d{2})/.exec(v))) {
      return { start: Date.UTC(+m[1], +m[2] - 1, 1), end: Date.UTC(+m[1], +m[2], 1), precision: "month", text: m[1] + "-" + m[2] };
    }
    if (precision === "day" && (m = /^(\d{4})-(\d{2})-(\d{2})/.exec(v))) {
      var s = Date.UTC(+m[1], +m[2] - 1, +m[3]);
      return { start: s, end: s + DAY, precision: "day", text: m[0] };
    }
    return null;
  }

  /* The IRI column that names what a row is about: the first one whose value changes between rows
   * (a column bound to one parameter value, the same in every row, says nothing about the row). */
  function subjectColumn(result) {
    var cols = iriColumns(result).filter(function (v) { return !isLabelColumn(result.vars, v); });
    for (var i = 0; i < cols.length; i++) {
      var seen = {};
      result.rows.forEach(function (r) { if (r[cols[i]] && r[cols[i]].type === "uri") seen[r[cols[i]].value] = true; });
      if (Object.keys(seen).length > 1) return cols[i];
    }
    return cols.length ? cols[0] : null;
  }

  function timelineItems(result) {
    var dates = dateColumns(result), col = subjectColumn(result);
    var items = [];
    result.rows.forEach(function (r) {
      var subject = col && r[col] && r[col].type === "uri" ? r[col].value : null;
      if (result.kind === "graph") subject = r.s.type === "uri" ? r.s.value : null;
      dates.forEach(function (v) {
        if (!r[v] || r[v].type !== "literal") return;
        var sp = span(r[v]);
        if (!sp) return;
        var name = subject ? labelOf(result, subject) : "(row)";
        var what = result.kind === "graph" ? compact(r.p.value) : v;
        items.push({ start: sp.start, end: sp.end, precision: sp.precision, text: sp.text,
                     label: name + (dates.length > 1 || result.kind === "graph" ? " · " + what : ""), iri: subject });
      });
    });
    var seen = {};
    items = items.filter(function (it) {
      var k = it.label + "|" + it.start + "|" + it.precision;
      if (seen[k]) return false;
      seen[k] = true;
      return true;
    });
    items.sort(function (a, b) { return a.start - b.start || a.end - b.end; });
    return items;
  }

  var SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    var n = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text !== undefined) n.textContent = text;
    return n;
  }

  /* Shorten an SVG text (keeping its <title>) until it fits in width pixels. */
  function fit(node, text, width) {
    var first = node.firstChild;
    if (!node.getComputedTextLength || node.getComputedTextLength() <= width) return;
    var n = text.length;
    while (n > 4 && node.getComputedTextLength() > width) {
      n -= 2;
      first.textContent = text.slice(0, n) + "…";
    }
  }

  function renderTimeline(result, host) {
    var items = timelineItems(result);
    if (!items.length) {
      host.appendChild(el("p", { className: "empty", text: "No dated values in this result." }));
      return;
    }
    var legend = el("p", { className: "legend" }, ["Date precision: "].concat(["day", "month", "year", "JFY"].map(function (p) {
      return el("span", { className: "badge precision-" + p.toLowerCase(), text: p === "JFY" ? "JFY (Japanese fiscal year, April–March)" : p });
    })));
    host.appendChild(legend);
    var available = host.clientWidth || 900;
    var labelWidth = Math.round(Math.min(280, Math.max(120, available * 0.35))), row = 24, top = 30;
    var width = Math.max(available, labelWidth + 320);
    var height = top + items.length * row + 10;
    var root = svg("svg", { class: "timeline", width: width, height: height, role: "img",
                            "aria-label": "Timeline of " + items.length + " dated values" });
    host.appendChild(el("div", { className: "timeline-wrap" }, [root]));
    host.appendChild(el("p", { className: "hint", text: items.length + " dated values. Scroll to zoom, drag to pan." }));
    var min = Math.min.apply(null, items.map(function (i) { return i.start; }));
    var max = Math.max.apply(null, items.map(function (i) { return i.end; }));
    var pad = Math.max((max - min) * 0.04, 30 * DAY);
    var plotLeft = labelWidth, plotWidth = width - labelWidth - 10;
    // The view ends where every date's text, written after its mark or bar, still fits inside the plot
    // (about 6.5 px a character at 10 px), and after the start of the year that follows the last date,
    // so the last year's tick and label are drawn whole.
    var from = min - pad, to = max + pad;
    items.forEach(function (it) {
      var room = plotWidth - (it.text.length * 6.5 + 16);
      if (room > plotWidth * 0.3) to = Math.max(to, from + (it.end - from) * plotWidth / room);
    });
    var lastYear = new Date(max).getUTCFullYear() + 1;
    to = Math.max(to, Date.UTC(lastYear, 0, 1) + 45 * DAY);
    var view = { from: from, to: to };

    function x(t) { return plotLeft + (t - view.from) / (view.to - view.from) * plotWidth; }

    function draw() {
      while (root.firstChild) root.removeChild(root.firstChild);
      var clipId = "tl-clip-" + Math.random().toString(36).slice(2);
      var defs = svg("defs");
      var clip = svg("clipPath", { id: clipId });
      clip.appendChild(svg("rect", { x: plotLeft, y: 0, width: plotWidth, height: height }));
      defs.appendChild(clip);
      root.appendChild(defs);
      var plot = svg("g", { "clip-path": "url(#" + clipId + ")" });
      // year (or month) ticks
      var y0 = new Date(view.from).getUTCFullYear(), y1 = new Date(view.to).getUTCFullYear() + 1;
      var years = y1 - y0, step = years > 60 ? 10 : years > 25 ? 5 : years > 12 ? 2 : 1;
      var monthly = years <= 2;
      for (var y = y0 - (y0 % step); y <= y1; y += step) {
        var tx = x(Date.UTC(y, 0, 1));
        plot.appendChild(svg("line", { x1: tx, x2: tx, y1: top - 8, y2: height, class: "tick" }));
        plot.appendChild(svg("text", { x: tx + 3, y: top - 12, class: "tick-label" }, String(y)));
        if (monthly) {
          for (var mo = 1; mo < 12; mo++) {
            var mx = x(Date.UTC(y, mo, 1));
            plot.appendChild(svg("line", { x1: mx, x2: mx, y1: top - 4, y2: height, class: "tick minor" }));
          }
        }
      }
      items.forEach(function (it, i) {
        var cy = top + i * row + row / 2;
        var g = svg("g", { class: "item precision-" + it.precision.toLowerCase() });
        var title = svg("title", {}, it.label + " — " + it.text + " (" + it.precision + ")");
        g.appendChild(title);
        if (it.precision === "day") {
          var cx = x(it.start + DAY / 2);
          g.appendChild(svg("path", { d: "M" + cx + " " + (cy - 6) + " l6 6 l-6 6 l-6 -6 z", class: "mark" }));
          g.appendChild(svg("text", { x: cx + 9, y: cy + 4, class: "date-label" }, it.text));
        } else {
          var x1 = x(it.start), x2 = Math.max(x(it.end), x1 + 3);
          g.appendChild(svg("rect", { x: x1, y: cy - 6, width: x2 - x1, height: 12, rx: 3, class: "bar" }));
          g.appendChild(svg("text", { x: x2 + 4, y: cy + 4, class: "date-label" }, it.text));
        }
        plot.appendChild(g);
      });
      root.appendChild(plot);
      items.forEach(function (it, i) {
        var cy = top + i * row + row / 2;
        var target = it.iri ? href(it.iri) : null;
        var label = svg("text", { x: labelWidth - 8, y: cy + 4, class: "row-label", "text-anchor": "end" }, it.label);
        label.appendChild(svg("title", {}, it.label));
        if (target && target[0] === "/") {
          var a = svg("a", { href: target });
          a.appendChild(label);
          root.appendChild(a);
        } else {
          root.appendChild(label);
        }
        fit(label, it.label, labelWidth - 14);
      });
    }
    draw();
    root.addEventListener("wheel", function (e) {
      e.preventDefault();
      var rect = root.getBoundingClientRect();
      var at = view.from + (e.clientX - rect.left - plotLeft) / plotWidth * (view.to - view.from);
      var k = e.deltaY > 0 ? 1.2 : 1 / 1.2;
      var width = Math.max((view.to - view.from) * k, 20 * DAY);
      var ratio = (at - view.from) / (view.to - view.from);
      view.from = at - ratio * width;
      view.to = view.from + width;
      draw();
    }, { passive: false });
    var drag = null;
    root.addEventListener("pointerdown", function (e) { drag = { x: e.clientX, from: view.from, to: view.to }; });
    window.addEventListener("pointerup", function () { drag = null; });
    root.addEventListener("pointermove", function (e) {
      if (!drag) return;
      var dt = (e.clientX - drag.x) / plotWidth * (drag.to - drag.from);
      view.from = drag.from - dt;
      view.to = drag.to - dt;
      draw();
    });
  }

  /* ---------- View switcher ---------- */

  var VIEWS = { table: renderTable, network: renderNetwork, timeline: renderTimeline };

  /* Which views fit the result's shape, and which to show first. */
  function fitting(result) {
    var fits = ["table"];
    if (result.kind === "boolean") return { views: fits, preferred: "table" };
    var net = networkElements(result).edges.length > 0;
    var time = dateColumns(result).length > 0;
    if (net) fits.push("network");
    if (time) fits.push("timeline");
    return { views: fits, preferred: time ? "timeline" : net ? "network" : "table" };
  }

  /* Render a result (SPARQL JSON or {triples}) into host, with buttons to switch views.
   * existingTable: a server-rendered table element to reuse as the table view. */
  function renderResults(host, data, existingTable) {
    var result = normalise(data);
    host.setAttribute("data-state", "rendering");
    labelsLoaded.then(function () { show(host, result, existingTable); host.setAttribute("data-state", "ready"); });
    return result;
  }

  function show(host, result, existingTable) {
    while (host.firstChild) host.removeChild(host.firstChild);
    var fit = fitting(result);
    var bar = el("div", { className: "views", role: "tablist", "aria-label": "Result views" });
    var panels = {};
    var count = result.kind === "boolean" ? "" : result.rows.length + (result.rows.length === 1 ? " row" : " rows");
    host.appendChild(el("div", { className: "result-head" }, [bar, el("span", { className: "count", text: count })]));
    fit.views.forEach(function (name) {
      var button = el("button", { type: "button", role: "tab", "data-view": name, "aria-selected": "false",
                                  text: name[0].toUpperCase() + name.slice(1) });
      button.addEventListener("click", function () { select(name); });
      bar.appendChild(button);
      panels[name] = el("div", { className: "view view-" + name, role: "tabpanel", hidden: "hidden" });
      host.appendChild(panels[name]);
    });
    var drawn = {};
    function select(name) {
      Object.keys(panels).forEach(function (n) {
        var on = n === name;
        panels[n].hidden = !on;
        bar.querySelector('[data-view="' + n + '"]').setAttribute("aria-selected", on ? "true" : "false");
      });
      if (!drawn[name]) {
        drawn[name] = true;
        if (name === "table" && existingTable) panels.table.appendChild(existingTable);
        else VIEWS[name](result, panels[name]);
      } else if (name === "network" && panels.network._cy) {
        panels.network._cy.resize();
        panels.network._cy.fit();
      }
      host.setAttribute("data-view", name);
    }
    select(fit.preferred);
  }

  /* N-Triples (as our endpoint writes it) to a list of [s, p, o] SPARQL-JSON-like terms. */
  function parseNTriples(text) {
    var triples = [];
    var term = /\s*(<[^>]*>|_:\S+|"(?:[^"\\]|\\.)*"(?:@[A-Za-z0-9-]+|\^\^<[^>]*>)?)/y;
    text.split(/\r?\n/).forEach(function (line) {
      line = line.trim();
      if (!line || line[0] === "#") return;
      var parts = [];
      term.lastIndex = 0;
      for (var i = 0; i < 3; i++) {
        var m = term.exec(line);
        if (!m) return;
        parts.push(ntTerm(m[1]));
      }
      triples.push(parts);
    });
    return triples;
  }

  function unescapeNT(s) {
    return s.replace(/\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, function (_, c) {
      if (c[0] === "u" || c[0] === "U") return String.fromCodePoint(parseInt(c.slice(1), 16));
      return { t: "\t", n: "\n", r: "\r", b: "\b", f: "\f" }[c] || c;
    });
  }

  function ntTerm(t) {
    if (t[0] === "<") return { type: "uri", value: unescapeNT(t.slice(1, -1)) };
    if (t[0] === "_") return { type: "bnode", value: t.slice(2) };
    var m = /^"((?:[^"\\]|\\.)*)"(?:@([A-Za-z0-9-]+)|\^\^<([^>]*)>)?$/.exec(t);
    var lit = { type: "literal", value: unescapeNT(m[1]) };
    if (m[2]) lit["xml:lang"] = m[2];
    if (m[3]) lit.datatype = m[3];
    return lit;
  }

  /* Saved-query pages embed their result as JSON: upgrade the server-rendered table with views. */
  function enhance() {
    document.querySelectorAll("[data-result-json]").forEach(function (host) {
      var source = document.getElementById(host.getAttribute("data-result-json"));
      if (!source) return;
      var data;
      try { data = JSON.parse(source.textContent); } catch (e) { return; }
      var table = host.getAttribute("data-table") === "partial" ? null : host.querySelector("table");
      renderResults(host, data, table ? table.closest(".table-wrap") || table : null);
    });
  }

  window.EKG = { renderResults: renderResults, parseNTriples: parseNTriples, compact: compact, href: href };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", enhance);
  else enhance();
})();
