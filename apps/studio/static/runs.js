// Runs: every run folder, its curves, metrics and confusion / PR pictures; "use" picks
// a checkpoint for the other pages.
"use strict";

(() => {
  const PAGE_TASKS = { classify: "Classify", detect: "Detect", speech: "Transcribe", wavenet: "WaveNet" };
  const stats = (studio.stats.runs = { folders: 0 });

  function fileUrl(run, name) {
    return `/api/runs/file?path=${encodeURIComponent(`${run.path}/${name}`)}`;
  }

  function metricsTable(rows) {
    if (!rows.length) return "";
    const columns = Object.keys(rows[0]);
    const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
    const body = rows.slice(-8).map((r) => `<tr>${columns.map((c) => `<td>${escapeHtml(r[c])}</td>`).join("")}</tr>`).join("");
    return `<table class="table"><tr>${head}</tr>${body}</table>`;
  }

  function render(run) {
    const div = document.createElement("div");
    div.className = "run";
    const summary = run.summary ? `<pre>${escapeHtml(JSON.stringify(run.summary, null, 1).slice(0, 600))}</pre>` : "";
    const config = run.config ? `<details><summary>config.json</summary><pre>` +
      `${escapeHtml(JSON.stringify(run.config, null, 1))}</pre></details>` : "";
    div.innerHTML = `<h3>${escapeHtml(run.task)} / ${escapeHtml(run.name)}</h3><p class="muted">${escapeHtml(run.files.join(", "))}</p>` +
      `${metricsTable(run.metrics)}${summary}${config}` +
      run.images.map((name) => `<img alt="${escapeHtml(name)}" src="${escapeHtml(fileUrl(run, name))}">`).join("");
    for (const name of run.checkpoints) {
      const button = document.createElement("button");
      button.textContent = `use ${name}` + (PAGE_TASKS[run.task] ? ` on ${PAGE_TASKS[run.task]}` : "");
      button.disabled = !PAGE_TASKS[run.task];
      button.onclick = () => chooseModel(run.task, `${run.path}/${name}`);
      div.appendChild(button);
    }
    return div;
  }

  async function load() {
    const runs = await api("/api/runs");
    const list = $("runs-list");
    list.innerHTML = runs.length ? "" : "<p>No run folders yet.</p>";
    runs.forEach((run) => list.appendChild(render(run)));
    stats.folders = runs.length;
  }

  studio.pages.runs = { start: load, show: () => load().catch((err) => showError("runs", err)) };
})();
