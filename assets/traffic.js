/* Madina Twin: traffic playback on the twin's deck.gl canvas (see assets/twin.js).
 *
 * A run's playback (layers/traffic/flow.py) arrives once: per hour and arterial segment its speed,
 * flow and works, each vertex's segment, segment midpoints and sampled trips. Hours and colour
 * modes are switched here: the traffic layer's colours and widths, 3D columns extruded by
 * volume, vehicles animated with deck.gl's TripsLayer. No server round trip per frame.
 */
(function () {
  "use strict";

  const COLUMN_METRES_PER_VEH_H = 0.06;  // 3,000 veh/h -> a 180 m column
  const TRIP_SECONDS_PER_MS = 1.44;      // animated trips: one simulated hour in 2.5 s
  const TRAIL_S = 240;

  const traffic = {
    view: null,      // {url, manifest} of the run shown
    blob: null,
    arrays: null,
    mode: "congestion",
    frame: 8,
    clock: 8 * 3600,  // the trips' current time, seconds after local midnight
    lastTick: null,
    animating: false,
    error: null,
  };

  function twin() {
    return window.madinaTwin;
  }

  function shown() {
    const t = twin();
    return t && t.state.deck && t.state.visible ? t.state.visible.has("traffic") : false;
  }

  function arrays(manifest, blob) {
    const out = {};
    for (const [name, d] of Object.entries(manifest.columns)) out[name] = twin().typed(blob, d);
    return out;
  }

  function classColor(value, breaks, colors) {
    for (let k = 0; k < breaks.length; k++) if (value <= breaks[k]) return colors[k];
    return colors[colors.length - 1];
  }

  /* Per segment: RGBA colour and path width (m) at the frame, in the chosen mode. */
  function segmentStyle() {
    const m = traffic.view.manifest, a = traffic.arrays, S = m.segments, f = traffic.frame;
    const mode = m.modes[traffic.mode] || m.modes.congestion;
    const colors = new Uint8Array(S * 4), widths = new Float32Array(S);
    for (let s = 0; s < S; s++) {
      const speed = a.speed[f * S + s], flow = a.flow[f * S + s], works = a.works[f * S + s];
      let color;
      if (works === 2) color = m.closedColor;
      else if (works === 1) color = m.reducedColor;
      else {
        const value = traffic.mode === "speed" ? speed : traffic.mode === "volume" ? flow : speed / a.free[s];
        color = classColor(value, mode.breaks, mode.colors);
      }
      colors.set(color, s * 4);
      widths[s] = works === 2 ? 10 : Math.min(46, 6 + flow / 100);
    }
    return {colors, widths};
  }

  /* The traffic layer painted at the frame: its colour and width columns replaced. */
  function paint() {
    const t = twin(), entry = t && t.state.layers.traffic;
    if (!entry || !traffic.arrays) return;
    const a = traffic.arrays, style = segmentStyle();
    const n = a.vertexSegment.length;
    if (n !== entry.data.attributes.getPath.value.length / 2) {
      traffic.error = "the playback does not match the traffic layer; reload the page";
      return;
    }
    const colors = new Uint8Array(n * 4), widths = new Float32Array(n);
    for (let v = 0; v < n; v++) {
      const s = a.vertexSegment[v];
      colors[v * 4] = style.colors[s * 4];
      colors[v * 4 + 1] = style.colors[s * 4 + 1];
      colors[v * 4 + 2] = style.colors[s * 4 + 2];
      colors[v * 4 + 3] = style.colors[s * 4 + 3];
      widths[v] = style.widths[s];
    }
    const attributes = Object.assign({}, entry.data.attributes, {
      getColor: {value: colors, size: 4, normalized: true},
      getWidth: {value: widths, size: 1},
    });
    entry.data = Object.assign({}, entry.data, {attributes});
    entry.layer = entry.layer.clone({data: entry.data});
    traffic.segmentColors = style.colors;
    t.redraw();
  }

  function columnLayer() {
    const m = traffic.view.manifest, a = traffic.arrays, S = m.segments, f = traffic.frame;
    const elevation = new Float32Array(S);
    for (let s = 0; s < S; s++) elevation[s] = a.flow[f * S + s] * COLUMN_METRES_PER_VEH_H;
    return new deck.ColumnLayer({
      id: "traffic-volume",
      data: {
        length: S,
        attributes: {
          getPosition: {value: a.midpoints, size: 2},
          getElevation: {value: elevation, size: 1},
          getFillColor: {value: traffic.segmentColors, size: 4, normalized: true},
        },
      },
      diskResolution: 12,
      radius: 45,
      extruded: true,
      pickable: true,
      autoHighlight: true,
      opacity: 0.85,
    });
  }

  function tripsLayer() {
    const a = traffic.arrays;
    return new deck.TripsLayer({
      id: "traffic-trips",
      data: {
        length: a.tripStarts.length - 1,
        startIndices: a.tripStarts,
        attributes: {
          getPath: {value: a.tripPath, size: 2},
          getTimestamps: {value: a.tripTimes, size: 1},
        },
      },
      _pathType: "open",
      getColor: [255, 255, 255],
      widthMinPixels: 3,
      capRounded: true,
      jointRounded: true,
      fadeTrail: true,
      trailLength: TRAIL_S,
      currentTime: traffic.clock,
    });
  }

  function markLayers() {
    const m = traffic.view.manifest, out = [];
    if (m.emergency) {
      out.push(new deck.PathLayer({
        id: "traffic-emergency",
        data: m.emergency.paths,
        getPath: (d) => d,
        getColor: [0, 200, 255],
        widthMinPixels: 6,
        capRounded: true,
      }));
    }
    if (m.newLink) {
      out.push(new deck.PathLayer({
        id: "traffic-new-link",
        data: [m.newLink],
        getPath: (d) => d,
        getColor: [255, 230, 0],
        widthMinPixels: 6,
        capRounded: true,
      }));
    }
    return out;
  }

  /* Overlay hook of twin.js: columns, trips and marks just above the traffic layer. */
  function overlay(layers, ids) {
    if (!traffic.arrays || !ids.has("traffic")) return;
    const at = layers.findIndex((layer) => layer.id === "traffic");
    const extra = [columnLayer(), tripsLayer(), ...markLayers()];
    layers.splice(at < 0 ? layers.length : at + 1, 0, ...extra);
  }

  function columnTooltip(index) {
    const m = traffic.view.manifest, a = traffic.arrays, S = m.segments, f = traffic.frame;
    const fmt = twin().formatNumber;
    return `Arterial segment ${index} · ${m.times[f]}\n` +
      `${fmt(a.flow[f * S + index])} veh/h (both directions), ${fmt(a.speed[f * S + index])} km/h ` +
      `(free flow ${a.free[index]})`;
  }

  function roadTooltip(index) {
    const t = twin(), entry = t.state.layers.traffic;
    const segment = Number(t.fieldValue(entry, "segment", index));
    return `Now (${traffic.view.manifest.times[traffic.frame]}):\n` + columnTooltip(segment).split("\n")[1];
  }

  function hook() {
    const state = twin().state;
    state.overlays.traffic = overlay;
    state.tooltips["traffic-volume"] = (index) => (traffic.arrays ? columnTooltip(index) : "");
    state.tooltips.traffic = (index) => (traffic.arrays ? roadTooltip(index) : "");
  }

  function animate(now) {
    if (!traffic.animating) return;
    if (!shown() || !traffic.arrays || !traffic.playing) {
      traffic.animating = false;
      return;
    }
    // at most 100 ms a step: a slow frame shows the next step, it does not skip the hour
    const dt = traffic.lastTick === null ? 0 : Math.min(100, now - traffic.lastTick);
    traffic.lastTick = now;
    const start = traffic.frame * 3600;
    if (traffic.clock < start || traffic.clock >= start + 3600) traffic.clock = start;
    traffic.clock = Math.min(start + 3599, traffic.clock + dt * TRIP_SECONDS_PER_MS);
    twin().redraw();
    if (traffic.clock < start + 3599) window.requestAnimationFrame(animate);
    else traffic.animating = false;  // the hour is over: rest until the next one
  }

  function startAnimation() {
    if (traffic.animating) return;
    traffic.animating = true;
    traffic.lastTick = null;
    window.requestAnimationFrame(animate);
  }

  async function load(view) {
    const response = await fetch(view.url);
    if (!response.ok) throw new Error(`traffic: HTTP ${response.status}: ${await response.text()}`);
    const blob = await response.arrayBuffer();
    if (blob.byteLength !== view.manifest.byteLength) {
      throw new Error(`traffic: got ${blob.byteLength} bytes, expected ${view.manifest.byteLength}`);
    }
    return blob;
  }

  /* Show ``view`` ({url, manifest}) at ``frame`` in ``mode``; fetched once per run. While
   * the playback plays, each hour's vehicles drive; paused, they rest at half past. */
  async function show(view, mode, frame, playing) {
    const t = twin();
    hook();
    const changed = !traffic.view || traffic.view.url !== view.url;
    traffic.mode = mode || "congestion";
    traffic.frame = Math.max(0, Math.min(view.manifest.frames - 1, frame || 0));
    traffic.playing = Boolean(playing);
    if (!traffic.playing) traffic.clock = traffic.frame * 3600 + 1800;
    else if (Math.floor(traffic.clock / 3600) !== traffic.frame) traffic.clock = traffic.frame * 3600;
    if (changed) {
      traffic.view = view;
      traffic.arrays = null;
      traffic.loading = load(view).then((blob) => {
        if (traffic.view !== view) return;
        traffic.blob = blob;
        traffic.arrays = arrays(view.manifest, blob);
      });
    }
    await traffic.loading;
    if (t.state.loading) await t.state.loading;
    await t.ensureLayers(new Set(["traffic"]));
    paint();
    if (traffic.playing) startAnimation();
    return status();
  }

  function status() {
    const m = traffic.view.manifest;
    const what = m.scenario ? `What-if: ${m.scenario}` : "Ordinary weekday (baseline)";
    const trips = `${m.trips.toLocaleString("en-US")} sampled trips` +
      (traffic.playing ? " driving" : " (▶ on the time bar to see them drive)");
    return `${what} · ${m.times[traffic.frame]} (${m.timeZone}) · ${trips}`;
  }

  window.madinaTraffic = {traffic, show};

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    madina_traffic: {
      /* view: {url, manifest} (the baseline's, or the last traffic what-if's). */
      show: function (view, mode, frame, layers, playing) {
        const no = window.dash_clientside.no_update;
        const t = twin();
        if (!view || !t || !t.state.deck) return no;
        if (!(layers || []).includes("traffic")) {
          if (window.madinaTime) window.madinaTime.unregister("traffic");
          return "Tick “Traffic (simulated arterials)” to see it.";
        }
        if (window.madinaTime && view.manifest.epochs) {
          window.madinaTime.register("traffic", {
            epochs: view.manifest.epochs, labels: view.manifest.times, frame, slider: "tr-frame",
            timeZone: view.manifest.timeZone,
            title: view.manifest.scenario ? `Traffic what-if: ${view.manifest.scenario}` : "Traffic",
          });
        }
        show(view, mode, frame, playing === true).then((text) => {
          window.dash_clientside.set_props("tr-status", {children: traffic.error || text});
        }).catch((err) => {
          console.warn("Madina Twin could not show the traffic:", err);
          window.dash_clientside.set_props("tr-status", {children: "Traffic failed to load: " + err});
        });
        return "Loading the day's traffic…";
      },
      /* A traffic what-if's frame slider drives the traffic hour. */
      follow: function (frame, kind) {
        return kind === "traffic" && frame !== null && frame !== undefined ? frame : window.dash_clientside.no_update;
      },
    },
  });
})();
