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
    loading: null,
    error: null,
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

  function tooltip(info) {
    if (!info || !info.layer || info.index < 0) return null;
    const entry = state.layers[info.layer.id];
    if (!entry || !entry.manifest.tooltip) return null;
    return {
      text: fillTemplate(entry, info.index),
      className: "twin-tooltip",
      style: {whiteSpace: "pre-line"},
    };
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

  function makeLayer(entry, converter) {
    const converted = converter.convert({layers: [entry.manifest.deck]}).layers[0];
    return converted.clone({data: entry.data});
  }

  function visibleIds() {
    if (state.visible) return state.visible;
    return new Set(state.order.filter((id) => state.layers[id].manifest.visible));
  }

  function redraw() {
    if (!state.deck) return;
    const shown = visibleIds();
    const layers = state.order
      .filter((id) => state.layers[id] && state.layers[id].layer)
      .map((id) => state.layers[id].layer.clone({visible: shown.has(id)}));
    state.deck.setProps({layers});
  }

  function mount(container, view) {
    if (state.deck) return state.deck;
    const lighting = new deck.LightingEffect({
      ambient: new deck.AmbientLight({color: [255, 255, 255], intensity: 1.1}),
      sun: new deck.DirectionalLight({color: [255, 244, 230], intensity: 1.6, direction: [-3, -6, -4]}),
    });
    state.deck = new deck.Deck({
      parent: container,
      initialViewState: {
        longitude: view.center[0], latitude: view.center[1],
        zoom: view.zoom, pitch: view.pitch, bearing: view.bearing, maxPitch: 75,
      },
      controller: {dragRotate: true, touchRotate: true},
      effects: [lighting],
      getTooltip: tooltip,
      onAfterRender: () => {
        if (state.ready && state.firstRenderMs === null) {
          state.firstRenderMs = performance.now() - state.loadStartedAt;
        }
      },
      layers: [],
    });
    listenForClicks(container);
    return state.deck;
  }

  async function load(bundle) {
    state.loadStartedAt = performance.now();
    const converter = new deck.JSONConverter({
      configuration: new deck.JSONConfiguration({classes: deck}),
    });
    state.order = bundle.layers.map((m) => m.id);
    await Promise.all(bundle.layers.map(async (manifest) => {
      const response = await fetch(bundle.blobUrl.replace("{layer}", manifest.id));
      if (!response.ok) throw new Error(`layer ${manifest.id}: HTTP ${response.status}`);
      const blob = await response.arrayBuffer();
      if (blob.byteLength !== manifest.byteLength) {
        throw new Error(`layer ${manifest.id}: got ${blob.byteLength} bytes, expected ${manifest.byteLength}`);
      }
      const entry = {manifest, blob, data: binaryData(manifest, blob)};
      entry.layer = makeLayer(entry, converter);
      state.layers[manifest.id] = entry;
    }));
    state.ready = true;
    redraw();
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
    for (let k = 0; k < tries; k++) {
      const index = Math.floor((k * 2654435761) % n);
      const pos = screenPosition(layerId, index);
      if (!pos) continue;
      // whole pixels, as a real pointer gives; the feature must be the top one there
      const x = Math.round(pos[0] - rect.left), y = Math.round(pos[1] - rect.top);
      if (x < 40 || y < 40 || x > rect.width - 40 || y > rect.height - 40) continue;
      const picked = state.deck.pickObject({x, y, radius: 0});
      if (picked && picked.layer && picked.layer.id === layerId && picked.index === index) {
        return {index, x: rect.left + x, y: rect.top + y};
      }
    }
    return null;
  }

  window.madinaTwin = {state, mount, load, redraw, screenPosition, findPickable, fieldValue};

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
        return window.dash_clientside.no_update;
      },
    },
  });
})();
