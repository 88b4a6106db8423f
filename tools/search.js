// Full-text search over the book's sections (the offline stand-in for Quarto's `search`): the index is
// search-index.js, written by tools/render.py as a script so that it loads from file:// too.
(function () {
  function words(text) { return text.toLowerCase().split(/[^\p{L}\p{N}.²³]+/u).filter(Boolean); }
  function find(query) {
    const terms = words(query);
    if (!terms.length) return [];
    return (window.SEARCH_INDEX || [])
      .map(entry => {
        const text = (entry.title + " " + entry.section + " " + entry.text).toLowerCase();
        const hits = terms.map(t => text.split(t).length - 1);
        return { entry, score: hits.every(n => n > 0) ? hits.reduce((a, b) => a + b, 0) + 5 * terms.filter(t => entry.section.toLowerCase().includes(t)).length : 0 };
      })
      .filter(r => r.score > 0).sort((a, b) => b.score - a.score).slice(0, 12);
  }
  function snippet(text, query) {
    const at = text.toLowerCase().indexOf(words(query)[0] || "");
    const start = Math.max(0, at - 60);
    return (start ? "…" : "") + text.slice(start, start + 160) + "…";
  }
  window.addEventListener("DOMContentLoaded", () => {
    const box = document.getElementById("search-box"), list = document.getElementById("search-results");
    if (!box) return;
    box.addEventListener("input", () => {
      list.replaceChildren(...find(box.value).map(({ entry }) => {
        const li = document.createElement("li"), a = document.createElement("a"), p = document.createElement("span");
        a.href = entry.href;
        a.textContent = entry.title + (entry.section ? " › " + entry.section : "");
        p.textContent = snippet(entry.text, box.value);
        li.append(a, p);
        return li;
      }));
    });
  });
})();
