/* Madina Twin: the presentation view (``?present=1``) — the map alone, with the legends and the
 * mapped run's time and figures mirrored over it. It is what a video export films; it can also
 * be put on a screen as it is. Read-only: it copies text and legends, it never changes them.
 */
(function () {
  "use strict";

  function overlay() { return document.getElementById("present-overlay"); }

  /* Copy the run's figures and the legends (without their ids) into the overlay. */
  function mirror() {
    const box = overlay();
    if (!box) return;
    const figures = document.getElementById("sc-frame-text");
    box.querySelector(".present-figures").textContent = figures ? figures.textContent : "";
    // the mapped run's legend alone when there is one (the others would crowd the frame)
    const legends = document.getElementById("legends");
    const run = legends && legends.querySelector("#legend-hexagons");
    const shown = run ? [run] : legends ? Array.from(legends.children) : [];
    const copies = shown.map((node) => node.cloneNode(true));
    for (const copy of copies) {
      copy.removeAttribute("id");
      copy.querySelectorAll("[id]").forEach((el) => el.removeAttribute("id"));
    }
    box.querySelector(".present-legends").replaceChildren(...copies);
  }

  /* True once frame ``k`` of the mapped run is drawn and its figures are in the overlay. */
  function shows(k) {
    const twin = window.madinaTwin, box = overlay();
    if (!twin || !box || !twin.hexShows(k)) return false;
    const label = twin.state.hex.manifest.times[k];
    return box.querySelector(".present-figures").textContent.startsWith(label);
  }

  function start() {
    if (!overlay()) {
      if (document.querySelector(".twin-page")) return;  // not the presentation view
      window.setTimeout(start, 200);
      return;
    }
    let queued = false;
    new MutationObserver((records) => {
      if (queued || records.every((r) => overlay().contains(r.target))) return;
      queued = true;
      window.requestAnimationFrame(() => { queued = false; mirror(); });
    }).observe(document.body, {childList: true, subtree: true, characterData: true});
    mirror();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  window.madinaPresent = {mirror, shows};
})();
