// A line diff of two JSON documents (longest common subsequence): what a change would do.
export function jsonLines(value) {
  return value === null || value === undefined ? [] : JSON.stringify(value, null, 2).split("\n");
}

// [{kind: "same" | "add" | "del", text}], in order.
export function diffLines(before, after) {
  const n = before.length, m = after.length;
  const common = Array.from({ length: n + 1 }, () => new Array(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      common[i][j] = before[i] === after[j] ? common[i + 1][j + 1] + 1
        : Math.max(common[i + 1][j], common[i][j + 1]);
    }
  }
  const out = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (before[i] === after[j]) { out.push({ kind: "same", text: before[i] }); i++; j++; }
    else if (common[i + 1][j] >= common[i][j + 1]) out.push({ kind: "del", text: before[i++] });
    else out.push({ kind: "add", text: after[j++] });
  }
  while (i < n) out.push({ kind: "del", text: before[i++] });
  while (j < m) out.push({ kind: "add", text: after[j++] });
  return out;
}
