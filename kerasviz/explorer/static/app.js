// kerasviz explore: the page. Plain JS, no libraries; everything it knows comes from the JSON API
// (techniques and their options from the package's registry via GET /api/techniques).
"use strict";

const $ = (id) => document.getElementById(id);
const state = { imageId: null, techniques: [], model: null, layers: [], grid: null, neuron: null,
  jobs: {}, live: false, stream: null, busy: false, resultUrl: null, styleTimer: null };

function setStatus(text, isError = false) {
  const node = $("status");
  node.textContent = text;
  node.classList.toggle("error", isError);
}

async function readError(response) {
  try {
    const body = await response.json();
    return body.error || response.statusText;
  } catch (e) {
    return response.statusText || `HTTP ${response.status}`;
  }
}

// One API call: JSON answers are parsed, PNG answers become object URLs; failures throw Error(reason).
async function api(path, { method = "GET", json = null, form = null } = {}) {
  const options = { method, headers: {} };
  if (json !== null) { options.body = JSON.stringify(json); options.headers["Content-Type"] = "application/json"; }
  if (form !== null) options.body = form;
  const response = await fetch(path, options);
  if (!response.ok) throw new Error(await readError(response));
  const kind = response.headers.get("Content-Type") || "";
  if (kind.startsWith("image/")) {
    return { url: URL.createObjectURL(await response.blob()), headers: response.headers };
  }
  return response.json();
}

function option(value, text) {
  const node = document.createElement("option");
  node.value = String(value);
  node.textContent = text;
  return node;
}

async function waitForModel() {
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch("/api/health");
      const body = await response.json();
      if (response.ok) return body;
      if (response.status !== 503) throw new Error(body.error || "the model failed to load");
    } catch (error) {
      if (attempt > 3 && !(error instanceof TypeError)) throw error;
    }
    setStatus(`Loading the model… ${attempt}s`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

// ---- set-up from the API ------------------------------------------------------------------------
async function init() {
  try {
    await waitForModel();
    const [model, techniques, layers, samples, folder] = await Promise.all([
      api("/api/model"), api("/api/techniques"), api("/api/layers"), api("/api/samples"), api("/api/folder")]);
    state.model = model;
    $("model-name").textContent = `${model.name} · ${model.input_size ? model.input_size.join("×") : "any size"} · ${model.layers} layers`;
    fillTechniques(techniques.techniques);
    fillClasses(model);
    fillLayers(layers);
    for (const name of samples.samples) $("sample-select").appendChild(option(name, name));
    folder.images.forEach((name, index) => $("folder-select").appendChild(option(index, name)));
    $("folder-field").hidden = folder.images.length === 0;
    setStatus("Ready: upload an image, pick a sample or use the webcam.");
    initStyles();
  } catch (error) {
    setStatus(`Error: ${error.message}`, true);
  }
}

function fillTechniques(techniques) {
  state.techniques = techniques;
  const select = $("technique-select");
  select.replaceChildren();
  for (const t of techniques) {
    const node = option(t.name, t.available ? t.title : `${t.title} (unavailable)`);
    node.disabled = !t.available;
    node.title = t.available ? t.summary : t.unavailable_reason;
    select.appendChild(node);
  }
  const choices = $("compare-choices");
  choices.replaceChildren();
  for (const t of techniques.filter((t) => t.available)) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = t.name;
    box.checked = ["gradcam", "gradcam_plus_plus", "saliency"].includes(t.name);
    label.append(box, " " + t.title);
    choices.appendChild(label);
  }
  select.addEventListener("change", showOptions);
  showOptions();
}

function currentTechnique() {
  return state.techniques.find((t) => t.name === $("technique-select").value);
}

// The chosen technique's options as form fields, built from the registry's Option entries.
function showOptions() {
  const t = currentTechnique();
  const holder = $("technique-options");
  holder.replaceChildren();
  if (!t) return;
  $("technique-summary").textContent = t.summary;
  $("class-select").disabled = !t.targeted;
  for (const o of t.options) {
    const label = document.createElement("label");
    label.className = "field";
    label.textContent = `${o.name} — ${o.help}`;
    let input;
    if (o.name === "layer") {
      input = document.createElement("select");
      input.appendChild(option("", `default (${state.model ? state.model.default_layer : ""})`));
      for (const name of state.layers) input.appendChild(option(name, name));
    } else if (o.choices) {
      input = document.createElement("select");
      for (const c of o.choices) input.appendChild(option(c, c));
      input.value = String(o.default);
    } else {
      input = document.createElement("input");
      input.type = o.type === "str" ? "text" : "number";
      if (o.type === "float") input.step = "any";
      input.placeholder = o.default === null ? "default" : String(o.default);
    }
    input.dataset.option = o.name;
    label.appendChild(input);
    holder.appendChild(label);
  }
}

