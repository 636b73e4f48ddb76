// Offline search over the index tools/build_site.py writes (assets/search-index.js sets
// window.SITE_SEARCH_INDEX = [{page, title, href, text}, ...], one entry per lesson section).
// A section matches when it holds every word of the query; title hits rank first. Results are built with
// textContent only, so nothing from the index or the query is ever parsed as HTML.
(function () {
  "use strict";

  function words(text) {
    return (text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) || []);
  }

  function count(haystack, needle) {
    let found = 0;
    for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) {
      found += 1;
    }
    return found;
  }

  function search(query) {
    const terms = words(query);
    if (!terms.length) return [];
    const phrase = terms.join(" ");
    const hits = [];
    for (const entry of window.SITE_SEARCH_INDEX || []) {
      const title = entry.title.toLowerCase();
      const text = entry.text.toLowerCase();
      let score = 0;
      let all = true;
      for (const term of terms) {
        const inTitle = count(title, term);
        const inText = count(text, term);
        if (!inTitle && !inText) { all = false; break; }
        score += 10 * inTitle + inText;
      }
      if (!all) continue;
      if (terms.length > 1) score += 50 * count(title, phrase) + 5 * count(text, phrase);  // the words together
      hits.push({ entry, score });
    }
    return hits.sort((a, b) => b.score - a.score).slice(0, 50);
  }

  function snippet(text, terms) {
    const lower = text.toLowerCase();
    const at = Math.max(0, Math.min(...terms.map((t) => { const i = lower.indexOf(t); return i < 0 ? Infinity : i; })));
    const start = Math.max(0, at - 80);
    return (start ? "…" : "") + text.slice(start, start + 240) + (start + 240 < text.length ? "…" : "");
  }

  function show(query) {
    const status = document.getElementById("search-status");
    const list = document.getElementById("search-results");
    list.replaceChildren();
    const terms = words(query);
    if (!terms.length) { status.textContent = "Type a word in the search box."; return; }
    const hits = search(query);
    status.textContent = hits.length
      ? `${hits.length} section${hits.length === 1 ? "" : "s"} found for “${query}”.`
      : `Nothing found for “${query}”.`;
    for (const { entry } of hits) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = entry.href;
      link.textContent = entry.title;
      const where = document.createElement("div");
      where.className = "where";
      where.textContent = entry.page;
      const text = document.createElement("p");
      text.textContent = snippet(entry.text, terms);
      item.append(link, where, text);
      list.append(item);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const input = document.querySelector(".site-search input[name=q]");
    const query = new URLSearchParams(window.location.search).get("q") || "";
    input.value = query;
    input.addEventListener("input", () => show(input.value));
    show(query);
  });
})();
