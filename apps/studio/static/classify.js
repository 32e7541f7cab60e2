// Classify: draw or upload -> label, probabilities, activation maps; the volume table.
"use strict";

(() => {
  const C = { drawing: false, busy: false, again: false, inked: false };
  studio.stats.classify = { requests: 0, label: null, score: 0, maps: 0, busy: false };
  const canvas = $("classify-canvas");
  const ctx = canvas.getContext("2d");

  function clear() {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    C.inked = false;
  }

  function point(event) {
    const rect = canvas.getBoundingClientRect();
    return [(event.clientX - rect.left) * canvas.width / rect.width,
      (event.clientY - rect.top) * canvas.height / rect.height];
  }

  // The ink's bounding square with a margin (MNIST digits fill 20 of 28 px), as a PNG.
  function croppedInk() {
    const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let x0 = width, y0 = height, x1 = -1, y1 = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (data[4 * (y * width + x)] > 40) {
          x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
        }
      }
    }
    if (x1 < 0) return null;
    const side = Math.max(x1 - x0, y1 - y0) * 1.4 + 8;
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    const out = document.createElement("canvas");
    out.width = out.height = 112;
    const octx = out.getContext("2d");
    octx.fillStyle = "#000";
    octx.fillRect(0, 0, 112, 112);
    octx.drawImage(canvas, cx - side / 2, cy - side / 2, side, side, 0, 0, 112, 112);
    return new Promise((resolve) => out.toBlob(resolve, "image/png"));
  }

  function showResult(result) {
    $("classify-label").textContent = result.label;
    $("classify-score").textContent = `(${result.score.toFixed(3)})`;
    const probs = $("classify-probs");
    probs.innerHTML = "";
    for (const { name, p } of result.probs) {
      const row = probs.insertRow();
      row.insertCell().textContent = name;
      row.insertCell().innerHTML = `<div class="bar" style="width:${Math.round(200 * p)}px"></div>`;
      row.insertCell().textContent = p.toFixed(3);
    }
    const maps = $("classify-maps");
    maps.innerHTML = "";
    for (const layer of result.maps) {
      const figure = document.createElement("figure");
      figure.innerHTML = `<img alt="${escapeHtml(layer.layer)}" src="${layer.url}"><figcaption>${escapeHtml(layer.layer)}: ` +
        `${layer.shape.join(" x ")}</figcaption>`;
      maps.appendChild(figure);
    }
    Object.assign(studio.stats.classify, { label: result.label, score: result.score,
      maps: result.maps.length, probs: result.probs });
  }

  async function classify(blob, name) {
    studio.stats.classify.requests++;
    const form = formData({ file: named(blob, name), weights: $("classify-model").value });
    showResult(await api("/api/classify", { method: "POST", body: form }));
    showError("classify", null);
  }

  // One request in flight while drawing; the latest drawing is sent when it returns.
  async function classifyDrawing() {
    if (C.busy) {
      C.again = true;
      return;
    }
    C.busy = studio.stats.classify.busy = true;
    try {
      const blob = await croppedInk();
      if (blob) await classify(blob, "drawing.png");
    } catch (err) {
      showError("classify", err);
    } finally {
      C.busy = studio.stats.classify.busy = false;
      if (C.again) {
        C.again = false;
        classifyDrawing();
      }
    }
  }

  function stroke(event) {
    if (!C.drawing) return;
    const [x, y] = point(event);
    ctx.lineTo(x, y);
    ctx.stroke();
    C.inked = true;
    classifyDrawing();
  }

  async function volumes() {
    const table = $("classify-volumes");
    const result = await api(`/api/classify/volumes?weights=${encodeURIComponent($("classify-model").value)}`);
    table.innerHTML = "<tr><th>layer</th><th>type</th><th>output W x H x D</th><th>params</th><th>MACs</th></tr>" +
      `<tr><td>input</td><td></td><td>${result.input}</td><td></td><td></td></tr>`;
    for (const r of result.rows) {
      const row = table.insertRow();
      for (const value of [r.layer, r.kind, r.output, r.params.toLocaleString(), r.macs.toLocaleString()]) {
        row.insertCell().textContent = value;
      }
    }
    studio.stats.classify.volumes = result.rows.length;
  }

  studio.pages.classify = {
    async start() {
      clear();
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 20;
      ctx.lineCap = ctx.lineJoin = "round";
      canvas.addEventListener("pointerdown", (event) => {
        C.drawing = true;
        canvas.setPointerCapture(event.pointerId);
        $("classify-photo").hidden = true;
        const [x, y] = point(event);
        ctx.beginPath();
        ctx.moveTo(x, y);
      });
      canvas.addEventListener("pointermove", stroke);
      canvas.addEventListener("pointerup", () => {
        C.drawing = false;
        classifyDrawing();
      });
      $("classify-clear").onclick = clear;
      $("classify-file").onchange = async (event) => {
        const file = event.target.files[0];
        if (!file) return;
        $("classify-photo").src = URL.createObjectURL(file);
        $("classify-photo").hidden = false;
        try {
          await classify(file, file.name);
        } catch (err) {
          showError("classify", err);
        }
        event.target.value = "";
      };
      $("classify-model").onchange = () => volumes().catch((err) => showError("classify", err));
      await volumes();
    },
  };
})();
