/* Names what Material for MkDocs leaves unnamed, so assistive technology can tell the parts of
 * a page apart (axe: aria-dialog-name, landmark-unique):
 * - the search box's dialog;
 * - the copy button's <nav> on each code block (our citations), named after the block's
 *   caption or its place on the page;
 * - the <nav> of tags on each search result, named after the result's title.
 * Material adds the last two as the page runs, so new elements are named as they appear. */
(function () {
  "use strict";

  function text(element) {
    return element ? element.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function nameCodeNavigation(nav) {
    var blocks = Array.prototype.slice.call(document.querySelectorAll("nav.md-code__nav"));
    var block = nav.closest("pre") || nav.parentElement;
    var caption = block && block.closest("details, .kb-cite, section");
    var heading = caption && caption.querySelector("summary, .kb-caption, h2, h3");
    var what = text(heading) || "code block " + (blocks.indexOf(nav) + 1);
    nav.setAttribute("aria-label", "Copy " + what + " (" + (blocks.indexOf(nav) + 1) + ")");
  }

  function nameResultTags(nav) {
    var result = nav.closest(".md-search-result__item, li");
    var title = result && result.querySelector("h1, h2");
    nav.setAttribute("aria-label", "Kind and strength: " + (text(title) || "search result"));
  }

  function name(root) {
    if (!(root instanceof Element)) {
      return;
    }
    var found = root.matches("nav") ? [root] : root.querySelectorAll("nav");
    Array.prototype.forEach.call(found, function (nav) {
      if (nav.hasAttribute("aria-label")) {
        return;
      }
      if (nav.classList.contains("md-code__nav")) {
        nameCodeNavigation(nav);
      } else if (nav.classList.contains("md-tags")) {
        nameResultTags(nav);
      }
    });
  }

  var dialog = document.querySelector(".md-search[role=dialog]");
  if (dialog && !dialog.hasAttribute("aria-label")) {
    dialog.setAttribute("aria-label", "Search the knowledge base");
  }
  name(document.body);
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      Array.prototype.forEach.call(change.addedNodes, name);
    });
  }).observe(document.body, { childList: true, subtree: true });
})();
