// lm-eval-jaster report.html: draws the leaderboard, comparisons, charts, sample browser and run settings from the
// data embedded in the page. Every element is built with createElement and textContent: data never reaches
// innerHTML, so answers holding "<", "&" or quotes show as text.
(function () {
  "use strict";

  const META = JSON.parse(document.getElementById("jaster-meta").textContent);
  const RUNS = META.runs;
  const DATASETS = new Map(META.datasets.map((d) => [d.name, d]));
  const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf"];  // matplotlib's tab10, as in the radar PNGs
  const SVG_NS = "http://www.w3.org/2000/svg";
  const PAGE_SIZE = 20;
  const MODES = [
    ["strict", "Strict"],
    ["lenient", "Lenient"],
    ["adherence", "Format adherence"],
  ];
  const state = { mode: "strict" };

  // --- DOM helpers ------------------------------------------------------------------------------------------------

  function append(node, children) {
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      if (Array.isArray(child)) append(node, child);
      else node.appendChild(typeof child === "string" || typeof child === "number"
        ? document.createTextNode(String(child)) : child);
    }
    return node;
  }

  // h("div", {className: "x", title: "t", dataset: {run: 1}, on: {click: f}}, "text", node, [more])
  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined) continue;
      if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "on") for (const [type, f] of Object.entries(value)) node.addEventListener(type, f);
      else if (key in node && key !== "style") node[key] = value;
      else node.setAttribute(key, value);
    }
    return append(node, children);
  }

  function s(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(key, String(value));
    }
    return append(node, children);
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function body(sectionId) {
    return document.querySelector(`#${sectionId} > .body`);
  }

  const isNumber = (v) => typeof v === "number" && Number.isFinite(v);
  const fmt = (v, digits = 4) => (isNumber(v) ? v.toFixed(digits) : "–");
  const signed = (v, digits = 4) => (isNumber(v) ? (v >= 0 ? "+" : "") + v.toFixed(digits) : "–");
  const color = (runIndex) => COLORS[runIndex % COLORS.length];
  const swatch = (runIndex) => {
    const node = h("span", { className: "swatch", "aria-hidden": "true" });
    node.style.background = color(runIndex);
    return node;
  };
  const runName = (runIndex) => h("span", { className: "run-name" }, swatch(runIndex), RUNS[runIndex].label);

  function settingText(value) {
    if (value === null || value === undefined || value === "") return "–";
    if (typeof value === "boolean") return value ? "yes" : "no";
    if (typeof value !== "object") return String(value);
    if (Array.isArray(value)) return value.length ? value.map(settingText).join(", ") : "–";
    const entries = Object.entries(value);
    if (!entries.length) return "–";
    const shown = entries.map(([k, v]) => [k,
      typeof v === "object" && v !== null ? JSON.stringify(v) : settingText(v)]);
    const values = new Set(shown.map(([, v]) => v));
    if (values.size === 1 && entries.length > 1 && DATASETS.has(entries[0][0])) return `${shown[0][1]} (all)`;
    return shown.map(([k, v]) => `${k}: ${v}`).join("; ");
  }

  // --- sortable tables --------------------------------------------------------------------------------------------

  // columns: [{label, sub, title, numeric}]; rows: [{cells: [{content, key}], className, dataset}]
  function sortableTable(columns, rows, tableClass) {
    const tbody = h("tbody");
    const headCells = [];
    let sorted = { column: -1, descending: false };
    function sortBy(index) {
      const descending = sorted.column === index ? !sorted.descending : columns[index].numeric;
      sorted = { column: index, descending };
      const order = rows.map((row, i) => ({ row, i }));
      order.sort((a, b) => {
        const x = a.row.cells[index].key;
        const y = b.row.cells[index].key;
        const missingX = x === null || x === undefined || Number.isNaN(x);
        const missingY = y === null || y === undefined || Number.isNaN(y);
        if (missingX || missingY) return missingX === missingY ? a.i - b.i : (missingX ? 1 : -1);
        const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return c === 0 ? a.i - b.i : (descending ? -c : c);
      });
      for (const { row } of order) tbody.appendChild(row.element);
      headCells.forEach((cell, i) => cell.setAttribute("aria-sort",
        i === index ? (descending ? "descending" : "ascending") : "none"));
    }
    const headRow = h("tr", {}, columns.map((column, i) => {
      const cell = h("th", { scope: "col", className: column.numeric ? "num" : "", title: column.title || null,
        "aria-sort": "none" },
      h("button", { type: "button", className: "sort", on: { click: () => sortBy(i) } },
        column.label, column.sub ? h("span", { className: "sub" }, column.sub) : null));
      headCells.push(cell);
      return cell;
    }));
    for (const row of rows) {
      row.element = h("tr", { className: row.className || "", dataset: row.dataset || {} },
        row.cells.map((cell, i) => h(i === 0 ? "th" : "td",
          { className: [columns[i].numeric ? "num" : "", cell.className || ""].join(" ").trim(),
            scope: i === 0 ? "row" : null, title: cell.title || null }, cell.content)));
      tbody.appendChild(row.element);
    }
    return h("div", { className: "table-scroll" },
      h("table", { className: `sortable ${tableClass || ""}` }, h("thead", {}, headRow), tbody));
  }

  function switchButtons(options, current, onChange, label) {
    const group = h("div", { className: "switch", role: "group", "aria-label": label });
    const buttons = options.map(([value, text]) => h("button", {
      type: "button", dataset: { value }, "aria-pressed": String(value === current),
      on: {
        click: () => {
          buttons.forEach((b) => b.setAttribute("aria-pressed", String(b === buttonFor(value))));
          onChange(value);
        },
      },
    }, text));
    const buttonFor = (value) => buttons.find((b) => b.dataset.value === value);
    return append(group, buttons);
  }

  // --- header -----------------------------------------------------------------------------------------------------

  function renderHeader() {
    document.getElementById("title").textContent = "Jaster report";
    document.getElementById("subtitle").textContent =
      `${RUNS.length} run${RUNS.length === 1 ? "" : "s"}; baseline of the comparisons: ${RUNS[0].label}. `
      + `Reference: ${META.reference.join("; ")}.`;
    append(clear(document.getElementById("run-chips")), RUNS.map((run, i) => h("span",
      { className: "chip", dataset: { run: i } }, swatch(i), run.label,
      h("span", { className: "sub" }, ` AVG ${fmt(run.strict.AVG)}`))));
  }

  // --- leaderboard ------------------------------------------------------------------------------------------------

  function modeValues(run, mode) {
    return mode === "strict" ? run.strict : mode === "lenient" ? run.lenient : run.adherence;
  }

  function scoreCell(run, name, mode, best) {
    const value = modeValues(run, mode)[name];
    const interval = mode === "strict" ? run.intervals[name] : null;
    const content = [h("span", { className: isNumber(value) && value === best ? "value best" : "value" },
      fmt(value))];
    if (interval) content.push(h("span", { className: "ci" }, `[${fmt(interval[0], 3)}, ${fmt(interval[1], 3)}]`));
    return { content, key: isNumber(value) ? value : null,
      title: interval ? `${name}: ${fmt(value)}, 95 % interval ${fmt(interval[0])}–${fmt(interval[1])}` : null };
  }

  function groupTable(group, mode) {
    const runs = group.runs;
    const names = mode === "adherence" ? group.datasets : ["AVG", ...group.categories, ...group.datasets];
    const categories = new Map(META.categories.map((c) => [c.name, c]));
    const columns = [{ label: "Model" }, ...names.map((name) => {
      if (name === "AVG") return { label: "AVG", numeric: true, title: "mean of the categories counted in AVG" };
      if (categories.has(name)) {
        const c = categories.get(name);
        return { label: name, numeric: true, title: c.title, sub: c.in_avg ? "category" : "not in AVG" };
      }
      const d = DATASETS.get(name);
      return { label: name, numeric: true, sub: d ? d.key_metric : "", title: d ? `${d.category}: ${name}` : name };
    })];
    const best = {};
    for (const name of names) {
      const values = runs.map((r) => modeValues(RUNS[r], mode)[name]).filter(isNumber);
      best[name] = values.length > 1 && new Set(values).size > 1 ? Math.max(...values) : null;
    }
    const rows = runs.map((r) => ({
      className: "run-row",
      dataset: { run: r },
      cells: [{ content: runName(r), key: RUNS[r].label }, ...names.map((n) => scoreCell(RUNS[r], n, mode, best[n]))],
    }));
    return sortableTable(columns, rows, "leaderboard-table");
  }

  function renderLeaderboard() {
    const root = clear(body("leaderboard"));
    const modes = META.lenient ? MODES : MODES.slice(0, 1);
    const tables = h("div", { className: "groups" });
    const explain = h("p", { className: "explain" });
    function draw() {
      clear(tables);
      explain.textContent = {
        strict: `Strict: llm-jp-eval's scoring (filter "${META.strict_filter}"); a dataset column is its key `
          + "metric, a category the mean of its datasets, AVG the mean of the categories counted in AVG. Under "
          + "each score, its 95 % interval (bootstrap over samples) when the run has one. Bold: the best of the "
          + "group, when the runs differ.",
        lenient: `Lenient: the answer extracted from free-form output (filter "${META.lenient_filter}"), scored `
          + "with the same metrics. Bold: the best of the group, when the runs differ.",
        adherence: "Format adherence: the share of outputs already in the format the task asks for (1 = every "
          + "answer usable as it is).",
      }[state.mode];
      for (const group of META.groups) {
        const section = h("div", { className: "group", dataset: { group: group.number } },
          h("h3", {}, group.title));
        if (group.differences.length) {
          section.appendChild(h("p", { className: "warning not-comparable" },
            `Not comparable with group 1: ${group.differences.join("; ")}.`));
        }
        if (state.mode !== "strict" && !group.lenient) {
          section.appendChild(h("p", { className: "note" }, "These runs have no lenient pipeline."));
        } else {
          section.appendChild(groupTable(group, state.mode));
        }
        const partial = group.runs.filter((r) => RUNS[r].info.missing_categories);
        if (partial.length) {
          section.appendChild(h("p", { className: "note" }, "AVG covers the categories that ran (llm-jp-eval "
            + "would count a missing one as 0). Missing: ",
          partial.map((r, i) => [i ? "; " : "", RUNS[r].label, ": ",
            RUNS[r].info.missing_categories.split(" ").join(", ")]), "."));
        }
        tables.appendChild(section);
      }
      drawBars();
    }
    if (META.groups.length > 1) {
      root.appendChild(h("p", { className: "warning" }, `These runs fall into ${META.groups.length} groups of `
        + "comparable runs (same settings but the model); numbers from different groups are not comparable."));
    }
    root.appendChild(h("div", { className: "toolbar" },
      switchButtons(modes, state.mode, (mode) => { state.mode = mode; draw(); }, "Scores shown"),
      h("span", { className: "hint" }, "Click a column heading to sort.")));
    root.appendChild(explain);
    root.appendChild(tables);
    renderLeaderboard.draw = draw;
  }

  // --- comparisons ------------------------------------------------------------------------------------------------

  function renderComparisons() {
    const root = clear(body("comparisons"));
    if (!META.comparisons.length) {
      root.appendChild(h("p", { className: "note" },
        "A single run: nothing to compare. Give two runs or more; the first is the baseline."));
      return;
    }
    root.appendChild(h("p", { className: "explain" },
      "Each run against the baseline (the first run), on the samples both scored: delta = model − baseline, "
      + "95 % interval by paired bootstrap, p-value by a paired sign-flip permutation test. ▲ / ▼: significant "
      + `win / loss (p < ${META.significance}, not corrected for the number of rows).`));
    for (const comparison of META.comparisons) {
      const section = h("div", { className: "comparison", dataset: { model: comparison.model } },
        h("h3", {}, runName(comparison.model), " vs ", runName(comparison.baseline), " (baseline)"));
      if (comparison.coverage.length) {
        section.appendChild(h("p", { className: "note" },
          `Coverage differs (${comparison.coverage.join("; ")}): compared on the samples both scored.`));
      }
      if (comparison.reason) {
        section.appendChild(h("p", { className: "warning not-compared" }, `Not compared: ${comparison.reason}.`));
        root.appendChild(section);
        continue;
      }
      const significant = (wins) => comparison.rows.filter((r) => r.p_value < META.significance
        && (wins ? r.delta > 0 : r.delta < 0) && r.scope !== "avg").map((r) => r.name);
      const wins = significant(true);
      const losses = significant(false);
      section.appendChild(h("p", {}, `Significant wins: ${wins.length ? wins.join(", ") : "none"}. `
        + `Significant losses: ${losses.length ? losses.join(", ") : "none"}.`));
      const columns = [{ label: "Name" }, { label: "Scope" }, { label: "n", numeric: true },
        { label: "Baseline", numeric: true }, { label: "Model", numeric: true }, { label: "Delta", numeric: true },
        { label: "95 % interval", numeric: true }, { label: "p", numeric: true }, { label: "" }];
      const rows = comparison.rows.map((r) => {
        const mark = r.p_value < META.significance ? (r.delta > 0 ? "▲" : r.delta < 0 ? "▼" : "") : "";
        const kind = mark === "▲" ? "win" : mark === "▼" ? "loss" : "";
        return {
          className: `cmp-row ${kind}`,
          dataset: { scope: r.scope, name: r.name },
          cells: [
            { content: r.name, key: r.name }, { content: r.scope, key: r.scope }, { content: String(r.n), key: r.n },
            { content: fmt(r.baseline_value), key: r.baseline_value },
            { content: fmt(r.model_value), key: r.model_value },
            { content: signed(r.delta), key: r.delta, className: kind },
            { content: `[${signed(r.ci_low)}, ${signed(r.ci_high)}]`, key: r.ci_low },
            { content: fmt(r.p_value, 3), key: r.p_value },
            { content: mark, key: kind, className: kind, title: kind ? `significant ${kind}` : null },
          ],
        };
      });
      section.appendChild(rows.length ? sortableTable(columns, rows, "comparison-table")
        : h("p", { className: "note" }, "No dataset has samples scored by both runs."));
      const notCompared = Object.entries(comparison.not_compared);
      if (notCompared.length) {
        section.appendChild(h("details", { className: "not-compared-list" },
          h("summary", {}, `Not compared (${notCompared.length})`),
          h("ul", {}, notCompared.map(([name, why]) => h("li", {}, `${name}: ${why}`)))));
      }
      root.appendChild(section);
    }
  }

  // --- charts -----------------------------------------------------------------------------------------------------

  function radarChart() {
    const axes = META.radar_axes;
    const size = 420;
    const c = size / 2;
    const radius = 150;
    const point = (i, v) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * i) / axes.length;
      return [c + radius * v * Math.cos(angle), c + radius * v * Math.sin(angle)];
    };
    const chart = s("svg", { viewBox: `0 0 ${size} ${size}`, width: size, height: size, role: "img",
      class: "radar", "aria-label": "Radar chart of the categories counted in AVG" });
    for (const ring of [0.2, 0.4, 0.6, 0.8, 1.0]) {
      const points = axes.map((_, i) => point(i, ring).join(",")).join(" ");
      chart.appendChild(s("polygon", { class: "grid", points }));
      const [x, y] = point(0, ring);
      chart.appendChild(s("text", { class: "tick", x: x + 4, y: y + 3 }, ring.toFixed(1)));
    }
    axes.forEach((name, i) => {
      const [x, y] = point(i, 1);
      const [lx, ly] = point(i, 1.14);
      chart.appendChild(s("line", { class: "axis", x1: c, y1: c, x2: x, y2: y }));
      chart.appendChild(s("text", { class: "axis-label", x: lx, y: ly + 4,
        "text-anchor": Math.abs(lx - c) < 5 ? "middle" : lx > c ? "start" : "end" }, name));
    });
    RUNS.forEach((run, r) => {
      for (const [table, dashed] of [[run.strict, false], [run.lenient, true]]) {
        const values = axes.map((name) => table[name]);
        if (!values.some(isNumber)) continue;
        const points = values.map((v, i) => point(i, isNumber(v) ? Math.max(0, Math.min(1, v)) : 0).join(","));
        chart.appendChild(s("polygon", { class: dashed ? "series lenient" : "series", points: points.join(" "),
          stroke: color(r), fill: dashed ? "none" : color(r), "data-run": r },
        s("title", {}, `${run.label} (${dashed ? "lenient" : "strict"}): `
          + axes.map((name, i) => `${name} ${fmt(values[i])}`).join(", "))));
      }
    });
    const legend = h("ul", { className: "legend" }, RUNS.map((run, r) => h("li", {}, swatch(r), run.label,
      h("span", { className: "sub" }, ` AVG ${fmt(run.strict.AVG)}`
        + (isNumber(run.lenient.AVG) ? ` (lenient ${fmt(run.lenient.AVG)})` : "")))));
    if (META.lenient) legend.appendChild(h("li", { className: "sub" }, "solid: strict; dashed: lenient"));
    return h("figure", { className: "chart" }, h("figcaption", {}, "Categories counted in AVG (0–1)"), chart, legend);
  }

  const barsFigure = h("figure", { className: "chart bars" });

  function drawBars() {
    const mode = state.mode;
    const names = META.datasets.map((d) => d.name)
      .filter((name) => RUNS.some((run) => isNumber(modeValues(run, mode)[name])));
    const labelWidth = 150;
    const barArea = 360;
    const bar = 11;
    const gap = 12;
    const top = 24;
    const groupHeight = RUNS.length * (bar + 2) + gap;
    const width = labelWidth + barArea + 70;
    const height = top + names.length * groupHeight + 4;
    const chart = s("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", class: "bar-chart",
      "aria-label": "Per-dataset scores" });
    for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
      const x = labelWidth + tick * barArea;
      chart.appendChild(s("line", { class: "grid", x1: x, x2: x, y1: top - 6, y2: height - 4 }));
      chart.appendChild(s("text", { class: "tick", x, y: top - 10, "text-anchor": "middle" }, String(tick)));
    }
    names.forEach((name, d) => {
      const y0 = top + d * groupHeight;
      const info = DATASETS.get(name);
      chart.appendChild(s("text", { class: "bar-label", x: labelWidth - 8, y: y0 + (RUNS.length * (bar + 2)) / 2 + 4,
        "text-anchor": "end" }, name, s("title", {}, info ? `${info.category}, ${info.key_metric}` : name)));
      RUNS.forEach((run, r) => {
        const value = modeValues(run, mode)[name];
        const y = y0 + r * (bar + 2);
        const w = isNumber(value) ? Math.max(0, Math.min(1, value)) * barArea : 0;
        chart.appendChild(s("rect", { x: labelWidth, y, width: Math.max(w, isNumber(value) ? 1 : 0), height: bar,
          fill: color(r), "data-run": r }, s("title", {}, `${run.label}, ${name}: ${fmt(value)}`)));
        chart.appendChild(s("text", { class: "bar-value", x: labelWidth + w + 4, y: y + bar - 2 }, fmt(value, 3)));
      });
    });
    const title = { strict: "strict score (key metric)", lenient: "lenient score", adherence: "format adherence" };
    append(clear(barsFigure), [h("figcaption", {}, `Per dataset: ${title[mode]}`), chart]);
  }

  function renderCharts() {
    const root = clear(body("charts"));
    root.appendChild(h("div", { className: "charts" }, radarChart(), barsFigure));
  }

  // --- run settings -----------------------------------------------------------------------------------------------

  function renderSettings() {
    const root = clear(body("settings"));
    const flags = META.groups.filter((g) => g.differences.length);
    root.appendChild(flags.length
      ? h("ul", { className: "flags" }, flags.map((g) => h("li", { className: "warning not-comparable" },
        `Group ${g.number} (${g.runs.map((r) => RUNS[r].label).join(", ")}) is not comparable with group 1: `
        + `${g.differences.join("; ")}.`)))
      : h("p", { className: "note" }, "All runs are comparable: their settings agree on everything but the model."));
    const rows = [
      ["group", (r) => r.group],
      ["model_args", (r) => r.info.model_args],
      ["results file", (r) => r.info.results_file],
      ["date", (r) => r.date],
      ["split", (r) => r.settings.split],
      ["limit", (r) => r.info.limit],
      ["n-shot", (r) => r.info.n_shot],
      ["chat template", (r) => (r.settings.chat_template
        ? `applied (sha ${String(r.settings.chat_template_sha || "unknown").slice(0, 8)})` : "not applied")],
      ["chat format", (r) => (r.settings.chat_template ? r.settings.chat_format : "– (no chat template)")],
      ["system instruction", (r) => (r.settings.system_instruction_sha
        ? `set (sha ${String(r.settings.system_instruction_sha).slice(0, 8)})` : "none")],
      ["fewshot_as_multiturn", (r) => r.settings.fewshot_as_multiturn],
      ["gen_kwargs", (r) => r.settings.gen_kwargs],
      ["lm-eval version", (r) => r.settings.lm_eval_version],
      ["lm-eval-jaster versions", (r) => r.settings.jaster_versions],
      ["task versions", (r) => r.settings.task_versions],
      ["other settings", (r) => r.settings.jaster_settings],
      ["datasets", (r) => r.settings.datasets.length],
      ["missing categories", (r) => r.info.missing_categories],
      ["samples files (--log_samples)", (r) => (r.has_samples_files ? "yes" : "no")],
      ["intervals from", (r) => r.interval_source],
      ["notes", (r) => r.notes],
    ];
    const head = h("tr", {}, h("th", { scope: "col" }, "Setting"),
      RUNS.map((_, r) => h("th", { scope: "col" }, runName(r))));
    const lines = rows.map(([name, get]) => {
      const values = RUNS.map((run) => settingText(get(run)));
      const differs = new Set(values).size > 1;
      return h("tr", { className: differs ? "differs" : "", dataset: { setting: name } },
        h("th", { scope: "row" }, name), values.map((v) => h("td", {}, v)));
    });
    root.appendChild(h("div", { className: "table-scroll" },
      h("table", { className: "settings-table" }, h("thead", {}, head), h("tbody", {}, lines))));
    root.appendChild(h("p", { className: "note" }, "Highlighted rows differ between runs."));
    root.appendChild(h("h3", {}, "Coverage (samples scored per dataset)"));
    const names = META.datasets.map((d) => d.name).filter((n) => RUNS.some((run) => n in run.coverage));
    const coverageRows = names.map((name) => h("tr", {}, h("th", { scope: "row" }, name), RUNS.map((run) => {
      const count = run.coverage[name];
      return h("td", { className: "num" }, !(name in run.coverage) ? "–" : count === null ? "yes" : String(count));
    })));
    coverageRows.push(h("tr", {}, h("th", { scope: "row" }, "samples in this report"),
      RUNS.map((run) => h("td", { className: "num" }, `${run.samples.length} datasets`))));
    root.appendChild(h("div", { className: "table-scroll" }, h("table", { className: "coverage-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Dataset"),
        RUNS.map((_, r) => h("th", { scope: "col", className: "num" }, runName(r))))),
      h("tbody", {}, coverageRows))));
  }

  // --- sample browser ---------------------------------------------------------------------------------------------

  const decoded = new Map();  // dataset → Promise of its samples

  function base64Bytes(text) {
    const binary = atob(text.trim());
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function loadSamples(name) {
    if (!decoded.has(name)) {
      decoded.set(name, (async () => {
        const node = Array.from(document.querySelectorAll("script.jaster-samples"))
          .find((n) => n.dataset.dataset === name);
        if (!node) throw new Error(`no samples of ${name} in this page`);
        if (typeof DecompressionStream === "undefined") {
          throw new Error("this browser cannot decompress the samples (no DecompressionStream): open the report "
            + "in Chromium 80+, Firefox 113+ or Safari 16.4+");
        }
        const stream = new Blob([base64Bytes(node.textContent)]).stream()
          .pipeThrough(new DecompressionStream("gzip"));
        const data = JSON.parse(await new Response(stream).text());
        data.index = {};  // run → Map(doc id → row)
        for (const [run, columns] of Object.entries(data.runs)) {
          data.index[run] = new Map(columns.doc_id.map((id, row) => [id, row]));
          columns.differs = new Set(columns.hash_differs);
        }
        return data;
      })());
    }
    return decoded.get(name);
  }

  const FILTERS = [
    ["all", "All"],
    ["correct", "Correct"],
    ["wrong", "Wrong"],
    ["format", "Format error"],
    ["onlyA", "Only A right"],
    ["onlyB", "Only B right"],
  ];

  const browser = {
    dataset: null, runs: [], filter: "all", query: "", page: 0, data: null, docs: [], shown: [],
  };

  function sampleRuns(name) {
    return RUNS.map((run, r) => r).filter((r) => RUNS[r].samples.includes(name));
  }

  function outcomeOf(data, run, row) {
    if (row === undefined) return undefined;
    return data.runs[run].outcome[row];
  }

  function formatError(data, run, row) {
    const lenient = data.runs[run].lenient_metrics;
    return row !== undefined && lenient !== undefined && lenient.format_adherence !== undefined
      && lenient.format_adherence[row] === 0;
  }

  function matches(data, doc, filter) {
    const rows = browser.runs.map((r) => data.index[r].get(doc));
    const outcomes = browser.runs.map((r, i) => outcomeOf(data, r, rows[i]));
    switch (filter) {
      case "correct": return outcomes.every((o) => o === 1);
      case "wrong": return outcomes.every((o) => o === 0);
      case "format": return browser.runs.some((r, i) => formatError(data, r, rows[i]));
      case "onlyA": return outcomes.length === 2 && outcomes[0] === 1 && outcomes[1] === 0;
      case "onlyB": return outcomes.length === 2 && outcomes[0] === 0 && outcomes[1] === 1;
      default: return true;
    }
  }

  function textMatches(data, doc, query) {
    if (!query) return true;
    if (!data.lower) data.lower = data.strings.map((t) => t.toLowerCase());
    for (const r of browser.runs) {
      const row = data.index[r].get(doc);
      if (row === undefined) continue;
      const columns = data.runs[r];
      for (const key of ["prompt", "gold", "raw", "strict", "lenient"]) {
        const index = columns[key] ? columns[key][row] : null;
        if (index !== null && index !== undefined && data.lower[index].includes(query)) return true;
      }
    }
    return String(doc) === query;
  }

  const ui = {};

  function buildBrowser() {
    const root = clear(body("samples"));
    if (!META.sample_datasets.length) {
      root.appendChild(h("p", { className: "note" }, "No run has samples files. Rerun with --log_samples to "
        + "browse every prompt and answer here."));
      return false;
    }
    ui.dataset = h("select", { id: "sample-dataset", on: { change: () => openDataset(ui.dataset.value) } },
      META.sample_datasets.map((name) => {
        const info = DATASETS.get(name);
        return h("option", { value: name }, info ? `${name} (${info.category}, ${info.key_metric})` : name);
      }));
    ui.runs = h("div", { className: "run-picker", id: "sample-runs", role: "group", "aria-label": "Runs shown" });
    ui.filters = h("div", { className: "switch filters", id: "sample-filters", role: "group",
      "aria-label": "Filter samples" });
    ui.search = h("input", { type: "search", id: "sample-search", placeholder: "Search prompts, answers, gold",
      "aria-label": "Search samples",
      on: { input: debounce(() => { browser.query = ui.search.value.trim().toLowerCase(); refilter(); }, 150) } });
    ui.status = h("p", { className: "status", id: "sample-status", "aria-live": "polite" });
    ui.list = h("div", { id: "sample-list" });
    ui.pager = h("div", { className: "pager" });
    ui.pagerBottom = h("div", { className: "pager" });
    append(root, [
      h("p", { className: "explain" }, "Correct / wrong: the strict key metric (llm-jp-eval's scoring) is 1 / "
        + "below 1 (jsts: the predicted number equals the gold). With several runs shown, Correct and Wrong mean "
        + "in every run shown, Format error in at least one (format_adherence 0, from the lenient pipeline); "
        + "A and B are the first and second runs shown."),
      h("div", { className: "controls" },
        h("label", {}, "Dataset ", ui.dataset), h("div", {}, h("span", { className: "label" }, "Runs "), ui.runs),
        ui.search),
      ui.filters, ui.status, ui.pager, ui.list, ui.pagerBottom,
    ]);
    return true;
  }

  function debounce(f, ms) {
    let timer = null;
    return () => { clearTimeout(timer); timer = setTimeout(f, ms); };
  }

  function drawRunPicker(available) {
    clear(ui.runs);
    RUNS.forEach((run, r) => {
      const has = available.includes(r);
      const box = h("input", { type: "checkbox", value: String(r), checked: browser.runs.includes(r),
        disabled: !has, on: { change: () => {
          browser.runs = RUNS.map((_, i) => i).filter((i) => ui.runs.querySelector(`input[value="${i}"]`).checked);
          browser.page = 0;
          refilter();
        } } });
      ui.runs.appendChild(h("label", { className: has ? "" : "disabled", title: has ? null : "no samples of this "
        + "dataset in this run" }, box, swatch(r), run.label));
    });
  }

  function drawFilters(counts) {
    clear(ui.filters);
    const two = browser.runs.length === 2;
    for (const [value, text] of FILTERS) {
      const pairwise = value === "onlyA" || value === "onlyB";
      if (pairwise && !two) continue;
      let label = text;
      if (pairwise) label = `Only ${RUNS[browser.runs[value === "onlyA" ? 0 : 1]].label} right`;
      ui.filters.appendChild(h("button", { type: "button", dataset: { filter: value },
        "aria-pressed": String(browser.filter === value),
        on: { click: () => { browser.filter = value; browser.page = 0; refilter(); } } },
      label, h("span", { className: "count" }, ` ${counts[value]}`)));
    }
  }

  async function openDataset(name) {
    browser.dataset = name;
    ui.dataset.value = name;
    const available = sampleRuns(name);
    const kept = browser.runs.filter((r) => available.includes(r));
    browser.runs = kept.length ? kept : available.slice(0, 2);
    browser.page = 0;
    drawRunPicker(available);
    ui.status.textContent = "Decoding the samples…";
    clear(ui.list);
    let data;
    try {
      data = await loadSamples(name);
    } catch (error) {
      ui.status.textContent = `Cannot show the samples of ${name}: ${error.message}`;
      ui.status.className = "status error";
      return;
    }
    if (browser.dataset !== name) return;  // another dataset was picked meanwhile
    browser.data = data;
    refilter();
  }

  function refilter() {
    const data = browser.data;
    if (!data) return;
    if (browser.filter.startsWith("only") && browser.runs.length !== 2) browser.filter = "all";
    const ids = new Set();
    for (const r of browser.runs) for (const id of data.runs[r].doc_id) ids.add(id);
    const docs = Array.from(ids).sort((a, b) => a - b).filter((doc) => textMatches(data, doc, browser.query));
    const counts = {};
    for (const [value] of FILTERS) counts[value] = 0;
    for (const doc of docs) for (const [value] of FILTERS) if (matches(data, doc, value)) counts[value] += 1;
    browser.docs = docs;
    browser.shown = docs.filter((doc) => matches(data, doc, browser.filter));
    const pages = Math.max(1, Math.ceil(browser.shown.length / PAGE_SIZE));
    browser.page = Math.min(browser.page, pages - 1);
    drawFilters(counts);
    drawPage();
  }

  function pager(node) {
    const pages = Math.max(1, Math.ceil(browser.shown.length / PAGE_SIZE));
    const go = (page) => { browser.page = page; drawPage(); };
    append(clear(node), [
      h("button", { type: "button", className: "prev", disabled: browser.page === 0,
        on: { click: () => go(browser.page - 1) } }, "‹ Previous"),
      h("span", {}, ` page ${browser.page + 1} of ${pages} `),
      h("button", { type: "button", className: "next", disabled: browser.page >= pages - 1,
        on: { click: () => go(browser.page + 1) } }, "Next ›"),
    ]);
  }

  function drawPage() {
    const data = browser.data;
    const start = browser.page * PAGE_SIZE;
    const slice = browser.shown.slice(start, start + PAGE_SIZE);
    ui.status.className = "status";
    ui.status.textContent = browser.runs.length === 0 ? "Pick at least one run."
      : browser.shown.length === 0 ? `No sample of ${data.name} matches (${browser.docs.length} match the search).`
        : `Samples ${start + 1}–${start + slice.length} of ${browser.shown.length} (${data.name}, `
          + `${browser.docs.length} docs${browser.query ? " matching the search" : ""}).`;
    pager(ui.pager);
    pager(ui.pagerBottom);
    append(clear(ui.list), slice.map((doc) => sampleCard(data, doc)));
    if (!document.documentElement.hasAttribute("data-first-render-ms")) {
      document.documentElement.setAttribute("data-first-render-ms", performance.now().toFixed(1));
    }
  }

  function textBlock(data, index, className) {
    if (index === null || index === undefined) return h("pre", { className: `${className} missing` }, "(none)");
    const text = data.strings[index];
    if (text === "") return h("pre", { className: `${className} missing` }, "(empty)");
    return h("pre", { className }, text);
  }

  function promptBlock(data, columns, row) {
    const parts = [];
    if (columns.prefix !== null && columns.prefix !== undefined) {
      const prefix = data.strings[columns.prefix];
      parts.push(h("details", { className: "fewshot" }, h("summary", {},
        `Shared start (instruction, few-shot examples): the same in all ${columns.doc_id.length} prompts of `
        + `this run, ${prefix.length.toLocaleString("en")} characters`),
      h("pre", { className: "prompt-prefix" }, prefix)));
    }
    parts.push(textBlock(data, columns.prompt[row], "prompt-own"));
    return h("div", { className: "prompt" }, parts);
  }

  function metricsLine(columns, row) {
    const groups = [];
    for (const [key, title] of [["metrics", "strict"], ["lenient_metrics", "lenient"]]) {
      const items = [];
      for (const [name, values] of Object.entries(columns[key] || {})) {
        const v = values[row];
        if (v === null || v === undefined) continue;
        const shown = Array.isArray(v) ? `pred ${v[0]}, gold ${v[1]}` : fmt(v);
        items.push(h("span", { className: "metric", dataset: { metric: `${title}:${name}` } }, `${name} `,
          h("b", {}, shown)));
      }
      if (items.length) groups.push(h("span", { className: "metric-group" }, h("i", {}, `${title}:`), items));
    }
    return groups.length ? h("div", { className: "metrics" }, groups) : h("div", { className: "metrics note" },
      "no per-sample metric value (a corpus-level metric)");
  }

  // The generation and the two extracted answers; equal ones shown once ("Generation = strict = lenient").
  function answerBlocks(data, columns, row) {
    const parts = [["Generation (raw)", "raw", columns.raw[row]], ["strict answer", "strict-answer",
      columns.strict[row]]];
    if (columns.lenient) parts.push(["lenient answer", "lenient-answer", columns.lenient[row]]);
    const merged = [];
    for (const [title, className, index] of parts) {
      const same = merged.find((m) => m.index === index);
      if (same) {
        same.titles.push(title);
        same.classes.push(className);
      } else merged.push({ titles: [title], classes: [className], index });
    }
    return merged.map((m) => {
      const text = m.titles.join(" = ");
      return [h("h5", {}, text.charAt(0).toUpperCase() + text.slice(1)),
        textBlock(data, m.index, m.classes.join(" "))];
    });
  }

  function outcomeBadge(data, run, row) {
    const outcome = outcomeOf(data, run, row);
    const error = formatError(data, run, row);
    const badges = [];
    if (row === undefined) badges.push(h("span", { className: "badge absent" }, "not in this run"));
    else if (outcome === 1) badges.push(h("span", { className: "badge right" }, "✓ correct"));
    else if (outcome === 0) badges.push(h("span", { className: "badge wrong" }, "✗ wrong"));
    else badges.push(h("span", { className: "badge unknown" }, "no per-sample score"));
    if (error) badges.push(h("span", { className: "badge format" }, "format error"));
    return badges;
  }

  function sampleCard(data, doc) {
    const rows = browser.runs.map((r) => data.index[r].get(doc));
    const present = browser.runs.map((r, i) => [r, rows[i]]).filter(([, row]) => row !== undefined);
    const key = ([r, row], field) => (field === "prompt"
      ? `${data.runs[r].prefix}:${data.runs[r].prompt[row]}` : String(data.runs[r][field][row]));
    const same = (field) => new Set(present.map((p) => key(p, field))).size <= 1;
    const sharedPrompt = same("prompt");
    const sharedGold = same("gold");
    const [firstRun, firstRow] = present[0];
    const card = h("article", { className: "sample", dataset: { doc } },
      h("header", {}, h("h3", {}, `doc ${doc}`),
        browser.runs.length > 1 ? browser.runs.map((r, i) => h("span", { className: "run-outcome" },
          swatch(r), outcomeBadge(data, r, rows[i]))) : null));
    const differing = present.filter(([r]) => data.runs[r].differs.has(doc)).map(([r]) => RUNS[r].label);
    if (differing.length) {
      card.appendChild(h("p", { className: "warning" }, `Different document under this doc id in ${differing.join(
        ", ")} (lm-eval's doc_hash differs from the first run's): not the same question.`));
    }
    if (sharedPrompt) card.appendChild(h("div", { className: "field" }, h("h4", {}, "Prompt"),
      promptBlock(data, data.runs[firstRun], firstRow)));
    if (sharedGold) card.appendChild(h("div", { className: "field gold" }, h("h4", {}, "Gold"),
      textBlock(data, data.runs[firstRun].gold[firstRow], "gold-text")));
    const answers = h("div", { className: "answers" });
    answers.style.gridTemplateColumns = `repeat(${browser.runs.length}, minmax(0, 1fr))`;
    browser.runs.forEach((r, i) => {
      const row = rows[i];
      const columns = data.runs[r];
      const column = h("section", { className: "answer", dataset: { run: r } },
        h("h4", {}, runName(r), " ", outcomeBadge(data, r, row)));
      if (row === undefined) {
        column.appendChild(h("p", { className: "note" }, "This doc is not in this run's samples."));
      } else {
        if (!sharedPrompt) column.appendChild(h("div", { className: "field" }, h("h5", {}, "Prompt"),
          promptBlock(data, columns, row)));
        if (!sharedGold) column.appendChild(h("div", { className: "field" }, h("h5", {}, "Gold"),
          textBlock(data, columns.gold[row], "gold-text")));
        append(column, [answerBlocks(data, columns, row), metricsLine(columns, row)]);
      }
      answers.appendChild(column);
    });
    card.appendChild(answers);
    return card;
  }

  // --- start ------------------------------------------------------------------------------------------------------

  renderHeader();
  renderLeaderboard();
  renderComparisons();
  renderCharts();
  renderLeaderboard.draw();
  renderSettings();
  if (buildBrowser()) openDataset(META.sample_datasets[0]);
}());
