// Transcribe: record the microphone to 16-bit PCM WAV in the page (the server reads WAV
// as it is), or upload a file; show the text and the log-mel the model read.
"use strict";

(() => {
  const stats = (studio.stats.transcribe = { text: null, recordings: 0, seconds: 0 });

  function wavFile(samples, rate) {
    const buffer = new ArrayBuffer(44 + 2 * samples.length);
    const view = new DataView(buffer);
    const text = (offset, s) => [...s].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)));
    text(0, "RIFF");
    view.setUint32(4, 36 + 2 * samples.length, true);
    text(8, "WAVEfmt ");
    view.setUint32(16, 16, true); // fmt chunk size
    view.setUint16(20, 1, true); // PCM
    view.setUint16(22, 1, true); // mono
    view.setUint32(24, rate, true);
    view.setUint32(28, 2 * rate, true); // bytes per second
    view.setUint16(32, 2, true); // bytes per frame
    view.setUint16(34, 16, true); // bits per sample
    text(36, "data");
    view.setUint32(40, 2 * samples.length, true);
    samples.forEach((v, i) => view.setInt16(44 + 2 * i, Math.max(-1, Math.min(1, v)) * 32767, true));
    return new Blob([buffer], { type: "audio/wav" });
  }

  // `seconds` of the microphone as a WAV Blob; a track that ends early ends the recording.
  async function record(seconds) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new Error("this browser gives the page no microphone");
    }
    const stream = await navigator.mediaDevices.getUserMedia({ audio: {
      echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    const context = new AudioContext();
    const source = context.createMediaStreamSource(stream);
    const node = context.createScriptProcessor(4096, 1, 1);
    const chunks = [];
    node.onaudioprocess = (event) => chunks.push(new Float32Array(event.inputBuffer.getChannelData(0)));
    source.connect(node);
    node.connect(context.destination);
    const track = stream.getAudioTracks()[0];
    let ended = false;
    track.addEventListener("ended", () => (ended = true));
    const until = performance.now() + 1000 * seconds;
    while (performance.now() < until && !ended) {
      setStatus("transcribe", `recording... ${((until - performance.now()) / 1000).toFixed(1)} s left`);
      await sleep(100);
    }
    source.disconnect();
    node.disconnect();
    stopStream(stream);
    await context.close();
    const total = chunks.reduce((n, c) => n + c.length, 0);
    if (!total) throw new Error("the microphone sent no sound");
    const samples = new Float32Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      samples.set(chunk, offset);
      offset += chunk.length;
    }
    stats.seconds = total / context.sampleRate;
    return wavFile(samples, context.sampleRate);
  }

  async function transcribe(blob, name) {
    setStatus("transcribe", "transcribing...");
    $("transcribe-audio").src = URL.createObjectURL(blob);
    const form = formData({ file: named(blob, name), weights: $("transcribe-model").value });
    const result = await api("/api/transcribe", { method: "POST", body: form });
    $("transcribe-text").textContent = result.text || "(nothing heard)";
    $("transcribe-note").textContent = result.note;
    $("transcribe-spectrogram").src = result.spectrogram;
    setStatus("transcribe", `${result.seconds.toFixed(2)} s read`);
    showError("transcribe", null);
    stats.text = result.text;
  }

  async function run(work) {
    try {
      await work();
    } catch (err) {
      setStatus("transcribe", "");
      showError("transcribe", err);
    }
  }

  studio.pages.transcribe = {
    async start() {
      $("transcribe-record").onclick = () => run(async () => {
        $("transcribe-record").disabled = true;
        try {
          const blob = await record(Number($("transcribe-seconds").value));
          stats.recordings++;
          await transcribe(blob, "microphone.wav");
        } finally {
          $("transcribe-record").disabled = false;
        }
      });
      $("transcribe-file").onchange = (event) => run(async () => {
        const file = event.target.files[0];
        event.target.value = "";
        if (file) await transcribe(file, file.name);
      });
    },
  };
})();
