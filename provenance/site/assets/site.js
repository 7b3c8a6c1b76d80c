// The test-history page: renders window.PROVENANCE_SITE (data.js, written by `provenance site`).
// Every string from the ledger (test names, run ids, branches) is put in the page as text
// (textContent, text nodes, attribute values), never parsed as HTML.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const PAGE_RUNS = 100;
  const PAGE_TESTS = 200;
  const RESULT_NAMES = { p: "passed", f: "failed", e: "error", s: "skipped" };
  const data = window.PROVENANCE_SITE;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    return node;
  }

  function titled(node, text) {
    const title = svg("title");
    title.textContent = text;
    node.appendChild(title);
    return node;
  }

  function cell(text, cls) {
    return el("td", cls ? { class: cls } : {}, text);
  }

  function row(cells) {
    const tr = el("tr");
    for (const td of cells) tr.appendChild(td);
    return tr;
  }

  function percent(value, digits) {
    return (100 * value).toFixed(digits === undefined ? 1 : digits) + "%";
  }

  function when(timestamp) {
    return timestamp ? String(timestamp).slice(0, 16).replace("T", " ") : "";
  }

  function seconds(value) {
    if (value === null || value === undefined) return "";
    return value < 10 ? value.toFixed(2) : value.toFixed(0);
  }

  // Runs, by seq, for naming a run where a flip or a failure happened.
  const runIndex = new Map(data.runs.seq.map((seq, i) => [seq, i]));
  function runName(seq) {
    const i = runIndex.get(seq);
    if (i === undefined) return "";
    return "run " + data.runs.run_id[i] + " (" + when(data.runs.recorded_at[i]) + ")";
  }

  function strip(codes, length) {
    const width = 6;
    const node = svg("svg", { width: length * width, height: 14, role: "img", class: "strip" });
    const offset = length - codes.length;
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i];
      const rect = svg("rect", { x: (offset + i) * width, y: 1, width: width - 1, height: 12, class: "r-" + code });
      node.appendChild(titled(rect, RESULT_NAMES[code] || code));
    }
    return titled(node, codes.length + " results, oldest first");
  }

  function sparkline(values) {
    const width = 120, height = 18;
    const node = svg("svg", { width: width, height: height, role: "img" });
    if (values.length === 0) return node;
    const top = Math.max(...values) || 1;
    const step = values.length > 1 ? (width - 2) / (values.length - 1) : 0;
    const points = values.map((v, i) => (1 + i * step).toFixed(1) + "," + (height - 1 - (v / top) * (height - 2)).toFixed(1));
    node.appendChild(svg("polyline", { points: points.join(" "), class: "spark" }));
    return titled(node, "last " + values.length + " durations; longest " + seconds(top) + " s");
  }

  // --- the overview -------------------------------------------------------------------------
  function overview() {
    const ledger = data.ledger;
    const repository = ledger.repository ? ledger.repository + ": " : "";
    document.getElementById("title").textContent = repository + "test history";
    document.title = repository + "test history";
    const failing = data.runs.conclusion.filter((c) => c === "failure").length;
    document.getElementById("overview").textContent =
      ledger.entries + " runs from " + when(ledger.first_recorded_at) + " to " + when(ledger.last_recorded_at) +
      ", " + failing + " of them failing; " + data.tests.name.length + " tests, " + data.flaky.length + " flaky.";
    document.getElementById("footer").textContent =
      "Built from " + ledger.name + ", " + ledger.entries + " entries whose hashes and links were checked; head " +
      ledger.head + ".";
  }

  // --- runs ----------------------------------------------------------------------------------
  let runsShown = 0;
  function showRuns() {
    const runs = data.runs;
    const body = document.querySelector("#run-table tbody");
    const total = runs.seq.length;
    const until = Math.min(total, runsShown + PAGE_RUNS);
    for (let k = runsShown; k < until; k++) {
      const i = total - 1 - k; // newest first
      body.appendChild(row([
        cell(runs.seq[i], "num"), cell(runs.run_id[i] + (runs.attempt[i] > 1 ? " (attempt " + runs.attempt[i] + ")" : "")),
        cell(when(runs.recorded_at[i])), cell(runs.branch[i] || ""), cell((runs.commit[i] || "").slice(0, 12)),
        cell(runs.conclusion[i], "verdict-" + runs.conclusion[i]), cell(runs.total[i], "num"),
        cell(runs.failed[i], "num"), cell(runs.errors[i], "num"), cell(runs.skipped[i], "num"),
        cell(runs.flaky[i], "num"), cell(runs.new_failures[i], "num"), cell(seconds(runs.walltime[i]), "num"),
      ]));
    }
    runsShown = until;
    document.getElementById("run-more").hidden = runsShown >= total;
  }

  function runChart() {
    const runs = data.runs;
    const shown = Math.min(runs.seq.length, 300);
    const start = runs.seq.length - shown;
    const width = 3;
    const node = svg("svg", { width: shown * width + 2, height: 22, role: "img" });
    for (let k = 0; k < shown; k++) {
      const i = start + k;
      const code = runs.conclusion[i] === "success" ? "p" : runs.conclusion[i] === "failure" ? "f" : "s";
      const rect = svg("rect", { x: 1 + k * width, y: 1, width: width - 1, height: 20, class: "r-" + code });
      node.appendChild(titled(rect, runs.run_id[i] + ": " + runs.conclusion[i]));
    }
    document.getElementById("run-chart").appendChild(titled(node, "verdicts of the last " + shown + " runs, oldest left"));
  }

  // --- filters -------------------------------------------------------------------------------
  const lowerNames = data.tests.name.map((n) => n.toLowerCase());
  const filter = { name: "", file: "", outcome: "" };

  function matches(i) {
    if (filter.name && !lowerNames[i].includes(filter.name)) return false;
    if (filter.file && data.tests.file[i] !== filter.file) return false;
    if (filter.outcome) {
      const codes = data.tests.strip[i];
      if (filter.outcome === "failed-recently") return codes.includes("f") || codes.includes("e");
      return codes.slice(-1) === filter.outcome;
    }
    return true;
  }

  function fileOptions() {
    const select = document.getElementById("filter-file");
    for (const file of [...new Set(data.tests.file)].sort()) select.appendChild(el("option", { value: file }, file));
  }

  function wireFilters() {
    const name = document.getElementById("filter-name");
    const file = document.getElementById("filter-file");
    const outcome = document.getElementById("filter-outcome");
    const apply = () => {
      filter.name = name.value.trim().toLowerCase();
      filter.file = file.value;
      filter.outcome = outcome.value;
      showFlaky();
      resetTests();
    };
    name.addEventListener("input", apply);
    file.addEventListener("change", apply);
    outcome.addEventListener("change", apply);
  }

  // --- flaky tests ---------------------------------------------------------------------------
  function showFlaky() {
    const body = document.querySelector("#flaky-table tbody");
    body.replaceChildren();
    const tests = data.tests;
    let shown = 0;
    for (const flaky of data.flaky) {
      const i = flaky.test;
      if (!matches(i)) continue;
      shown++;
      const codes = el("td");
      codes.appendChild(strip(tests.strip[i], data.settings.strip_length));
      body.appendChild(row([
        cell(tests.name[i], "name"), cell(percent(flaky.flip_rate), "num"), cell(flaky.flips, "num"),
        cell(flaky.failures, "num"), cell(flaky.runs, "num"), cell(runName(flaky.first_flip)),
        cell(runName(flaky.last_flip)), codes,
      ]));
    }
    document.getElementById("flaky-note").textContent =
      "Tests whose outcome changed between passing and failing at least " + data.settings.flaky_flips +
      " times, by flip rate (flips per pair of consecutive runs). " + data.flaky.length + " listed" +
      (shown < data.flaky.length ? ", " + shown + " match the filter." : ".") +
      " Each run's count of tests that passed on a rerun is in the run list.";
  }

  // --- tests ---------------------------------------------------------------------------------
  let testMatches = [];
  let testsShown = 0;
  function resetTests() {
    testMatches = [];
    for (let i = 0; i < data.tests.name.length; i++) if (matches(i)) testMatches.push(i);
    testsShown = 0;
    document.querySelector("#test-table tbody").replaceChildren();
    showTests();
    document.getElementById("filter-count").textContent = testMatches.length + " of " + data.tests.name.length + " tests";
  }

  function showTests() {
    const tests = data.tests;
    const body = document.querySelector("#test-table tbody");
    const until = Math.min(testMatches.length, testsShown + PAGE_TESTS);
    for (let k = testsShown; k < until; k++) {
      const i = testMatches[k];
      const codes = el("td");
      codes.appendChild(strip(tests.strip[i], data.settings.strip_length));
      const spark = el("td");
      spark.appendChild(sparkline(tests.durations[i]));
      body.appendChild(row([cell(tests.name[i], "name"), codes, spark, cell(tests.runs[i], "num"),
        cell(tests.failures[i], "num"), cell(tests.flips[i], "num")]));
    }
    testsShown = until;
    document.getElementById("test-more").hidden = testsShown >= testMatches.length;
    document.getElementById("tests-note").textContent = "Showing " + testsShown + " of " + testMatches.length +
      " matching tests: each test's last " + data.settings.strip_length + " results and durations.";
  }

  // --- new and known failures ----------------------------------------------------------------
  function showFailures() {
    const list = document.getElementById("failure-list");
    if (data.failures.length === 0) {
      list.appendChild(el("p", {}, "No run recorded a failing test."));
      return;
    }
    for (const run of data.failures.slice(0, 5)) {
      const block = el("div", { class: "failure-run" });
      block.appendChild(el("strong", {}, runName(run.seq)));
      block.appendChild(document.createTextNode(": " + run.new.length + " new, " + run.known.length + " known"));
      const ul = el("ul");
      for (const [kind, tests] of [["new", run.new], ["known", run.known]]) {
        for (const i of tests.slice(0, 20)) {
          const li = el("li");
          li.appendChild(el("span", { class: "tag tag-" + kind }, kind));
          li.appendChild(document.createTextNode(" "));
          li.appendChild(el("code", {}, data.tests.name[i]));
          ul.appendChild(li);
        }
        if (tests.length > 20) ul.appendChild(el("li", { class: "muted" }, "and " + (tests.length - 20) + " more " + kind));
      }
      block.appendChild(ul);
      list.appendChild(block);
    }
  }

  // --- calibration ---------------------------------------------------------------------------
  function axes(node, size, pad, yTop, yLabel) {
    node.appendChild(svg("line", { x1: pad, y1: size - pad, x2: size - 10, y2: size - pad, class: "axis" }));
    node.appendChild(svg("line", { x1: pad, y1: 10, x2: pad, y2: size - pad, class: "axis" }));
    for (const t of [0, 0.5, 1]) {
      const y = size - pad - t * (size - pad - 10);
      const label = svg("text", { x: pad - 4, y: y + 3, "text-anchor": "end", class: "label" });
      label.textContent = t === 0 ? "0" : (t * yTop).toPrecision(2);
      node.appendChild(label);
    }
    const text = svg("text", { x: pad + 6, y: 14, class: "label" });
    text.textContent = yLabel;
    node.appendChild(text);
  }

  function reliability(cal) {
    const size = 300, pad = 48, span = size - pad - 10;
    const node = svg("svg", { width: size, height: size, role: "img" });
    axes(node, size, pad, 1, "observed");
    node.appendChild(svg("line", { x1: pad, y1: size - pad, x2: pad + span, y2: size - pad - span, class: "diag" }));
    const d = cal.diagram;
    const most = Math.max(...d.bin_counts);
    for (let k = 0; k < d.mean_predicted.length; k++) {
      const x = pad + d.mean_predicted[k] * span, y = size - pad - d.empirical_probs[k] * span;
      const r = 2 + 5 * Math.sqrt(d.bin_counts[k] / most);
      const dot = svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: r.toFixed(1), class: "point" });
      node.appendChild(titled(dot, "predicted " + d.mean_predicted[k].toFixed(3) + ", observed " +
        d.empirical_probs[k].toFixed(3) + " (" + d.bin_counts[k] + " predictions)"));
    }
    for (const t of [0, 0.5, 1]) {
      const tick = svg("text", { x: pad + t * span, y: size - pad + 14, "text-anchor": "middle", class: "label" });
      tick.textContent = t === 0 ? "0" : t.toFixed(1);
      node.appendChild(tick);
    }
    const label = svg("text", { x: size - 10, y: size - 8, "text-anchor": "end", class: "label" });
    label.textContent = "predicted";
    node.appendChild(label);
    document.getElementById("reliability").appendChild(node);
  }

  function brierWeeks(cal) {
    const weeks = cal.weeks, height = 300, pad = 48;
    const width = Math.max(300, Math.min(900, pad + 10 + weeks.length * 14));
    const node = svg("svg", { width: width, height: height, role: "img" });
    const top = Math.max(...weeks.map((w) => w.brier)) || 1;
    axes(node, height, pad, top, "Brier");
    const slot = (width - pad - 10) / weeks.length;
    weeks.forEach((w, k) => {
      const h = (w.brier / top) * (height - pad - 10);
      const bar = svg("rect", { x: (pad + k * slot + 1).toFixed(1), y: (height - pad - h).toFixed(1),
        width: Math.max(1, slot - 2).toFixed(1), height: h.toFixed(1), class: "bar" });
      node.appendChild(titled(bar, w.week + ": Brier " + w.brier.toFixed(4) + ", ECE " + w.ece.toFixed(4) + ", " +
        w.n + " predictions, failure rate " + percent(w.base_rate, 2)));
    });
    const ends = weeks.length > 1 ? [0, weeks.length - 1] : [0];
    for (const k of ends) {
      const last = k === weeks.length - 1 && k > 0;
      const label = svg("text", { x: last ? pad + (k + 1) * slot : pad + k * slot, y: height - pad + 14,
        "text-anchor": last ? "end" : "start", class: "label" });
      label.textContent = weeks[k].week;
      node.appendChild(label);
    }
    document.getElementById("brier-weeks").appendChild(node);
  }

  function showCalibration() {
    const cal = data.calibration;
    const note = document.getElementById("calibration-note");
    if (!cal) {
      note.textContent = "No entry records predictions yet: the model scores runs from the second one on.";
      return;
    }
    note.textContent = cal.n + " predictions scored against what happened: Brier " + cal.brier.toFixed(4) +
      ", ECE " + cal.ece.toFixed(4) + ", failure rate " + percent(cal.base_rate, 2) + ".";
    reliability(cal);
    brierWeeks(cal);
  }

  // --- selection -----------------------------------------------------------------------------
  function showSavings() {
    const savings = data.savings;
    const note = document.getElementById("savings-note");
    if (!savings) {
      note.textContent = "No run could be replayed: none had every test predicted before it ran.";
      return;
    }
    note.textContent = savings.runs + " runs replayed (of the last " + savings.window +
      ") with the predictions recorded before each ran (" +
      savings.failing_runs + " with failures, " + savings.failures + " failing tests in all, " +
      seconds(savings.seconds_total) + " s of test time): tests taken in order of expected failures per second " +
      "while they fit in the budget's share of each run's time.";
    const body = document.querySelector("#savings-table tbody");
    for (const b of savings.budgets) {
      body.appendChild(row([cell(percent(b.budget, 0), "num"), cell(percent(b.saved_fraction), "num"),
        cell(b.caught + " of " + savings.failures + " (" + percent(b.caught_fraction) + ")", "num")]));
    }
  }

  // --- datasets ------------------------------------------------------------------------------
  function showDatasets() {
    const list = document.getElementById("dataset-list");
    if (data.datasets.length === 0) {
      list.appendChild(el("p", { class: "muted" }, "No run recorded a dataset."));
      return;
    }
    for (const dataset of data.datasets) {
      list.appendChild(el("h3", {}, dataset.id));
      list.appendChild(el("p", { class: "muted" }, "Recorded by " + dataset.runs + " runs; " +
        dataset.changes.length + " distinct checksum" + (dataset.changes.length === 1 ? "" : "s") + " in a row."));
      const table = el("table");
      table.appendChild(row([el("th", {}, "From"), el("th", {}, "Checksum (sha256)")]));
      for (const change of dataset.changes) {
        const sum = el("td");
        sum.appendChild(el("code", {}, change.checksum || "none (missing or not hashed)"));
        table.appendChild(row([cell(runName(change.seq)), sum]));
      }
      list.appendChild(table);
    }
  }

  function start() {
    if (!data) {
      document.getElementById("overview").textContent = "data.js is missing: rebuild with `provenance site`.";
      return;
    }
    overview();
    runChart();
    showRuns();
    showFailures();
    fileOptions();
    wireFilters();
    showFlaky();
    resetTests();
    showCalibration();
    showSavings();
    showDatasets();
    document.getElementById("run-more").addEventListener("click", showRuns);
    document.getElementById("test-more").addEventListener("click", showTests);
    document.body.setAttribute("data-ready", "true");
  }

  start();
})();
