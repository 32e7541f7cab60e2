// WaveNet: generate a digit or vocode a recording; play and download the wav.
"use strict";

(() => {
  const stats = (studio.stats.wavenet = { made: 0, bytes: 0 });

  async function names() {
    const weights = encodeURIComponent($("wavenet-model").value);
    const result = await api(`/api/wavenet/names?weights=${weights}`);
    for (const [id, values] of [["wavenet-speaker", result.speakers], ["wavenet-label", result.labels]]) {
      const select = $(id);
      select.innerHTML = "";
      select.add(new Option("(any)", ""));
      for (const value of values) select.add(new Option(value, value));
    }
    if (result.labels.includes("7")) $("wavenet-label").value = "7";
  }

  function play(blob, name) {
    const url = URL.createObjectURL(blob);
    $("wavenet-audio").src = url;
    const link = $("wavenet-download");
    link.href = url;
    link.download = name;
    link.hidden = false;
    stats.made++;
    stats.bytes = blob.size;
    showError("wavenet", null);
  }

  async function run(what, url, fields, name) {
    setStatus("wavenet", `${what}...`);
    try {
      const form = formData({ weights: $("wavenet-model").value, ...fields });
      play(await api(url, { method: "POST", body: form }), name);
      setStatus("wavenet", `${what}: done`);
    } catch (err) {
      setStatus("wavenet", "");
      showError("wavenet", err);
    }
  }

  studio.pages.wavenet = {
    async start() {
      $("wavenet-model").onchange = () => names().catch((err) => showError("wavenet", err));
      $("wavenet-generate").onclick = () => {
        const fields = { seconds: $("wavenet-seconds").value, speaker: $("wavenet-speaker").value,
          label: $("wavenet-label").value, seed: $("wavenet-seed").value };
        run("generating", "/api/wavenet/generate", fields, `generated_${fields.label || "any"}.wav`);
      };
      $("wavenet-file").onchange = (event) => {
        const file = event.target.files[0];
        event.target.value = "";
        if (file) {
          run("vocoding", "/api/wavenet/vocode", { file: named(file, file.name),
            speaker: $("wavenet-speaker").value }, `vocoded_${file.name.replace(/\.[^.]*$/, "")}.wav`);
        }
      };
      await names();
    },
  };
})();
