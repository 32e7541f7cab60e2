// neocog studio: the pieces every page shares (no framework, no build step).
"use strict";

const studio = (window.studio = { stats: {}, pages: {}, errors: [] });

function $(id) {
  return document.getElementById(id);
}

// Text from files or models (run names, class names), made safe to put in HTML.
function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// fetch -> parsed JSON (or a Blob for files); a 4xx/5xx answer throws its {"error"} line.
async function api(url, options = {}) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (err) {
    throw new Error(`no answer from the server (${err.message})`);
  }
  const type = response.headers.get("content-type") || "";
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    if (type.includes("json")) message = (await response.json()).error || message;
    const err = new Error(message);
    err.status = response.status;
    throw err;
  }
  return type.includes("json") ? response.json() : response.blob();
}

// A Blob sent as a file of this name.
function named(blob, filename) {
  return { blob, filename };
}

// {name: value | [values]} -> FormData; a value may be named(blob, filename).
function formData(fields) {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item && item.blob) data.append(name, item.blob, item.filename);
      else data.append(name, item);
    }
  }
  return data;
}

function showError(page, err) {
  const text = err ? err.message || String(err) : "";
  $(`${page}-error`).textContent = text;
  if (text) studio.errors.push({ page, status: err.status || 0, message: text });
}

function setStatus(page, text) {
  $(`${page}-status`).textContent = text;
}

// ---- model pickers: shipped models of the page's task, then the runs' checkpoints

studio.chosen = {}; // task -> the value the Runs page picked

async function fillModels(select) {
  const task = select.dataset.task;
  const keep = studio.chosen[task] || select.value;
  const rows = await api(`/api/models?task=${task}`);
  select.innerHTML = "";
  for (const row of rows) select.add(new Option(row.label, row.value));
  if (keep && rows.some((r) => r.value === keep)) select.value = keep;
}

async function refreshModels() {
  await Promise.all([...document.querySelectorAll("select.model")].map(fillModels));
}

function chooseModel(task, value) {
  studio.chosen[task] = value;
  return refreshModels().then(() => {
    for (const select of document.querySelectorAll(`select.model[data-task="${task}"]`)) {
      select.dispatchEvent(new Event("change"));
    }
  });
}

// ---- camera

async function openCamera(video) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new Error("this browser gives the page no camera (a page served over plain http " +
      "from another machine cannot have one)");
  }
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width: 640, height: 480 }, audio: false });
  video.srcObject = stream;
  await video.play();
  return stream;
}

function stopStream(stream) {
  if (stream) stream.getTracks().forEach((track) => track.stop());
}

// The video's current frame, its longer side scaled to `side` px, as a JPEG Blob.
function grabFrame(video, side, quality = 0.8) {
  const scale = side / Math.max(video.videoWidth, video.videoHeight);
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => canvas.toBlob((blob) => resolve({ blob, scale }), "image/jpeg", quality));
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---- pages: #name in the address shows one; a page's hide() stops its camera or loop

function showPage() {
  const name = location.hash.slice(1) || "classify";
  for (const [other, page] of Object.entries(studio.pages)) {
    if (other !== name && page.hide) page.hide();
  }
  for (const section of document.querySelectorAll(".page")) {
    section.classList.toggle("active", section.id === `page-${name}`);
  }
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("active", link.getAttribute("href") === `#${name}`);
  }
  const page = studio.pages[name];
  if (page && !page.started) {
    page.started = true;
    page.start().catch((err) => showError(name, err));
  } else if (page && page.show) {
    page.show();
  }
}

window.addEventListener("hashchange", showPage);
window.addEventListener("load", () => refreshModels().then(showPage));
