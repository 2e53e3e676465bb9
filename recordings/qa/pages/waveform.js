// The waveform strip: peaks as bars, PCI-muted stretches shaded, comments and journey events as
// marks, the played part darker; a click seeks there. Drawn on a canvas at the screen's density.
export class Waveform {
  constructor(canvas, durationS, onSeek) {
    this.canvas = canvas;
    this.duration = durationS;
    this.peaks = [];
    this.mutes = [];
    this.comments = [];
    this.events = [];
    this.position = 0;
    canvas.addEventListener("click", (event) => {
      const box = canvas.getBoundingClientRect();
      onSeek(((event.clientX - box.left) / box.width) * this.duration);
    });
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  set(fields) {
    Object.assign(this, fields);
    this.draw();
  }

  x(seconds, width) {
    return this.duration > 0 ? (Math.max(0, Math.min(seconds, this.duration)) / this.duration) * width : 0;
  }

  draw() {
    const ratio = window.devicePixelRatio || 1;
    const width = this.canvas.clientWidth;
    const height = this.canvas.clientHeight;
    if (!width) return;
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(height * ratio);
    const g = this.canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    for (const m of this.mutes) {
      const left = this.x(m.start_s, width);
      g.fillStyle = "rgba(179, 38, 30, 0.22)";
      g.fillRect(left, 0, Math.max(2, this.x(m.end_s, width) - left), height);
    }
    const mid = height / 2;
    const played = this.x(this.position, width);
    const n = this.peaks.length;
    for (let i = 0; i < n; i++) {
      const left = (i / n) * width;
      const bar = Math.max(1, this.peaks[i] * (height / 2 - 8));
      g.fillStyle = left <= played ? "#0b5cad" : "#9db4cf";
      g.fillRect(left, mid - bar, Math.max(1, width / n - 0.5), bar * 2);
    }
    for (const e of this.events) {
      if (e.t_s < 0) continue;
      g.fillStyle = "#6b7a8f";
      g.fillRect(this.x(e.t_s, width), height - 6, 2, 6);
    }
    for (const c of this.comments) {
      const at = this.x(c.at_s, width);
      g.fillStyle = "#e08a00";
      g.beginPath();
      g.moveTo(at - 5, 0);
      g.lineTo(at + 5, 0);
      g.lineTo(at, 8);
      g.fill();
    }
    g.fillStyle = "#12324f";
    g.fillRect(played - 1, 0, 2, height);
  }
}
