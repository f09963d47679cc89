/* Madina Twin: the small module that owns the deck.gl canvas.
 *
 * Layers arrive as a JSON manifest (pydeck props + column descriptors) and one binary buffer
 * each, fetched from this server; columns become deck.gl binary attributes without copying.
 * Dash drives it through clientside callbacks (namespace "madina"); clicks go back to Dash
 * through dash_clientside.set_props. Nothing here talks to any host but the page's own.
 * Built on it: the hexagons (twin_hexagons.js), the view as a link, PNG or video frame
 * (twin_views.js), the split view, the traffic playback and the time bar.
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
    hexFrames: {},     // the frame of each panel's time-lapse slider (twin_hexagons.js), by kind
    layerColors: {},   // layer id -> {spec, mode, blob}: its colour modes, fetched on first use
    overlays: {},      // name -> function(layers, shownIds): adds layers after a layer's own
    viewListeners: {}, // name -> function(viewState): told when the camera moves
    tooltips: {},      // layer id -> function(index): tooltip text of layers drawn elsewhere
  };




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



  function formatNumber(value) {
    if (Number.isNaN(value)) return "no reading";
    const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
    return value.toLocaleString("en-US", {maximumFractionDigits: digits});
  }


  function tooltip(info) {
    if (!info || !info.layer || info.index < 0) return null;
    const style = {whiteSpace: "pre-line"};
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



  function redraw() {
    if (!state.deck) return;
    const shown = visibleIds();
    const layers = state.order
      .filter((id) => state.layers[id] && state.layers[id].layer)
      .map((id) => state.layers[id].layer.clone({visible: shown.has(id)}));
    for (const overlay of Object.values(state.overlays)) overlay(layers, shown);
    state.deck.setProps({layers});
  }






  function onViewStateChange({viewState}) {
    state.viewState = viewState;
    state.zoom = viewState.zoom;
    for (const listener of Object.values(state.viewListeners)) listener(viewState);
  }

  /* Colour modes, one mechanism for every layer that has them (the catalogue's ColorModes):
   * spec {layer, accessor, url, manifest} from the twin bundle's "colors"; a mode's uint8 RGBA
   * column swapped into the layer's accessor (no rebuild, no re-upload of positions). The
   * first mode is the layer as built: its column is fetched only once another is chosen.
   * The lamps' "dimming" is coloured here from the playing scenario's level at the frame. */
  function dimmingColumn(entry, d) {
    const h = state.hex;
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

  /* Colour a layer by ``mode``; resolves to a note for the page ("" when all is well). */
  async function colorLayer(spec, mode) {
    const colors = state.layerColors[spec.layer] || (state.layerColors[spec.layer] = {});
    colors.mode = mode || Object.keys(spec.manifest.modes)[0];
    colors.spec = spec;
    if (state.loading) await state.loading;
    return state.layers[spec.layer] ? paintLayer(spec.layer) : "";
  }

  function colorsBlob(colors) {
    colors.fetched = colors.fetched || fetch(colors.spec.url).then(async (response) => {
      const spec = colors.spec;
      if (!response.ok) throw new Error(`${spec.layer} colours: HTTP ${response.status}`);
      const blob = await response.arrayBuffer();
      if (blob.byteLength !== spec.manifest.byteLength) {
        throw new Error(`${spec.layer} colours: got ${blob.byteLength} bytes, expected ${spec.manifest.byteLength}`);
      }
      colors.blob = blob;
      return blob;
    });
    return colors.fetched;
  }

  /* Paint a fetched layer in its chosen colour mode; returns the note colorLayer gives. */
  async function paintLayer(layerId) {
    const colors = state.layerColors[layerId], mode = colors.mode, spec = colors.spec;
    let entry = state.layers[layerId];
    if (!entry) return "";
    const modes = spec.manifest.modes, own = Object.keys(modes)[0];
    if (!entry.colorMode && mode === own) {
      entry.colorMode = mode;  // as built: nothing to fetch
      return "";
    }
    const blob = await colorsBlob(colors);
    entry = state.layers[layerId];
    if (colors.mode !== mode) return "";  // a later choice wins
    let value = null, note = "";
    if (mode === "dimming" && spec.manifest.dimming) {
      value = dimmingColumn(entry, spec.manifest.dimming);
      if (!value) note = `Run a lighting scenario to see its dimming; showing ${modes[own].title.toLowerCase()}.`;
    } else if (modes[mode]) {
      value = typed(blob, modes[mode].color);
    }
    if (!value) value = typed(blob, modes[own].color);
    const attributes = Object.assign({}, entry.data.attributes, {
      [spec.accessor]: {value, size: 4, normalized: true},
    });
    entry.data = Object.assign({}, entry.data, {attributes});
    entry.layer = entry.layer.clone({data: entry.data});
    entry.colorMode = mode;
    redraw();
    return note;
  }

  /* The hexagons' frame moved: repaint the layers coloured by the playing scenario. */
  function repaintPlayback() {
    for (const [layerId, colors] of Object.entries(state.layerColors)) {
      if (colors.mode === "dimming" && colors.blob) paintLayer(layerId);
    }
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
    if (state.layerColors[manifest.id]) await paintLayer(manifest.id);
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








  /* ``figure`` with its playback cursor (its first shape, pages.charts) at ``frame``. */
  function withCursor(figure, frame) {
    const shapes = (figure.layout.shapes || []).map((shape, i) => (i === 0 ? Object.assign({}, shape, {x0: frame, x1: frame}) : shape));
    return Object.assign({}, figure, {layout: Object.assign({}, figure.layout, {shapes})});
  }

  /* A colour-mode dropdown's callback: colour ``layerId``, its note (if any) into ``statusId``. */
  function colorBy(layerId, mode, bundle, statusId) {
    const spec = bundle && bundle.colors && bundle.colors[layerId];
    if (!state.deck || !spec) return window.dash_clientside.no_update;
    const say = (text) => {
      if (statusId) window.dash_clientside.set_props(statusId, {children: text});
    };
    colorLayer(spec, mode).then((note) => say(note || "")).catch((err) => {
      console.warn(`Madina Twin could not colour ${layerId}:`, err);
      say(`Colours of ${layerId} failed: ${err}`);
    });
    return window.dash_clientside.no_update;  // the note is set once the colours are in
  }

  /* The core other files build on (twin_hexagons.js, twin_views.js, splitview.js, traffic.js,
   * tests and benchmarks): it loads first of the twin's files (Dash loads assets by name). */
  window.madinaTwin = Object.assign(window.madinaTwin || {}, {
    state, mount, load, redraw, fieldValue, typed, formatNumber, ensureLayers, jsonConverter,
    repaintPlayback,
  });

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    madina: Object.assign({}, (window.dash_clientside || {}).madina, {
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
        return colorBy("lamps", mode, bundle, "lamp-color-status");
      },
      /* mode of the water pipes' colours (velocity, flow, pressure, age). */
      layerColors: function (mode, bundle) {
        return colorBy("water-pipes", mode, bundle, null);
      },
    }),
  });
})();
