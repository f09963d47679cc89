/* Madina Twin: the split view — a second map beside the first, on the same camera and time.
 *
 * A stored run's hexagon manifest may carry ``split``: another run of the same kind, packed on
 * the same colour scale. The right map then draws the base layers the left one shows plus
 * that run's hexagons at the frame the time bar shows. The left map leads: the right follows
 * its camera (it has no controls of its own).
 */
(function () {
  "use strict";

  const split = {open: false, deck: null, url: null, manifest: null, blob: null, left: "", right: "",
                 capture: null};

  function twin() { return window.madinaTwin; }

  function main() { return document.querySelector(".twin-main"); }

  function label(side, text) {
    let el = document.getElementById(`split-label-${side}`);
    if (!el) {
      el = Object.assign(document.createElement("div"), {id: `split-label-${side}`,
                                                         className: `split-label split-${side}`});
      main().appendChild(el);
    }
    el.textContent = text;
  }

  function open(spec) {
    const t = twin();
    split.left = spec.left;
    split.right = spec.right;
    if (!split.open) {
      const right = Object.assign(document.createElement("div"), {id: "twin-map-right",
                                                                  className: "twin-map-right"});
      main().appendChild(right);
      main().classList.add("split");
      const v = t.state.viewState || {};
      split.deck = new deck.Deck({
        parent: right,
        viewState: Object.assign({}, v, {longitude: v.longitude, latitude: v.latitude}),
        controller: false,
        layers: [],
        onAfterRender: () => { if (split.capture) split.capture(split.deck.getCanvas()); },
      });
      t.state.viewListeners.split = (viewState) => split.deck.setProps({viewState});
      t.state.overlays.split = mirror;
      split.open = true;
    }
    label("left", `◀ ${split.left}`);
    label("right", `${split.right} ▶`);
    if (split.url !== spec.manifest.blobUrl) {
      split.url = spec.manifest.blobUrl;
      split.manifest = spec.manifest;
      split.blob = null;
      fetch(split.url).then(async (response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
        const blob = await response.arrayBuffer();
        if (split.url !== spec.manifest.blobUrl) return;
        split.blob = blob;
        t.redraw();
      }).catch((err) => console.warn("Madina Twin could not load the split view's run:", err));
    }
    t.state.deck.redraw(true);  // the left map is half as wide now
  }

  function close() {
    if (!split.open) return;
    const t = twin();
    delete t.state.viewListeners.split;
    delete t.state.overlays.split;
    split.deck.finalize();
    for (const id of ["twin-map-right", "split-label-left", "split-label-right"]) {
      const el = document.getElementById(id);
      if (el) el.remove();
    }
    main().classList.remove("split");
    Object.assign(split, {open: false, deck: null, url: null, manifest: null, blob: null});
    if (t.state.deck) t.state.deck.redraw(true);
  }

  function hexagons() {
    const t = twin(), h = t.state.hex;
    if (!split.blob || !h || !h.base) return null;
    const r = split.manifest.resolutions[String(h.res)];
    if (!r) return null;
    const values = new Float32Array(split.blob, r.values.offset, r.values.count);
    const n = r.cells.length, frame = h.frame;
    const colors = r.legend.map((e) => [e.color[0], e.color[1], e.color[2], t.HEX_ALPHA]);
    return h.base.clone({
      id: "hexagons-right",
      data: r.cells,
      getHexagon: (cell) => cell,
      getFillColor: (_, {index}) => t.hexColor(values[frame * n + index], r.breaks, colors),
      updateTriggers: {getFillColor: [split.url, h.res, frame]},
      pickable: false,
    });
  }

  /* An overlay of the left map's redraw: the right map gets the same base layers. */
  function mirror(layers) {
    if (!split.open) return;
    const right = layers
      .filter((layer) => layer.id !== "hexagons" && !layer.id.startsWith("traffic"))
      .map((layer) => layer.clone({pickable: false}));
    const hex = hexagons();
    if (hex) {
      const at = right.findIndex((layer) => layer.id === "buildings");
      right.splice(at < 0 ? right.length : at, 0, hex);
    }
    split.deck.setProps({layers: right});
  }

  /* The left map's hexagon manifest changed: open, update or close the split view. */
  function follow(manifest) {
    if (manifest && manifest.split) open(manifest.split);
    else close();
  }

  window.madinaSplit = {split, follow};
})();