function optionValues() {
  const values = {};
  for (const input of $("technique-options").querySelectorAll("[data-option]")) {
    if (input.value !== "") values[input.dataset.option] = input.value;
  }
  return values;
}

function fillClasses(model) {
  const select = $("class-select");
  select.replaceChildren(option("", "top class"));
  model.class_names.forEach((name, index) => select.appendChild(option(index, `${index}: ${name}`)));
}

function fillLayers(layers) {
  state.layers = layers.layers;
  const select = $("layer-select");
  select.replaceChildren(option("", "— choose a layer —"));
  for (const name of layers.layers) select.appendChild(option(name, name));
  select.addEventListener("change", () => showGrid());
}

// ---- images -------------------------------------------------------------------------------------
async function useImage(request) {
  setStatus("Decoding the image…");
  document.body.dataset.busy = "image";
  try {
    const answer = await api("/api/images", request);
    state.imageId = answer.image_id;
    $("base-image").src = `/api/images/${answer.image_id}`;
    $("result-image").removeAttribute("src");
    $("result-caption").textContent = "";
    $("download-button").disabled = true;
    await predict();
    if ($("layer-select").value) await showGrid();
    return true;
  } catch (error) {
    setStatus(`Error: ${error.message}`, true);
    return false;
  } finally {
    document.body.dataset.busy = "";
    document.body.dataset.imageId = state.imageId || "";
  }
}

