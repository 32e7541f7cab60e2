// Detect: webcam frames to the server over a WebSocket, at most one in flight (frames
// that arrive meanwhile are dropped, never queued); boxes drawn over the live video.
"use strict";

(() => {
  const D = { stream: null, socket: null, running: false, inFlight: false, sentAt: 0, scale: 1,
    imgsz: 320, video: null };
  const stats = (studio.stats.detect = { frames: 0, dropped: 0, fps: 0, latency_ms: [],
    detections: [], size: [0, 0], errors: 0, running: false });
  const answered = []; // performance.now() of the latest answers, for the FPS

  function overlay(target, width, height, detections, scale) {
    const canvas = $("detect-overlay");
    canvas.width = target.clientWidth;
    canvas.height = target.clientHeight;
    const ctx = canvas.getContext("2d");
    const k = canvas.width / width;
    ctx.lineWidth = 2;
    ctx.font = "14px sans-serif";
    for (const d of detections) {
      const [x1, y1, x2, y2] = d.box.map((v) => (v / scale) * k);
      ctx.strokeStyle = "#00e676";
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      ctx.fillStyle = "#00e676";
      ctx.fillText(`${d.label} ${d.score.toFixed(2)}`, x1 + 2, Math.max(12, y1 - 3));
    }
  }

  function list(detections) {
    $("detect-list").innerHTML = detections.map((d) =>
      `<li>${escapeHtml(d.label)} ${d.score.toFixed(2)} [${d.box.map((v) => Math.round(v)).join(", ")}]</li>`).join("");
  }

  function percentile(values, q) {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0;
  }

  function onAnswer(message) {
    if (message.ready) {
      D.imgsz = message.imgsz;
      D.running = stats.running = true;
      return;
    }
    D.inFlight = false;
    if (message.error) {
      stats.errors++;
      showError("detect", new Error(message.error));
      if (!D.running) stop();
      return;
    }
    const now = performance.now();
    stats.latency_ms.push(now - D.sentAt);
    if (stats.latency_ms.length > 600) stats.latency_ms.shift();
    answered.push(now);
    while (answered.length > 1 && now - answered[0] > 2000) answered.shift();
    stats.fps = answered.length > 1 ? (1000 * (answered.length - 1)) / (now - answered[0]) : 0;
    stats.frames++;
    // Boxes in the video's own pixels (the frame sent was scaled by D.scale).
    stats.detections = message.detections.map((d) => ({ ...d, box: d.box.map((v) => v / D.scale) }));
    const video = $("detect-video");
    stats.size = [video.videoWidth, video.videoHeight];
    overlay(video, video.videoWidth, video.videoHeight, message.detections, D.scale);
    list(stats.detections);
    const recent = stats.latency_ms.slice(-100);
    $("detect-stats").textContent = `${stats.fps.toFixed(1)} FPS end to end, latency median ` +
      `${percentile(recent, 0.5).toFixed(0)} ms, p95 ${percentile(recent, 0.95).toFixed(0)} ms, ` +
      `server ${message.server_ms.toFixed(0)} ms; ${stats.frames} frames, ${stats.dropped} dropped`;
  }

  // Called for every new camera frame: send it unless one is still being answered.
  async function onFrame() {
    if (!D.running && !D.socket) return;
    const video = $("detect-video");
    const socket = D.socket; // stop() may close it and clear D.socket while a frame encodes
    if (D.running && socket.readyState === WebSocket.OPEN) {
      if (D.inFlight) {
        stats.dropped++;
      } else {
        D.inFlight = true;
        D.sentAt = performance.now();
        const { blob, scale } = await grabFrame(video, D.imgsz);
        D.scale = scale;
        if (blob && socket.readyState === WebSocket.OPEN) socket.send(await blob.arrayBuffer());
        else D.inFlight = false; // no frame to send (no answer will come): try the next one
      }
    }
    if (D.stream) video.requestVideoFrameCallback(onFrame);
  }

  async function start() {
    stop();
    showError("detect", null);
    $("detect-image").hidden = true;
    const video = $("detect-video");
    video.hidden = false;
    video.loop = false;
    try {
      D.stream = await openCamera(video);
    } catch (err) {
      showError("detect", new Error(`camera: ${err.message}`));
      return;
    }
    D.stream.getVideoTracks()[0].addEventListener("ended", () => {
      stop();
      showError("detect", new Error("the camera stopped sending frames"));
    });
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const weights = encodeURIComponent($("detect-model").value);
    const socket = (D.socket = new WebSocket(`${scheme}://${location.host}/api/detect/ws?weights=${weights}`));
    socket.onmessage = (event) => onAnswer(JSON.parse(event.data));
    socket.onclose = () => {
      if (D.socket === socket) stop();
    };
    video.requestVideoFrameCallback(onFrame);
  }

  function stop() {
    D.running = stats.running = false;
    D.inFlight = false;
    stopStream(D.stream);
    D.stream = null;
    if (D.socket) {
      const socket = D.socket;
      D.socket = null;
      socket.close();
    }
  }

  async function upload(file) {
    stop();
    showError("detect", null);
    const form = formData({ file: named(file, file.name), weights: $("detect-model").value });
    const video = $("detect-video");
    const image = $("detect-image");
    if (file.type.startsWith("video/")) {
      $("detect-stats").textContent = "detecting every frame of the video...";
      const result = await api("/api/detect/video", { method: "POST", body: form });
      image.hidden = true;
      video.hidden = false;
      video.srcObject = null;
      video.src = URL.createObjectURL(file);
      video.loop = true;
      await video.play();
      $("detect-stats").textContent = `${result.frames.length} frames, ` +
        `${(1000 * result.seconds_per_frame).toFixed(0)} ms a frame on the server`;
      const draw = () => {
        if (video.srcObject || !video.src) return;
        const frame = Math.min(result.frames.length - 1, Math.floor(video.currentTime * result.fps));
        overlay(video, video.videoWidth, video.videoHeight, result.frames[frame] || [], 1);
        video.requestVideoFrameCallback(draw);
      };
      video.requestVideoFrameCallback(draw);
      return;
    }
    const result = await api("/api/detect", { method: "POST", body: form });
    video.hidden = true;
    image.hidden = false;
    image.src = URL.createObjectURL(file);
    await image.decode();
    overlay(image, result.size[0], result.size[1], result.detections, 1);
    list(result.detections);
    stats.detections = result.detections;
    $("detect-stats").textContent = `${result.detections.length} detections`;
  }

  studio.pages.detect = {
    async start() {
      $("detect-start").onclick = start;
      $("detect-stop").onclick = stop;
      $("detect-file").onchange = async (event) => {
        const file = event.target.files[0];
        if (file) await upload(file).catch((err) => showError("detect", err));
        event.target.value = "";
      };
      $("detect-model").onchange = () => {
        if (D.stream) start();
      };
    },
    hide: stop,
  };
})();
