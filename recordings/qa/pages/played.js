// The seconds a person heard: each stretch from "playing" to a pause, a seek, the end or leaving
// the page is reported to the played-seconds audit (the listen audit only knows bytes served,
// and a player buffers far ahead of what is heard).
import { api } from "/ui/shell/shell.js";

export function reportWhatIsPlayed(audio, url) {
  let from = null;
  let last = 0;
  const close = (to, leaving = false) => {
    if (from !== null && to - from > 0.05) {
      const body = { ranges: [{ start_s: round(from), end_s: round(to) }] };
      api("POST", url, body, { keepalive: leaving }).catch(() => {});
    }
    from = null;
  };
  audio.addEventListener("playing", () => { from = audio.currentTime; last = from; });
  audio.addEventListener("timeupdate", () => { if (!audio.seeking) last = audio.currentTime; });
  audio.addEventListener("seeking", () => close(last));
  audio.addEventListener("seeked", () => { if (!audio.paused) from = audio.currentTime; });
  audio.addEventListener("pause", () => close(audio.currentTime));
  audio.addEventListener("ended", () => close(audio.duration));
  window.addEventListener("pagehide", () => close(last, true));
}

function round(seconds) {
  return Math.round(seconds * 1000) / 1000;
}

