// A code block that scrolls sideways (on a phone) says so: a shadow on the side that has more
// (a11y.css; issue 26). The theme already gives such a block the keyboard focus (tabindex=0).
(() => {
  const SCROLLERS = "pre, .cell_output > .output";

  function mark(block) {
    const more = block.scrollWidth - block.clientWidth;
    block.classList.toggle("scrolls-left", more > 1 && block.scrollLeft > 1);
    block.classList.toggle("scrolls-right", more > 1 && block.scrollLeft < more - 1);
  }

  function markAll() {
    document.querySelectorAll(SCROLLERS).forEach(mark);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.addEventListener("scroll", event => {
      if (event.target instanceof Element && event.target.matches(SCROLLERS)) mark(event.target);
    }, {capture: true, passive: true});
    markAll();
    new ResizeObserver(markAll).observe(document.documentElement);
  });
})();
