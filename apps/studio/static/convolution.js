// Convolution (the chapter's demo): a digit, a filter to edit or pick, and its map,
// computed here as the numbers change; the trained first layer's maps from the server.
"use strict";

(() => {
  const V = { digits: [], filters: [], kernel: [] };
  const PRESETS = {
    "vertical edges": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "horizontal edges": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    blur: [[1, 1, 1], [1, 1, 1], [1, 1, 1]].map((r) => r.map((v) => +(v / 9).toFixed(3))),
    sharpen: [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    identity: [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
  };
  const stats = (studio.stats.convolution = { outputs: 0, kernel: null, range: null });

  // An (H, W) array of numbers drawn on `canvas` in grey, scaled to its own min..max.
  function drawArray(canvas, values) {
    const h = values.length, w = values[0].length;
    const flat = values.flat();
    const lo = Math.min(...flat), hi = Math.max(...flat);
    const image = new ImageData(w, h);
    flat.forEach((v, i) => {
      const g = hi > lo ? Math.round((255 * (v - lo)) / (hi - lo)) : 0;
      image.data.set([g, g, g, 255], 4 * i);
    });
    const small = document.createElement("canvas");
    small.width = w;
    small.height = h;
    small.getContext("2d").putImageData(image, 0, 0);
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
    return [lo, hi];
  }

  // "Same" 2-D cross-correlation (what a conv layer computes), zero padding k // 2.
  function convolve(image, kernel) {
    const h = image.length, w = image[0].length, k = kernel.length, p = Math.floor(k / 2);
    return image.map((row, y) => row.map((_, x) => {
      let sum = 0;
      for (let i = 0; i < k; i++) {
        for (let j = 0; j < k; j++) {
          const yy = y + i - p, xx = x + j - p;
          if (yy >= 0 && yy < h && xx >= 0 && xx < w) sum += image[yy][xx] * kernel[i][j];
        }
      }
      return sum;
    }));
  }

  function update() {
    const digit = V.digits[Number($("conv-digit").value)];
    drawArray($("conv-input"), digit.pixels);
    const out = convolve(digit.pixels, V.kernel);
    const [lo, hi] = drawArray($("conv-output"), out);
    $("conv-output-caption").textContent = `activation map (${lo.toFixed(2)} .. ${hi.toFixed(2)})`;
    Object.assign(stats, { outputs: stats.outputs + 1, kernel: V.kernel, range: [lo, hi] });
  }

  function setKernel(kernel) {
    V.kernel = kernel.map((row) => [...row]);
    const table = $("conv-kernel");
    table.innerHTML = "";
    V.kernel.forEach((row, i) => {
      const tr = table.insertRow();
      row.forEach((value, j) => {
        const input = document.createElement("input");
        input.type = "number";
        input.step = "0.1";
        input.value = +value.toFixed(3);
        input.oninput = () => {
          V.kernel[i][j] = Number(input.value) || 0;
          update();
        };
        tr.insertCell().appendChild(input);
      });
    });
    update();
  }

  function presetKernel(name) {
    return name.startsWith("trained ") ? V.filters[Number(name.split(" ")[1])] : PRESETS[name];
  }

  async function maps() {
    const weights = encodeURIComponent($("conv-model").value);
    const result = await api(`/api/convolution/maps?digit=${$("conv-digit").value}&weights=${weights}`);
    $("conv-maps").innerHTML = `<figure><img alt="${escapeHtml(result.layer)}" src="${result.url}">` +
      `<figcaption>${escapeHtml(result.layer)}: ${result.shape.join(" x ")}</figcaption></figure>`;
  }

  async function load() {
    const result = await api(`/api/convolution?weights=${encodeURIComponent($("conv-model").value)}`);
    V.digits = result.digits;
    V.filters = result.filters;
    const digit = $("conv-digit");
    const keep = digit.value || "7";
    digit.innerHTML = "";
    V.digits.forEach((d, i) => digit.add(new Option(d.name, i)));
    digit.value = keep < V.digits.length ? keep : "0";
    const preset = $("conv-preset");
    preset.innerHTML = "";
    for (const name of Object.keys(PRESETS)) preset.add(new Option(name, name));
    V.filters.forEach((_, i) => preset.add(new Option(`trained ${i} (first layer)`, `trained ${i}`)));
    setKernel(presetKernel(preset.value));
    await maps();
  }

  studio.pages.convolution = {
    async start() {
      const fail = (err) => showError("convolution", err);
      $("conv-preset").onchange = () => setKernel(presetKernel($("conv-preset").value));
      $("conv-digit").onchange = () => {
        update();
        maps().catch(fail);
      };
      $("conv-model").onchange = () => load().catch(fail);
      await load();
    },
  };
})();
