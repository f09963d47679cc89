/* Madina Twin: the view as a link, a PNG or a video frame, and hooks for tests and tools
 * (see assets/twin.js, which loads first).
 *
 * A link (or a video export) carries the layers, the camera, the mapped run, its variable and
 * split partner; a PNG holds both maps of a split view with a caption. The hooks find a
 * feature's screen position, a pickable row, and when a frame has been drawn.
 */
(function () {
  "use strict";

  const {state, typed} = window.madinaTwin;

  /* Test and tooling hook: page position of (lon, lat) in the current view. */
  function project(lon, lat) {
    if (!state.deck) return null;
    const [x, y] = state.deck.getViewports()[0].project([lon, lat]);
    const rect = state.deck.getCanvas().getBoundingClientRect();
    return [rect.left + x, rect.top + y];
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

  Object.assign(window.madinaTwin, {
    project, screenPosition, findPickable, snapshot, hexShows, drawn, viewQuery,
  });

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    madina: Object.assign({}, (window.dash_clientside || {}).madina, {
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
    }),
  });
})();
