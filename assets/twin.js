/* Madina Twin: the small module that owns the deck.gl canvas.
 *
 * Layers arrive as a JSON manifest (pydeck props + column descriptors) and one binary buffer
 * each, fetched from this server; columns become deck.gl binary attributes without copying.
 * Dash drives it through clientside callbacks (namespace "madina"); clicks go back to Dash
 * through dash_clientside.set_props. Nothing here talks to any host but the page's own.
 */
(function () {
  "use strict";

  const TYPED = {
    float32: Float32Array, uint8: Uint8Array, uint16: Uint16Array,
    uint32: Uint32Array, int32: Int32Array,
  };

  const state = {
    deck: null,
    layers: {},        // id -> {manifest, blob, data, layer}
    order: [],         // drawing order
    visible: null,     // Set of visible ids (null = manifest defaults)
    ready: false,
    loadStartedAt: 0,
    firstRenderMs: null,
    renders: 0,
    loading: null,
    error: null,
    zoom: null,
    hex: null,         // telemetry hexagons: {manifest, blob, choice, res, frame, base}
    hexFrames: {},     // the frame of each panel's time-lapse slider (HEX_SLIDERS), by kind
    lampMode: "technology",
    lampColors: null,  // {manifest, blob} of the lamp colour modes, fetched on first use
    overlays: {},      // name -> function(layers, shownIds): adds layers after a layer's own
    viewListeners: {}, // name -> function(viewState): told when the camera moves
    tooltips: {},      // layer id -> function(index): tooltip text of layers drawn elsewhere
  };

  /* Telemetry hexagons: resolution by zoom when the control says "auto" (coarse cells when the
   * whole city shows, fine ones in a neighbourhood). */
  const HEX_ZOOM_STEPS = [[11, 7], [12.5, 8], [14, 9]];
  const HEX_ALPHA = 190;

  function hexResFor(zoom) {
    for (const [below, res] of HEX_ZOOM_STEPS) if (zoom < below) return res;
    return 10;
  }

  /* The manifest's resolution nearest ``res`` from below (a scenario has 7-9, telemetry 7-10). */
  function fitRes(manifest, res) {
    const offered = Object.keys(manifest.resolutions).map(Number).sort((a, b) => a - b);
    const below = offered.filter((r) => r <= res);
    return below.length ? below[below.length - 1] : offered[0];
  }

  function typed(blob, d) {
    return new TYPED[d.dtype](blob, d.offset, d.count);
  }

  function binaryData(manifest, blob) {
    const data = {length: manifest.length, attributes: {}};
    if (manifest.startIndices) data.startIndices = typed(blob, manifest.startIndices);
    for (const [name, d] of Object.entries(manifest.attributes)) {
      const attribute = {value: typed(blob, d), size: d.size};
      if (d.normalized) attribute.normalized = true;
      data.attributes[name] = attribute;
    }
    return data;
  }

  function fieldValue(entry, name, index) {
    const d = entry.manifest.fields[name];
    if (!d) return "";
    entry.fieldArrays = entry.fieldArrays || {};
    const values = entry.fieldArrays[name] || (entry.fieldArrays[name] = typed(entry.blob, d));
    const raw = values[index];
    if (d.kind === "sequence") return d.prefix + String(raw).padStart(d.width, "0");
    if (d.kind === "dictionary") return d.values[raw];
    if (d.kind === "bool") return raw ? "yes" : "no";
    if (Number.isNaN(raw)) return "n/a";
    if (Number.isInteger(raw) && Math.abs(raw) >= 10000) return raw.toLocaleString("en-US");
    return Number.isInteger(raw) ? String(raw) : String(Math.round(raw * 10) / 10);
  }

  function rowFields(entry, index) {
    const out = {};
    for (const name of Object.keys(entry.manifest.fields)) out[name] = fieldValue(entry, name, index);
    return out;
  }

  function fillTemplate(entry, index) {
    return entry.manifest.tooltip.replace(/\{(\w+)\}/g, (_, name) => fieldValue(entry, name, index));
  }

  function hexArrays() {
    const h = state.hex, key = String(h.res), r = h.manifest.resolutions[key];
    h.arrays = h.arrays || {};
    if (!h.arrays[key]) h.arrays[key] = {values: typed(h.blob, r.values), counts: typed(h.blob, r.counts)};
    return h.arrays[key];
  }

  function hexValue(index) {
    const h = state.hex, r = h.manifest.resolutions[String(h.res)], arrays = hexArrays();
    const at = h.frame * r.cells.length + index;
    return {cell: r.cells[index], value: arrays.values[at], count: arrays.counts[at]};
  }

  function formatNumber(value) {
    if (Number.isNaN(value)) return "no reading";
    const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
    return value.toLocaleString("en-US", {maximumFractionDigits: digits});
  }

  function hexTooltip(index) {
    const h = state.hex, m = h.manifest, v = hexValue(index);
    // an H3 index's second hex digit is its resolution: a cell coarser than the view's is one
    // that small-count suppression merged (fewer than minContributors meters below it)
    const res = parseInt(v.cell[1], 16);
    const merged = res < h.res && m.minContributors
      ? `\nmerged: fewer than ${m.minContributors} meters in its finer cells` : "";
    return `${m.title}\n${formatNumber(v.value)} ${m.unit} · ${m.times[h.frame]}\n` +
      `H3 cell ${v.cell} (resolution ${res})\n${v.count.toLocaleString("en-US")} ` +
      (m.countLabel || "readings") + merged;
  }

  function tooltip(info) {
    if (!info || !info.layer || info.index < 0) return null;
    const style = {whiteSpace: "pre-line"};
    if (info.layer.id === "hexagons" && state.hex) {
      return {text: hexTooltip(info.index), className: "twin-tooltip", style};
    }
    const entry = state.layers[info.layer.id];
    const extra = state.tooltips[info.layer.id];
    if (extra && !entry) return {text: extra(info.index), className: "twin-tooltip", style};
    if (!entry || !entry.manifest.tooltip) return null;
    const text = fillTemplate(entry, info.index) + (extra ? "\n" + extra(info.index) : "");
    return {text, className: "twin-tooltip", style};
  }

  /* A click is a press and release within CLICK_SLOP_PX, picked where it was released.
   * deck.gl's own tap recogniser drops clicks when a frame or a pick takes longer than its
   * 250 ms window (software rendering, big cities); this works at any frame rate. */
  const CLICK_SLOP_PX = 5;

  function listenForClicks(container) {
    let pressed = null;
    container.addEventListener("pointerdown", (event) => {
      pressed = event.button === 0 ? {x: event.clientX, y: event.clientY} : null;
    });
    container.addEventListener("pointerup", (event) => {
      const start = pressed;
      pressed = null;
      if (!start || !state.deck) return;
      if (Math.hypot(event.clientX - start.x, event.clientY - start.y) > CLICK_SLOP_PX) return;
      const rect = state.deck.getCanvas().getBoundingClientRect();
      const x = event.clientX - rect.left, y = event.clientY - rect.top;
      onClick(state.deck.pickObject({x, y, radius: 2}));
    });
  }

  function onClick(info) {
    if (!info || !info.layer || info.index < 0) return;
    const entry = state.layers[info.layer.id];
    if (!entry) return;
    const selection = {
      layer: info.layer.id,
      index: info.index,
      id: entry.manifest.idField ? fieldValue(entry, entry.manifest.idField, info.index) : null,
      fields: rowFields(entry, info.index),
    };
    state.lastClick = selection;
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props("selected-feature", {data: selection});
    }
  }

  /* deck.gl's JSON converter (pydeck props -> layer instances), made once. */
  function jsonConverter() {
    state.converter = state.converter || new deck.JSONConverter({
      configuration: new deck.JSONConfiguration({classes: deck}),
    });
    return state.converter;
  }

  function makeLayer(entry, converter) {
    const converted = converter.convert({layers: [entry.manifest.deck]}).layers[0];
    return converted.clone({data: entry.data});
  }

  function visibleIds() {
    if (state.visible) return state.visible;
    return new Set(state.bundle.layers.filter((m) => m.visible).map((m) => m.id));
  }

  function hexColor(value, breaks, colors) {
    if (Number.isNaN(value)) return [0, 0, 0, 0];
    for (let k = 0; k < breaks.length; k++) if (value <= breaks[k]) return colors[k];
    return colors[colors.length - 1];
  }

  function hexLayer() {
    const h = state.hex;
    if (!h || !h.blob || !h.base) return null;
    const r = h.manifest.resolutions[String(h.res)];
    if (!r) return null;
    const values = hexArrays().values;
    const n = r.cells.length, frame = h.frame;
    const colors = r.legend.map((e) => [e.color[0], e.color[1], e.color[2], HEX_ALPHA]);
    return h.base.clone({
      data: r.cells,
      getHexagon: (cell) => cell,
      getFillColor: (_, {index}) => hexColor(values[frame * n + index], r.breaks, colors),
      updateTriggers: {getFillColor: [h.manifest.variable, h.res, frame]},
    });
  }

  function redraw() {
    if (!state.deck) return;
    const shown = visibleIds();
    const layers = state.order
      .filter((id) => state.layers[id] && state.layers[id].layer)
      .map((id) => state.layers[id].layer.clone({visible: shown.has(id)}));
    const hex = hexLayer();
    if (hex) {  // on the ground, above districts and roads, under buildings and lamps
      const at = layers.findIndex((layer) => layer.id === "buildings");
      layers.splice(at < 0 ? layers.length : at, 0, hex);
    }
    for (const overlay of Object.values(state.overlays)) overlay(layers, shown);
    state.deck.setProps({layers});
  }

  function hexStatus() {
    const h = state.hex;
    if (!h || !h.blob) return "";
    const r = h.manifest.resolutions[String(h.res)];
    const withheld = h.manifest.minContributors && !r.cells.length
      ? ` (withheld: none has ${h.manifest.minContributors} meters or more)` : "";
    return `${h.manifest.times[h.frame]} (${h.manifest.timeZone}) · H3 resolution ${h.res} · ` +
      `${r.cells.length.toLocaleString("en-US")} cells${withheld}`;
  }

  function announceHex() {
    if (state.lampMode === "dimming" && state.lampColors && state.lampColors.blob) paintLamps();
    if (!window.dash_clientside || !window.dash_clientside.set_props) return;
    const h = state.hex;
    const view = {res: h && h.blob ? h.res : null, variable: h ? h.manifest.variable : null,
                  url: h ? h.manifest.blobUrl : null};
    // the legend (server-rendered) changes with the resolution or the layer, not with time
    if (!state.hexView || state.hexView.res !== view.res || state.hexView.url !== view.url) {
      state.hexView = view;
      window.dash_clientside.set_props("hex-view", {data: view});
    }
    window.dash_clientside.set_props("hex-status", {children: hexStatus()});
  }

  /* The hexagons' frames on the twin's time control, with the slider that selects them. */
  const HEX_SLIDERS = {scenario: "ls-frame", network: "ns-frame", library: "sc-frame"};

  function timeTarget(manifest, frame) {
    if (!window.madinaTime || !manifest.epochs) return;
    window.madinaTime.register("hexagons", {
      epochs: manifest.epochs, labels: manifest.times, frame, timeZone: manifest.timeZone,
      slider: HEX_SLIDERS[manifest.kind] || "hex-time", title: manifest.title,
    });
  }

  /* Show ``manifest``'s variable (null: none) at resolution ``choice`` ("auto" or 7-10) and
   * hour ``frame``. Columns are fetched once per variable; time and resolution switch here. */
  function showHexagons(manifest, choice, frame) {
    const previous = state.hex;
    if (!manifest) {
      state.hex = null;
      if (window.madinaTime) window.madinaTime.unregister("hexagons");
      if (window.madinaSplit) window.madinaSplit.follow(null);
      redraw();
      announceHex();
      return "";
    }
    // the same columns, loaded or on their way (two callbacks may show one new time-lapse)
    const same = previous && previous.manifest.blobUrl === manifest.blobUrl
      && (previous.blob || previous.loading);
    const h = same ? previous : {manifest, blob: null, arrays: null, base: null};
    h.choice = choice;
    h.frame = Math.max(0, Math.min(manifest.times.length - 1, frame || 0));
    h.res = fitRes(manifest, choice === "auto" ? hexResFor(state.zoom || 12) : Number(choice));
    state.hex = h;
    timeTarget(manifest, h.frame);
    if (window.madinaSplit) window.madinaSplit.follow(manifest);
    if (same && !h.blob) return "Loading the day's telemetry…";  // drawn when they arrive
    if (same) {
      redraw();
      announceHex();
      return hexStatus();
    }
    h.loading = fetch(manifest.blobUrl).then(async (response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
      const blob = await response.arrayBuffer();
      if (blob.byteLength !== manifest.byteLength) {
        throw new Error(`got ${blob.byteLength} bytes, expected ${manifest.byteLength}`);
      }
      if (state.hex !== h) return;  // another variable was chosen meanwhile
      h.base = jsonConverter().convert({layers: [manifest.deck]}).layers[0];
      h.blob = blob;
      redraw();
      announceHex();
    }).catch((err) => {
      h.loading = null;  // a later choice of the same variable tries again
      console.warn("Madina Twin could not load the telemetry hexagons:", err);
      window.dash_clientside.set_props("hex-status", {children: "Telemetry failed to load: " + err});
    });
    return "Loading the day's telemetry…";
  }

  function onViewStateChange({viewState}) {
    state.viewState = viewState;
    state.zoom = viewState.zoom;
    for (const listener of Object.values(state.viewListeners)) listener(viewState);
    const h = state.hex;
    if (h && h.blob && h.choice === "auto" && fitRes(h.manifest, hexResFor(viewState.zoom)) !== h.res) {
      h.res = fitRes(h.manifest, hexResFor(viewState.zoom));
      redraw();
      announceHex();
    }
  }

  /* Lamp colours: a mode's uint8 RGBA column swapped into the lamp layer; "dimming" is
   * coloured here from the playing scenario's level of each lamp's group at the frame. */
  function dimmingColumn(entry) {
    const h = state.hex, d = state.lampColors.manifest.dimming;
    const n = entry.manifest.length, out = new Uint8Array(n * 4);
    if (!h || !h.blob || h.manifest.kind !== "scenario") return null;
    const groups = typed(h.blob, h.manifest.lampGroups);
    const lit = h.manifest.lit[h.frame], levels = h.manifest.levels[h.frame];
    const palette = levels.map((level) => {
      if (!(lit > 0)) return d.off;
      for (const [lowest, color] of d.classes) if (level >= lowest) return color;
      return d.classes[d.classes.length - 1][1];
    });
    for (let i = 0; i < n; i++) out.set(palette[groups[i]], i * 4);
    return out;
  }

  function paintLamps() {
    const entry = state.layers.lamps, colors = state.lampColors;
    if (!entry || !colors) return "";
    let value, note = "";
    if (state.lampMode === "dimming") {
      value = dimmingColumn(entry);
      if (!value) note = "Run a lighting scenario to see its dimming; showing technology.";
    } else if (colors.manifest.modes[state.lampMode]) {
      value = typed(colors.blob, colors.manifest.modes[state.lampMode].color);
    }
    if (!value) value = typed(colors.blob, colors.manifest.modes.technology.color);
    const attributes = Object.assign({}, entry.data.attributes, {
      getFillColor: {value, size: 4, normalized: true},
    });
    entry.data = Object.assign({}, entry.data, {attributes});
    entry.layer = entry.layer.clone({data: entry.data});
    redraw();
    return note;
  }

  /* colors: {url, manifest} of the lamp colour modes (in the twin bundle). */
  async function colorLamps(colors, mode) {
    state.lampMode = mode || "technology";
    if (!state.lampColors) {
      state.lampColors = {pending: true};
      const response = await fetch(colors.url);
      if (!response.ok) throw new Error(`lamp colours: HTTP ${response.status}`);
      const blob = await response.arrayBuffer();
      if (blob.byteLength !== colors.manifest.byteLength) {
        throw new Error(`lamp colours: got ${blob.byteLength} bytes, expected ${colors.manifest.byteLength}`);
      }
      state.lampColors = {manifest: colors.manifest, blob};
    }
    if (state.lampColors.pending) return "";
    if (state.loading) await state.loading;
    return paintLamps();
  }

  /* Colour modes of another layer (the water pipes): spec {layer, accessor, url, manifest};
   * a mode's uint8 RGBA column (one value per vertex) swapped into the layer's accessor.
   * The colours are fetched only once the layer is shown in a mode other than its own. */
  async function colorLayer(spec, mode) {
    state.layerColors = state.layerColors || {};
    const colors = state.layerColors[spec.layer] || (state.layerColors[spec.layer] = {});
    colors.mode = mode;
    colors.spec = spec;
    if (state.layers[spec.layer]) await paintLayer(spec.layer);
  }

  function colorsBlob(colors) {
    colors.blob = colors.blob || fetch(colors.spec.url).then(async (response) => {
      const spec = colors.spec;
      if (!response.ok) throw new Error(`${spec.layer} colours: HTTP ${response.status}`);
      const blob = await response.arrayBuffer();
      if (blob.byteLength !== spec.manifest.byteLength) {
        throw new Error(`${spec.layer} colours: got ${blob.byteLength} bytes, expected ${spec.manifest.byteLength}`);
      }
      return blob;
    });
    return colors.blob;
  }

  /* Paint a fetched layer in its chosen colour mode (the layer's own colours are the first). */
  async function paintLayer(layerId) {
    const colors = state.layerColors[layerId], mode = colors.mode, spec = colors.spec;
    let entry = state.layers[layerId];
    if (!entry) return;
    if (!entry.colorMode && mode === Object.keys(spec.manifest.modes)[0]) {
      entry.colorMode = mode;  // as built: nothing to fetch
      return;
    }
    const blob = await colorsBlob(colors);
    entry = state.layers[layerId];
    if (colors.mode !== mode) return;  // a later choice wins
    const d = spec.manifest.modes[mode] || Object.values(spec.manifest.modes)[0];
    const attributes = Object.assign({}, entry.data.attributes, {
      [spec.accessor]: {value: typed(blob, d.color), size: 4, normalized: true},
    });
    entry.data = Object.assign({}, entry.data, {attributes});
    entry.layer = entry.layer.clone({data: entry.data});
    entry.colorMode = mode;
    redraw();
  }

  /* Test and tooling hook: page position of (lon, lat) in the current view. */
  function project(lon, lat) {
    if (!state.deck) return null;
    const [x, y] = state.deck.getViewports()[0].project([lon, lat]);
    const rect = state.deck.getCanvas().getBoundingClientRect();
    return [rect.left + x, rect.top + y];
  }

  function mount(container, view) {
    if (state.deck) return state.deck;
    const lighting = new deck.LightingEffect({
      ambient: new deck.AmbientLight({color: [255, 255, 255], intensity: 1.1}),
      sun: new deck.DirectionalLight({color: [255, 244, 230], intensity: 1.6, direction: [-3, -6, -4]}),
    });
    state.zoom = view.zoom;
    state.deck = new deck.Deck({
      parent: container,
      initialViewState: {
        longitude: view.center[0], latitude: view.center[1],
        zoom: view.zoom, pitch: view.pitch, bearing: view.bearing, maxPitch: 75,
      },
      controller: {dragRotate: true, touchRotate: true},
      effects: [lighting],
      getTooltip: tooltip,
      onViewStateChange,
      onAfterRender: () => {
        state.renders += 1;  // frames drawn (benchmarks wait on it)
        if (state.capture) state.capture(state.deck.getCanvas());
        if (state.ready && state.firstRenderMs === null) {
          state.firstRenderMs = performance.now() - state.loadStartedAt;
        }
      },
      layers: [],
    });
    listenForClicks(container);
    return state.deck;
  }

  async function fetchLayer(manifest) {
    const response = await fetch(state.bundle.blobUrl.replace("{layer}", manifest.id));
    if (!response.ok) throw new Error(`layer ${manifest.id}: HTTP ${response.status}`);
    const blob = await response.arrayBuffer();
    if (blob.byteLength !== manifest.byteLength) {
      throw new Error(`layer ${manifest.id}: got ${blob.byteLength} bytes, expected ${manifest.byteLength}`);
    }
    const entry = {manifest, blob, data: binaryData(manifest, blob)};
    entry.layer = makeLayer(entry, jsonConverter());
    state.layers[manifest.id] = entry;
    if (state.layerColors && state.layerColors[manifest.id]) await paintLayer(manifest.id);
  }

  /* A layer's columns are fetched the first time it is shown: the page opens with the
   * visible layers only, the networks and the rest arrive when ticked. */
  function ensureLayers(ids) {
    state.fetching = state.fetching || {};
    const jobs = state.bundle.layers
      .filter((m) => ids.has(m.id))
      .map((m) => {
        if (state.layers[m.id]) return null;
        if (!state.fetching[m.id]) state.fetching[m.id] = fetchLayer(m);
        return state.fetching[m.id];
      })
      .filter(Boolean);
    return Promise.all(jobs);
  }

  async function load(bundle) {
    state.loadStartedAt = performance.now();
    state.bundle = bundle;
    state.order = bundle.layers.map((m) => m.id);
    await ensureLayers(visibleIds());
    state.ready = true;
    redraw();
  }

  function layerFailed(err) {
    console.warn("Madina Twin could not load a layer:", err);
    window.dash_clientside.set_props("twin-status", {children: "Layer failed to load: " + err});
  }

  /* Test and tooling hook: page position of a row's first vertex/position. */
  function screenPosition(layerId, index) {
    const entry = state.layers[layerId];
    if (!entry || !state.deck) return null;
    const m = entry.manifest;
    const key = m.attributes.getPosition ? "getPosition" : (m.attributes.getPath ? "getPath" : "getPolygon");
    const coords = typed(entry.blob, m.attributes[key]);
    let lon, lat;
    if (key === "getPolygon") {  // centre of the ring (its vertices' mean, closing vertex excluded)
      const starts = typed(entry.blob, m.startIndices);
      const first = starts[index], last = starts[index + 1] - 1;
      lon = 0; lat = 0;
      for (let v = first; v < last; v++) { lon += coords[v * 2]; lat += coords[v * 2 + 1]; }
      lon /= Math.max(1, last - first); lat /= Math.max(1, last - first);
    } else {
      const vertex = m.startIndices ? typed(entry.blob, m.startIndices)[index] : index;
      lon = coords[vertex * 2]; lat = coords[vertex * 2 + 1];
    }
    const viewport = state.deck.getViewports()[0];
    const [x, y] = viewport.project([lon, lat]);
    const rect = state.deck.getCanvas().getBoundingClientRect();
    return [rect.left + x, rect.top + y];
  }

  /* Test and tooling hook: a row of ``layerId`` that deck.gl picks at its own screen position
     (so it is drawn and not hidden), as {index, x, y} in page pixels, or null. */
  function findPickable(layerId, maxTries) {
    const entry = state.layers[layerId];
    if (!entry || !state.deck) return null;
    const rect = state.deck.getCanvas().getBoundingClientRect();
    const n = entry.manifest.length;
    const tries = Math.min(n, maxTries || 4000);
    const deadline = performance.now() + 60000;  // each pick draws a frame: bound the search
    for (let k = 0; k < tries && performance.now() < deadline; k++) {
      const index = Math.floor((k * 2654435761) % n);
      const pos = screenPosition(layerId, index);
      if (!pos) continue;
      // whole pixels, as a real pointer gives; the feature must be the top one there
      const x = Math.round(pos[0] - rect.left), y = Math.round(pos[1] - rect.top);
      // away from the edges and from the time bar along the bottom (a pointer there hits it)
      if (x < 40 || y < 40 || x > rect.width - 40 || y > rect.height - 90) continue;
      const picked = state.deck.pickObject({x, y, radius: 0});
      if (picked && picked.layer && picked.layer.id === layerId && picked.index === index) {
        return {index, x: rect.left + x, y: rect.top + y};
      }
    }
    return null;
  }

  /* The next frame a deck draws, as an image: read inside its after-render hook, while the
   * drawing buffer still holds the frame (WebGL clears it once it is shown). */
  function captureFrame(target, hook) {
    return new Promise((resolve) => {
      hook((canvas) => {
        hook(null);
        const copy = Object.assign(document.createElement("canvas"),
                                   {width: canvas.width, height: canvas.height});
        copy.getContext("2d").drawImage(canvas, 0, 0);
        resolve(copy);
      });
      target.redraw(true);
    });
  }

  /* The current view as a PNG data URL: the map (both maps in a split view) and a caption with
   * the time shown and what the hexagons are. */
  async function snapshot() {
    const maps = [await captureFrame(state.deck, (fn) => { state.capture = fn; })];
    const split = window.madinaSplit && window.madinaSplit.split;
    if (split && split.open) {
      maps.push(await captureFrame(split.deck, (fn) => { split.capture = fn; }));
    }
    const captionH = 28 * (window.devicePixelRatio || 1);
    const width = maps.reduce((w, c) => w + c.width, 0);
    const height = Math.max(...maps.map((c) => c.height)) + captionH;
    const out = Object.assign(document.createElement("canvas"), {width, height});
    const ctx = out.getContext("2d");
    let x = 0;
    for (const c of maps) { ctx.drawImage(c, x, 0); x += c.width; }
    ctx.fillStyle = "#14324a";
    ctx.fillRect(0, height - captionH, width, captionH);
    ctx.fillStyle = "#ffffff";
    ctx.font = `${Math.round(captionH * 0.5)}px sans-serif`;
    const clock = document.getElementById("tb-clock");
    const parts = [state.bundle ? `Madina Twin · ${state.bundle.city}` : "Madina Twin"];
    if (clock && clock.textContent && window.madinaTime.time.active) parts.push(clock.textContent);
    else if (state.hex) parts.push(state.hex.manifest.title);
    ctx.fillText(parts.join(" · "), captionH * 0.4, height - captionH * 0.3);
    return out.toDataURL("image/png");
  }

  /* True once the hexagons show ``frame`` with their columns in (both maps' in a split view). */
  function hexShows(frame) {
    const h = state.hex;
    if (!h || !h.blob || !h.base || h.frame !== frame) return false;
    const split = window.madinaSplit && window.madinaSplit.split;
    return !h.manifest.split || Boolean(split && split.open && split.blob);
  }

  /* Resolves once every map has drawn a fresh frame: what a screenshot then films. */
  function drawn() {
    const waits = [captureFrame(state.deck, (fn) => { state.capture = fn; })];
    const split = window.madinaSplit && window.madinaSplit.split;
    if (split && split.open) waits.push(captureFrame(split.deck, (fn) => { split.capture = fn; }));
    return Promise.all(waits).then(() => true);
  }

  /* The query of a link to this view (layers, camera, the library's mapped run, its variable
   * and split partner); the time is the caller's to add. */
  function viewQuery(layers, mapped, variable) {
    const v = state.viewState || {};
    const round = (x, digits) => Number(x || 0).toFixed(digits);
    const params = new URLSearchParams();
    params.set("layers", (layers || []).join(","));
    if (v.longitude !== undefined) {
      params.set("view", [round(v.longitude, 5), round(v.latitude, 5), round(v.zoom, 2),
                          round(v.pitch, 1), round(v.bearing, 1)].join(","));
    }
    if (mapped) params.set("scenario", mapped);
    if (mapped && variable) params.set("variable", variable);
    const split = state.hex && state.hex.manifest.split;
    if (mapped && split && split.id) params.set("split", split.id);
    return params;
  }

  /* ``figure`` with its playback cursor (its first shape, pages.charts) at ``frame``. */
  function withCursor(figure, frame) {
    const shapes = (figure.layout.shapes || []).map((shape, i) => (i === 0 ? Object.assign({}, shape, {x0: frame, x1: frame}) : shape));
    return Object.assign({}, figure, {layout: Object.assign({}, figure.layout, {shapes})});
  }

  window.madinaTwin = {
    state, mount, load, redraw, screenPosition, findPickable, fieldValue, project, hexResFor,
    typed, formatNumber, ensureLayers, hexColor, HEX_ALPHA, snapshot, hexShows, drawn, viewQuery,
  };

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    madina: {
      /* bundle: {view, blobUrl, layers: [manifest]}; shown: list of visible layer ids. */
      render: function (bundle, shown) {
        const container = document.getElementById("twin-map");
        if (!bundle || !container) return window.dash_clientside.no_update;
        state.visible = new Set(shown || []);
        if (!state.deck) {
          mount(container, bundle.view);
          state.loading = load(bundle).catch((err) => {
            state.error = String(err);
            console.warn("Madina Twin could not load its layers:", err);
            window.dash_clientside.set_props("twin-status", {children: "Layers failed to load: " + err});
          }).then(() => {
            if (!state.error) {
              window.dash_clientside.set_props("twin-status", {children: ""});
            }
          });
          return "Loading layers…";
        }
        redraw();
        if (state.bundle) {
          const shownNow = state.visible;
          ensureLayers(shownNow).then(redraw).catch(layerFailed);
        }
        return window.dash_clientside.no_update;
      },
      /* manifest: hexagon manifest or null; choice: "auto" or "7".."10"; frame: hour of the
       * telemetry day; scenarioFrame: frame of a scenario's time-lapse (manifest.kind). */
      hexagons: function (manifest, choice, frame) {
        if (!state.deck) return window.dash_clientside.no_update;
        const kind = manifest && manifest.kind;
        if (kind in HEX_SLIDERS) return showHexagons(manifest, choice, state.hexFrames[kind] || 0);
        return showHexagons(manifest, choice, frame);
      },
      /* A time-lapse slider moved (the lighting, networks or library panel's, whichever a role
       * has): remember its frame, and show it if its time-lapse is the one on the map. */
      hexagonFrame: function (frame, manifest, choice) {
        const triggered = window.dash_clientside.callback_context.triggered[0];
        const slider = triggered ? triggered.prop_id.split(".")[0] : "";
        const kind = Object.keys(HEX_SLIDERS).find((k) => HEX_SLIDERS[k] === slider);
        if (!kind) return window.dash_clientside.no_update;
        state.hexFrames[kind] = frame || 0;
        if (!state.deck || !manifest || manifest.kind !== kind) {
          return window.dash_clientside.no_update;
        }
        return showHexagons(manifest, choice, state.hexFrames[kind]);
      },
      /* A link to this view: layers, camera, the library's mapped run and variable, time. */
      shareLink: function (_clicks, layers, mapped, variable) {
        const params = viewQuery(layers, mapped, variable);
        const clock = window.madinaTime && window.madinaTime.time.t;
        if (clock !== null && clock !== undefined) {
          params.set("t", new Date(clock).toISOString().replace(".000Z", "Z"));
        }
        const url = `${window.location.origin}${window.location.pathname}?${params.toString()}`;
        window.history.replaceState(null, "", url);
        return url;
      },
      /* What a video export films: this view's link query (the frames are chosen apart). */
      videoView: function (clicks, layers, mapped, variable) {
        if (!clicks) return window.dash_clientside.no_update;
        const map = document.getElementById("twin-map");
        return {query: viewQuery(layers, mapped, variable).toString(), clicks,
                shown: map ? [map.clientWidth, map.clientHeight] : null};
      },
      /* Download the current view as a PNG. */
      savePng: function (clicks) {
        if (!clicks || !state.deck) return window.dash_clientside.no_update;
        snapshot().then((url) => {
          const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
          const link = Object.assign(document.createElement("a"),
                                     {href: url, download: `madina-view-${stamp}.png`});
          document.body.appendChild(link);
          link.click();
          link.remove();
        }).catch((err) => console.warn("Madina Twin could not save the view:", err));
        return window.dash_clientside.no_update;
      },
      /* A shared link's time: the clock goes there once a time-lapse covers it. */
      seekShared: function (timeMs) {
        if (timeMs !== null && timeMs !== undefined && window.madinaTime) {
          window.madinaTime.seekTime(timeMs);
        }
        return window.dash_clientside.no_update;
      },
      /* A chart's playback cursor (its first shape) at ``frame``. */
      chartCursor: function (frame, figure) {
        if (!figure || !figure.layout || !figure.layout.shapes || frame === null) {
          return window.dash_clientside.no_update;
        }
        return withCursor(figure, frame);
      },
      /* The time-lapse's frame: KPIs of the frame and the chart's cursor. */
      playbackFrame: function (frame, series, figure) {
        const no = window.dash_clientside.no_update;
        if (!series || frame === null || frame === undefined) return [no, no];
        const k = Math.max(0, Math.min(series.labels.length - 1, frame));
        let energy = 0, base = 0, cost = 0;
        for (let i = 0; i <= k; i++) {
          energy += series.energy_total_kwh[i];
          base += series.baseline_energy_total_kwh[i];
          cost += series.cost_total_mad[i];
        }
        const load = series.load_kw[k], baseLoad = series.baseline_load_kw[k];
        const change = baseLoad > 0 ? ` (${formatNumber(100 * (load / baseLoad - 1))}%)` : "";
        const text = `${series.labels[k]}: load ${formatNumber(load)} kW against ` +
          `${formatNumber(baseLoad)} kW today${change}. So far: ${formatNumber(energy / 1000)} MWh ` +
          `against ${formatNumber(base / 1000)} MWh, ${formatNumber(cost)} MAD.`;
        return [text, figure ? withCursor(figure, k) : no];
      },
      /* mode: technology, wattage, state, energy or dimming (of the playing scenario). */
      lampColors: function (mode, bundle) {
        if (!state.deck || !bundle || !bundle.lampColors) return window.dash_clientside.no_update;
        colorLamps(bundle.lampColors, mode).then((note) => {
          window.dash_clientside.set_props("lamp-color-status", {children: note || ""});
        }).catch((err) => {
          console.warn("Madina Twin could not colour the lamps:", err);
          window.dash_clientside.set_props("lamp-color-status", {children: "Lamp colours failed: " + err});
        });
        return window.dash_clientside.no_update;  // the status is set once the colours are in
      },
      /* mode of the water pipes' colours (velocity, flow, pressure, age). */
      layerColors: function (mode, bundle) {
        if (!state.deck || !bundle || !bundle.pipeColors) return window.dash_clientside.no_update;
        colorLayer(bundle.pipeColors, mode).catch((err) => {
          console.warn("Madina Twin could not colour the pipes:", err);
        });
        return window.dash_clientside.no_update;
      },
    },
  });
})();
