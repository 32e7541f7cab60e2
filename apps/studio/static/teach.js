// Teach: examples of your own classes from the webcam (or uploaded), a head trained on
// the shared backbone's features, then the live webcam classified by the saved model.
"use strict";

(() => {
  const T = { stream: null, examples: [], live: false, checkpoint: "" };
  const stats = (studio.stats.teach = { examples: 0, checkpoint: "", names: [], train_accuracy: 0,
    live: { label: null, score: 0, frames: 0 } });

  function addExample(blob, name, cls) {
    T.examples.push({ blob, name, cls });
    stats.examples = T.examples.length;
    const img = document.createElement("img");
    img.src = URL.createObjectURL(blob);
    img.title = cls;
    $("teach-examples").appendChild(img);
    const counts = {};
    for (const e of T.examples) counts[e.cls] = (counts[e.cls] || 0) + 1;
    setStatus("teach", Object.entries(counts).map(([c, n]) => `${c}: ${n}`).join(", "));
  }

  async function camera() {
    if (T.stream) return;
    try {
      T.stream = await openCamera($("teach-video"));
    } catch (err) {
      throw new Error(`camera: ${err.message}`);
    }
    T.stream.getVideoTracks()[0].addEventListener("ended", () => {
      stop();
      showError("teach", new Error("the camera stopped sending frames"));
    });
  }

  async function capture() {
    await camera();
    const cls = $("teach-class").value.trim();
    if (!cls) throw new Error("give the class a name first");
    for (let i = 0; i < 5; i++) {
      const { blob } = await grabFrame($("teach-video"), 160);
      addExample(blob, `${cls}_${T.examples.length}.jpg`, cls);
      await sleep(150);
    }
  }

  async function train() {
    setStatus("teach", "training...");
    const form = formData({ files: T.examples.map((e) => named(e.blob, e.name)),
      classes: T.examples.map((e) => e.cls), name: $("teach-name").value.trim() });
    const result = await api("/api/teach/train", { method: "POST", body: form });
    T.checkpoint = result.checkpoint;
    Object.assign(stats, { checkpoint: result.checkpoint, names: result.names,
      train_accuracy: result.train_accuracy });
    setStatus("teach", `saved ${result.checkpoint} (${result.names.join(", ")}; ` +
      `accuracy on the examples ${result.train_accuracy.toFixed(2)}, ${result.seconds.toFixed(1)} s)`);
    showError("teach", null);
    await refreshModels();
  }

  async function live() {
    if (!T.checkpoint) throw new Error("train first: there is no model of your classes yet");
    await camera();
    T.live = true;
    while (T.live && T.stream) {
      const { blob } = await grabFrame($("teach-video"), 160);
      const form = formData({ file: named(blob, "frame.jpg"), weights: T.checkpoint, maps: "false" });
      const result = await api("/api/classify", { method: "POST", body: form });
      $("teach-label").textContent = result.label;
      $("teach-score").textContent = `(${result.score.toFixed(3)})`;
      stats.live = { label: result.label, score: result.score, frames: stats.live.frames + 1 };
    }
  }

  function stop() {
    T.live = false;
    stopStream(T.stream);
    T.stream = null;
  }

  studio.pages.teach = {
    async start() {
      const guard = (work) => () => work().catch((err) => {
        T.live = false;
        setStatus("teach", "");
        showError("teach", err);
      });
      $("teach-camera").onclick = guard(camera);
      $("teach-capture").onclick = guard(capture);
      $("teach-train").onclick = guard(train);
      $("teach-live").onclick = guard(live);
      $("teach-files").onchange = (event) => {
        const cls = $("teach-class").value.trim() || "A";
        for (const file of event.target.files) addExample(file, file.name, cls);
        event.target.value = "";
      };
    },
    hide: stop,
  };
})();
