/* Madina Twin: the one time control of the twin (play/pause, step, loop, speed, scrub).
 *
 * Every time-lapse on the map registers here as a target: its frames' UTC start times and the
 * slider that selects its frame (telemetry hour, lighting or network what-if, traffic hour).
 * The control keeps one simulated clock; each target shows the frame the clock is in, so the
 * map, the traffic and the panels' charts move together. Frames switch in the browser: the
 * control only moves sliders, whose clientside callbacks redraw from data already loaded.
 */
(function () {
  "use strict";

  const SPEEDS = [1, 10, 100, 1000, 10000, 100000];
  const time = {
    targets: {},     // name -> {epochs, labels, slider, frame, timeZone, title}
    active: null,    // the target whose frames the scrubber shows (the last one to arrive)
    t: null,         // the clock: ms since 1970, UTC
    playing: false,
    speed: 1000,     // simulated seconds per second
    loop: true,
    lastTick: null,
    pending: null,   // a shared link's time, waiting for a time-lapse that covers it
    switched: 0,     // frames switched by the clock (benchmarks read it)
  };

  /* ``id``'s props through Dash; a slider only while its panel is on the page (a store has no
   * element of its own: pass ``always``). */
  function setProps(id, props, always) {
    if (!window.dash_clientside || !window.dash_clientside.set_props) return;
    if (always || document.getElementById(id)) window.dash_clientside.set_props(id, props);
  }

  function span(target) {
    const e = target.epochs, n = e.length;
    const step = n > 1 ? e[n - 1] - e[n - 2] : 3600e3;
    return [e[0], e[n - 1] + step];
  }

  /* The frame whose interval holds ``t`` (-1 outside the target's span). */
  function frameAt(target, t) {
    const e = target.epochs, [start, end] = span(target);
    if (t < start || t >= end) return -1;
    let lo = 0, hi = e.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (e[mid] <= t) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  function apply() {
    for (const target of Object.values(time.targets)) {
      const k = frameAt(target, time.t);
      if (k >= 0 && k !== target.frame) {
        target.frame = k;
        time.switched += 1;
        setProps(target.slider, {value: k});
      }
    }
    render();
  }

  function tick(now) {
    if (!time.playing) return;
    const target = time.targets[time.active];
    if (!target) { pause(); return; }
    if (time.lastTick !== null) {
      time.t += Math.min(now - time.lastTick, 250) * time.speed;
      const [start, end] = span(target);
      if (time.t >= end) {
        if (time.loop) time.t = start;
        else { time.t = target.epochs[target.epochs.length - 1]; apply(); pause(); return; }
      }
      apply();
    }
    time.lastTick = now;
    window.requestAnimationFrame(tick);
  }

  function play() {
    if (!time.targets[time.active] || time.playing) return;
    time.playing = true;
    time.lastTick = null;
    setProps("time-playing", {data: true}, true);
    render();
    window.requestAnimationFrame(tick);
  }

  function pause() {
    if (!time.playing) return;
    time.playing = false;
    setProps("time-playing", {data: false}, true);
    render();
  }

  /* Show frame ``k`` of the active target (and what the others show at that time). */
  function seek(k) {
    const target = time.targets[time.active];
    if (!target) return;
    const n = target.epochs.length;
    const frame = time.loop ? ((k % n) + n) % n : Math.max(0, Math.min(n - 1, k));
    time.t = target.epochs[frame];
    apply();
  }

  function step(delta) {
    const target = time.targets[time.active];
    if (target) seek(target.frame + delta);
  }

  /* A time-lapse is on the map at ``spec.frame``; a new one becomes what the scrubber shows. */
  function register(name, spec) {
    const previous = time.targets[name];
    const same = previous && previous.epochs.length === spec.epochs.length &&
      previous.epochs[0] === spec.epochs[0] && previous.slider === spec.slider;
    const frame = Math.max(0, Math.min(spec.epochs.length - 1, spec.frame || 0));
    time.targets[name] = Object.assign({}, spec, {frame: same ? previous.frame : frame});
    if (same) {
      follow(name, frame);
      return;
    }
    time.active = name;
    if (!time.playing) time.t = spec.epochs[frame];
    if (time.pending !== null && frameAt(time.targets[name], time.pending) >= 0) {
      time.t = time.pending;
      time.pending = null;
      apply();
      return;
    }
    render();
  }

  /* Go to ``t`` (ms, UTC) now if a time-lapse covers it, else when one arrives that does. */
  function seekTime(t) {
    const covering = Object.values(time.targets).some((target) => frameAt(target, t) >= 0);
    if (!covering) { time.pending = t; return; }
    time.t = t;
    apply();
  }

  function unregister(name) {
    delete time.targets[name];
    if (time.active === name) {
      const names = Object.keys(time.targets);
      time.active = names.length ? names[names.length - 1] : null;
      if (!time.active) pause();
    }
    render();
  }

  /* A panel's own slider moved the target to ``frame``: the clock follows it when paused. */
  function follow(name, frame) {
    const target = time.targets[name];
    if (!target || target.frame === frame) return;
    target.frame = frame;
    if (!time.playing) {
      time.active = name;
      time.t = target.epochs[frame];
      for (const other of Object.values(time.targets)) {
        if (other === target) continue;
        const k = frameAt(other, time.t);
        if (k >= 0 && k !== other.frame) { other.frame = k; setProps(other.slider, {value: k}); }
      }
    }
    render();
  }

  function speedLabel(speed) {
    const hour = 3600 / speed;
    const lasts = hour >= 60 ? `${Math.round(hour / 60)} min` : hour >= 1 ? `${Math.round(hour)} s`
      : `${Math.round(hour * 1000)} ms`;
    return `x${speed.toLocaleString("en-US")} (${word("an hour in")} ${lasts})`;
  }

  /* The control's DOM: built once inside #time-bar (Dash renders the empty container). */
  let dom = null;

  /* The page's words for the control (data-labels, translated by the server), else English. */
  let words = {};
  const word = (english) => words[english] || english;

  function build(root) {
    root.innerHTML = "";
    try {
      words = JSON.parse(root.dataset.labels || "{}");
    } catch (err) {
      words = {};
    }
    const el = (tag, props) => Object.assign(document.createElement(tag), props || {});
    dom = {
      back: el("button", {type: "button", id: "tb-back", title: word("Previous frame"),
                          textContent: `◀ ${word("step")}`}),
      play: el("button", {type: "button", id: "tb-play", title: word("Play / pause"),
                          textContent: `▶ ${word("Play")}`}),
      next: el("button", {type: "button", id: "tb-next", title: word("Next frame"),
                          textContent: `${word("step")} ▶`}),
      scrub: el("input", {type: "range", id: "tb-scrub", min: 0, max: 0, step: 1, value: 0}),
      clock: el("span", {id: "tb-clock", className: "tb-clock"}),
      speed: el("select", {id: "tb-speed", title: word("Speed: simulated time per second")}),
      loopBox: el("input", {type: "checkbox", id: "tb-loop", checked: time.loop}),
    };
    dom.scrub.setAttribute("aria-label", word("Time"));
    for (const s of SPEEDS) {
      dom.speed.appendChild(el("option", {value: String(s), textContent: speedLabel(s),
                                          selected: s === time.speed}));
    }
    const loop = el("label", {className: "tb-loop"});
    loop.append(dom.loopBox, ` ${word("loop")}`);
    root.append(dom.back, dom.play, dom.next, dom.scrub, dom.clock, dom.speed, loop);
    dom.back.addEventListener("click", () => step(-1));
    dom.next.addEventListener("click", () => step(1));
    dom.play.addEventListener("click", () => (time.playing ? pause() : play()));
    dom.scrub.addEventListener("input", () => seek(Number(dom.scrub.value)));
    dom.speed.addEventListener("change", () => { time.speed = Number(dom.speed.value); });
    dom.loopBox.addEventListener("change", () => { time.loop = dom.loopBox.checked; });
  }

  function render() {
    const root = document.getElementById("time-bar");
    if (!root) return;
    if (!dom || !root.contains(dom.play)) build(root);
    const target = time.targets[time.active];
    for (const b of [dom.back, dom.play, dom.next, dom.scrub]) b.disabled = !target;
    dom.play.textContent = time.playing ? word("Pause") : `▶ ${word("Play")}`;
    dom.play.setAttribute("aria-label", time.playing ? word("Pause") : word("Play"));
    if (!target) {
      dom.clock.textContent = word("Nothing to play: show telemetry hexagons, the traffic or a what-if.");
      return;
    }
    dom.scrub.max = String(target.epochs.length - 1);
    dom.scrub.value = String(target.frame);
    dom.clock.textContent = `${target.labels[target.frame]} (${target.timeZone}) · ${target.title}`;
  }

  function start() {
    if (document.getElementById("time-bar")) render();
    else window.setTimeout(start, 200);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  window.madinaTime = {time, register, unregister, follow, seek, seekTime, step, play, pause,
                       frameAt};
})();