async function predict() {
  if (!state.model.has_classifier) { setStatus("Image ready (headless model: no classes)."); return; }
  const answer = await api("/api/predict", { method: "POST", json: { image_id: state.imageId, top: 5 } });
  const list = $("predictions");
  list.replaceChildren();
  for (const c of answer.classes) {
    const item = document.createElement("li");
    item.dataset.index = c.index;
    item.textContent = `${c.label} ${(100 * c.probability).toFixed(1)}%`;
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${Math.max(1, Math.round(80 * c.probability))}px`;
    item.appendChild(bar);
    item.addEventListener("click", () => { $("class-select").value = String(c.index); explain(); });
    list.appendChild(item);
  }
  $("class-select").value = String(answer.classes[0].index);
  setStatus(`Predicted ${answer.classes[0].label} (${(100 * answer.classes[0].probability).toFixed(1)}%) in ${(1000 * answer.seconds).toFixed(0)} ms.`);
}

function needImage() {
  if (state.imageId) return true;
  setStatus("Error: choose an image first (upload, sample, folder or webcam).", true);
  return false;
}

// ---- explanations -------------------------------------------------------------------------------
async function explain() {
  if (!needImage()) return;
  const t = currentTechnique();
  if (!t) return;
  const started = performance.now();
  setStatus(`Running ${t.title}…`);
  try {
    const target = $("class-select").value;
    const answer = await api("/api/explain", { method: "POST", json: {
      image_id: state.imageId, technique: t.name, target: t.targeted && target !== "" ? Number(target) : null,
      options: optionValues(), view: "heatmap", colormap: $("colormap-select").value } });
    await showResult(answer.url);
    const explained = answer.headers.get("X-Kerasviz-Target");
    const label = explained && state.model.class_names[Number(explained)];
    $("result-caption").textContent = `${t.title}${label ? " · " + label : ""}`;
    for (const item of $("predictions").children) item.classList.toggle("chosen", item.dataset.index === explained);
    setStatus(`${t.title} done in ${Math.round(performance.now() - started)} ms (server ${(1000 * Number(answer.headers.get("X-Kerasviz-Seconds"))).toFixed(0)} ms).`);
  } catch (error) {
    setStatus(`Error: ${error.message}`, true);
  }
}

function showResult(url) {
  return new Promise((resolve) => {
    const image = $("result-image");
    image.onload = () => resolve();
    image.onerror = () => resolve();
    if (state.resultUrl) URL.revokeObjectURL(state.resultUrl);
    state.resultUrl = url;
    image.src = url;
    $("download-button").disabled = false;
  });
}

async function compare() {
  if (!needImage()) return;
  const names = [...$("compare-choices").querySelectorAll("input:checked")].map((box) => box.value);
  if (names.length < 2 || names.length > 4) { setStatus("Error: tick 2 to 4 techniques to compare.", true); return; }
  const holder = $("compare-results");
  holder.replaceChildren();
  const target = $("class-select").value;
  for (const name of names) {
    const t = state.techniques.find((x) => x.name === name);
    setStatus(`Comparing: ${t.title}…`);
    try {
      const answer = await api("/api/explain", { method: "POST", json: {
        image_id: state.imageId, technique: name, target: target === "" ? null : Number(target),
        view: "overlay", alpha: Number($("opacity").value), colormap: $("colormap-select").value } });
      const figure = document.createElement("figure");
      const image = document.createElement("img");
      image.src = answer.url;
      image.alt = t.title;
      const caption = document.createElement("figcaption");
      caption.textContent = t.title;
      figure.append(image, caption);
      holder.appendChild(figure);
    } catch (error) {
      setStatus(`Error (${t.title}): ${error.message}`, true);
      return;
    }
  }
  setStatus(`Compared ${names.length} techniques.`);
}

function download() {
  const base = $("base-image"), heat = $("result-image");
  const canvas = document.createElement("canvas");
  canvas.width = heat.naturalWidth;
  canvas.height = heat.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(base, 0, 0, canvas.width, canvas.height);
  context.globalAlpha = Number($("opacity").value);
  context.drawImage(heat, 0, 0, canvas.width, canvas.height);
  const link = document.createElement("a");
  link.download = `${$("technique-select").value}.png`;
  link.href = canvas.toDataURL("image/png");
  link.click();
}

// ---- layers and neurons -------------------------------------------------------------------------
async function showGrid() {
  const layer = $("layer-select").value;
  if (!layer || !needImage()) return;
  setStatus(`Activations of ${layer}…`);
  try {
    const answer = await api("/api/activations", { method: "POST", json: { image_id: state.imageId, layer } });
    state.grid = { layer, channels: answer.headers.get("X-Kerasviz-Channels").split(",").map(Number),
      columns: Number(answer.headers.get("X-Kerasviz-Columns")) };
    await new Promise((resolve) => { const g = $("activation-grid"); g.onload = resolve; g.onerror = resolve; g.src = answer.url; });
    setStatus(`${layer}: ${state.grid.channels.length} strongest channels in ${(1000 * Number(answer.headers.get("X-Kerasviz-Seconds"))).toFixed(0)} ms; click one.`);
  } catch (error) {
    setStatus(`Error: ${error.message}`, true);
  }
}

function gridClick(event) {
  if (!state.grid) return;
  const image = $("activation-grid");
  const box = image.getBoundingClientRect();
  const columns = state.grid.columns, rows = Math.ceil(state.grid.channels.length / columns);
  const column = Math.min(columns - 1, Math.floor(((event.clientX - box.left) / box.width) * columns));
  const row = Math.min(rows - 1, Math.floor(((event.clientY - box.top) / box.height) * rows));
  const channel = state.grid.channels[row * columns + column];
  if (channel !== undefined) openNeuron(state.grid.layer, channel);
}

async function openNeuron(layer, channel) {
  state.neuron = { layer, channel };
  $("neuron-title").textContent = `${layer} · channel ${channel}`;
  for (const id of ["neuron-activation", "neuron-guided", "neuron-feature", "neuron-patches"]) $(id).removeAttribute("src");
  try {
    setStatus(`Neuron ${channel}: activation map…`);
    const map = await api("/api/neuron", { method: "POST", json: { image_id: state.imageId, layer, channel, view: "activation" } });
    $("neuron-activation").src = map.url;
    setStatus(`Neuron ${channel}: guided backprop…`);
    const guided = await api("/api/neuron", { method: "POST", json: { image_id: state.imageId, layer, channel, view: "guided_backprop" } });
    $("neuron-guided").src = guided.url;
    setStatus(`Neuron ${channel} of ${layer}: feature visualization and top patches run in the background.`);
  } catch (error) {
    setStatus(`Error: ${error.message}`, true);
  }
  startJob("feature", layer, channel);
  if (!$("folder-field").hidden) startJob("patches", layer, channel);
}

async function startJob(kind, layer, channel) {
  const previous = state.jobs[kind];
  if (previous) await api(`/api/jobs/${previous}`, { method: "DELETE" }).catch(() => {});
  const bar = $(`${kind}-progress`), cancel = $(`${kind}-cancel`);
  try {
    const job = await api("/api/jobs", { method: "POST", json: { kind, layer, channel } });
    state.jobs[kind] = job.id;
    bar.hidden = false; cancel.hidden = false;
    for (;;) {
      const now = await api(`/api/jobs/${job.id}`);
      bar.value = now.progress;
      if (state.jobs[kind] !== job.id) return;
      if (now.state === "done") {
        const picture = await api(`/api/jobs/${job.id}/result`);
        $(kind === "feature" ? "neuron-feature" : "neuron-patches").src = picture.url;
        jobStatus(kind, `ready in ${now.seconds} s`);
        break;
      }
      if (now.state === "error") { jobStatus(kind, `error: ${now.message}`, true); break; }
      if (now.state === "cancelled") { jobStatus(kind, "cancelled"); break; }
      jobStatus(kind, `${now.message} (${Math.round(100 * now.progress)}%)`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } catch (error) {
    jobStatus(kind, `error: ${error.message}`, true);
  }
  bar.hidden = true; cancel.hidden = true;
}

// Long jobs report under their picture, so the main status line keeps the user's last action.
function jobStatus(kind, text, isError = false) {
  const node = $(`${kind}-status`);
  node.textContent = text;
  node.classList.toggle("error-text", isError);
}

async function cancelJob(kind) {
  const id = state.jobs[kind];
  if (id) await api(`/api/jobs/${id}`, { method: "DELETE" }).catch((error) => jobStatus(kind, `error: ${error.message}`, true));
}

// ---- webcam -------------------------------------------------------------------------------------
async function startCamera() {
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({ video: true });
    const video = $("camera");
    video.srcObject = state.stream;
    video.hidden = false;
    $("snap-button").disabled = false;
    $("live-check").disabled = false;
    setStatus("Webcam on: take a snapshot, or tick live.");
  } catch (error) {
    setStatus(`Error: no webcam (${error.message}).`, true);
  }
}

function frameBlob() {
  const video = $("camera");
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
}

async function snapshot() {
  const form = new FormData();
  form.append("image", await frameBlob(), "webcam.jpg");
  return useImage({ method: "POST", form });
}

// Live mode: one frame at a time, as fast as the server answers.
async function liveLoop() {
  while (state.live) {
    if (!(await snapshot())) break;
    await explain();
  }
}

// ---- style --------------------------------------------------------------------------------------
async function initStyles() {
  try {
    const answer = await api("/api/styles");
    const holder = $("style-sliders");
    answer.styles.forEach((name, index) => {
      const label = document.createElement("label");
      label.className = "field";
      label.textContent = name.replace(/_/g, " ");
      const slider = document.createElement("input");
      slider.type = "range"; slider.min = "0"; slider.max = "1"; slider.step = "0.05";
      slider.value = index === 0 ? "1" : "0";
      slider.dataset.style = String(index);
      slider.addEventListener("input", () => {
        if (!$("style-live").checked || !state.imageId) return;
        clearTimeout(state.styleTimer);
        state.styleTimer = setTimeout(stylize, 150);
      });
      label.appendChild(slider);
      holder.appendChild(label);
    });
  } catch (error) {
    $("style-sliders").textContent = `Style network unavailable: ${error.message}`;
  }
}

async function stylize() {
  if (!needImage()) return;
  const weights = [...$("style-sliders").querySelectorAll("input")].map((s) => Number(s.value));
  if (weights.every((w) => w === 0)) { setStatus("Error: raise at least one style slider.", true); return; }
  setStatus("Stylizing…");
  try {
    const answer = await api("/api/stylize", { method: "POST", json: { image_id: state.imageId, weights } });
    $("style-image").src = answer.url;
    setStatus("Stylized.");
  } catch (error) {
    setStatus(`Error: ${error.message}`, true);
  }
}

// ---- wiring -------------------------------------------------------------------------------------
window.addEventListener("DOMContentLoaded", () => {
  $("image-input").addEventListener("change", () => {
    const file = $("image-input").files[0];
    if (!file) return;
    const form = new FormData();
    form.append("image", file, file.name);
    useImage({ method: "POST", form });
  });
  $("sample-select").addEventListener("change", () => {
    if ($("sample-select").value) useImage({ method: "POST", json: { sample: $("sample-select").value } });
  });
  $("folder-select").addEventListener("change", () => {
    if ($("folder-select").value !== "") useImage({ method: "POST", json: { folder: Number($("folder-select").value) } });
  });
  $("run-button").addEventListener("click", explain);
  $("compare-button").addEventListener("click", compare);
  $("download-button").addEventListener("click", download);
  $("opacity").addEventListener("input", () => { $("result-image").style.opacity = $("opacity").value; });
  $("activation-grid").addEventListener("click", gridClick);
  $("feature-cancel").addEventListener("click", () => cancelJob("feature"));
  $("patches-cancel").addEventListener("click", () => cancelJob("patches"));
  $("camera-button").addEventListener("click", startCamera);
  $("snap-button").addEventListener("click", snapshot);
  $("live-check").addEventListener("change", () => { state.live = $("live-check").checked; if (state.live) liveLoop(); });
  $("style-button").addEventListener("click", stylize);
  init();
});
