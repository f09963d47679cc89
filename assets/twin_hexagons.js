/* Madina Twin: H3 hexagons on the twin's map (see assets/twin.js, which loads first).
 *
 * Telemetry aggregates and stored runs' time-lapses arrive as a manifest and one binary buffer
 * of (frame, cell) values per resolution; resolution (by zoom, or chosen), frame and colours
 * are switched here, with no server round trip. The layer sits on the ground, under the
 * buildings; its tooltip says which cells small-count suppression merged.
 */
(function () {
  "use strict";

  const {state, typed, redraw, formatNumber, jsonConverter, repaintPlayback} = window.madinaTwin;

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
    repaintPlayback();
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

  /* On the map: the layer under the buildings, its tooltip, its resolution following the zoom. */
  state.overlays.hexagons = (layers) => {
    const hex = hexLayer();
    if (!hex) return;
    const at = layers.findIndex((layer) => layer.id === "buildings");
    layers.splice(at < 0 ? layers.length : at, 0, hex);
  };
  state.tooltips.hexagons = (index) => (state.hex ? hexTooltip(index) : "");
  state.viewListeners.hexagons = (viewState) => {
    const h = state.hex;
    if (h && h.blob && h.choice === "auto" && fitRes(h.manifest, hexResFor(viewState.zoom)) !== h.res) {
      h.res = fitRes(h.manifest, hexResFor(viewState.zoom));
      redraw();
      announceHex();
    }
  };

  Object.assign(window.madinaTwin, {hexResFor, hexColor, HEX_ALPHA});

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    madina: Object.assign({}, (window.dash_clientside || {}).madina, {
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
    }),
  });
})();
