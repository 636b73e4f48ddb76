// Draw every ```mermaid fence of the page (nbconvert writes <div class="jp-Mermaid"><pre class="mermaid">)
// as inline SVG, with the copy of mermaid this site carries (assets/mermaid.min.js): no network needed.
// When done, <body data-diagrams="done"> (tests wait for it); a diagram that fails shows why, next to its source.
(function () {
  "use strict";

  async function drawAll() {
    const blocks = document.querySelectorAll(".jp-Mermaid > pre.mermaid");
    if (blocks.length && window.mermaid) {
      window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", suppressErrorRendering: true });
      let count = 0;
      for (const source of blocks) {
        await draw(source, `site-diagram-${count++}`);
      }
    }
    document.body.dataset.diagrams = "done";
  }

  async function draw(source, id) {
    const holder = source.parentNode;
    try {
      const { svg } = await window.mermaid.render(id, source.textContent.trim());
      const figure = document.createElement("figure");
      figure.className = "diagram";
      figure.innerHTML = svg;
      holder.appendChild(figure);
      holder.classList.add("diagram-rendered");
    } catch (error) {
      const warning = document.createElement("pre");
      warning.className = "diagram-error";
      warning.textContent = `This diagram could not be drawn: ${error && error.message ? error.message : error}`;
      holder.appendChild(warning);
      holder.classList.add("diagram-failed");
    }
  }

  document.addEventListener("DOMContentLoaded", drawAll);
})();
