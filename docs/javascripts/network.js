/* Evidence network: a focus view on one recommendation, kept in the address.
 *
 * Without JavaScript the drawing is a plain picture whose names are links, and the table of
 * links follows it. With it, the form above the drawing (hidden until now) chooses a
 * recommendation: its lines and studies stay as they are and the rest of the drawing fades.
 * The address then ends in #focus=ID, so the view can be bookmarked, shared and reloaded.
 * Pointing at a name, or moving the keyboard focus to it, shows that name's lines for as
 * long as it is pointed at or focused. Lines and names carry their record IDs in data-rec and
 * data-study attributes, written by the site build (kb/render/network.py).
 */
(function () {
  "use strict";

  var PREFIX = "#focus=";

  function start() {
    var form = document.getElementById("kb-network-focus");
    var select = document.getElementById("kb-network-focus-rec");
    var status = document.getElementById("kb-network-focus-status");
    var drawing = select && document.getElementById(select.getAttribute("aria-controls"));
    if (!form || !select || !status || !drawing || form.dataset.ready) {
      return;
    }
    form.dataset.ready = "yes";
    var lines = Array.prototype.slice.call(drawing.querySelectorAll(".kb-network__link"));
    var nodes = Array.prototype.slice.call(drawing.querySelectorAll(".kb-node"));
    var known = {};
    Array.prototype.forEach.call(select.options, function (option) {
      if (option.value) {
        known[option.value] = option.text;
      }
    });
    var chosen = "";

    function kindOf(node) {
      return node.hasAttribute("data-rec") ? "rec" : "study";
    }

    // Light the lines of one node (kind "rec" or "study") and the names at their ends; fade
    // the rest. With no ID, show everything. Returns how many lines and studies are lit.
    function light(kind, id) {
      var lit = { rec: {}, study: {} };
      var count = { lines: 0, studies: 0 };
      drawing.classList.toggle("is-focused", Boolean(id));
      lines.forEach(function (line) {
        var on = Boolean(id) && line.getAttribute("data-" + kind) === id;
        line.classList.toggle("is-on", on);
        if (on) {
          count.lines += 1;
          lit.rec[line.getAttribute("data-rec")] = true;
          lit.study[line.getAttribute("data-study")] = true;
        }
      });
      nodes.forEach(function (node) {
        var nodeKind = kindOf(node);
        var nodeId = node.getAttribute("data-" + nodeKind);
        node.classList.toggle("is-on", Boolean(lit[nodeKind][nodeId]));
        node.classList.toggle("is-chosen", Boolean(id) && nodeKind === kind && nodeId === id);
      });
      count.studies = Object.keys(lit.study).length;
      return count;
    }


    function choose(id, announce) {
      chosen = known[id] ? id : "";
      select.value = chosen;
      var count = light("rec", chosen);
      if (chosen) {
        status.textContent = window.kbSay(
          "Showing %(links)s to %(studies)s for “%(title)s”; the rest of the drawing is faded.", {
            links: window.kbSayCount("%(num)s evidence link", "%(num)s evidence links", count.lines),
            studies: window.kbSayCount("%(num)s study", "%(num)s studies", count.studies),
            title: known[chosen]
          });
      } else {
        status.textContent = announce ? window.kbSay("Showing every recommendation.") : "";
      }
    }

    function fromAddress() {
      var hash = window.location.hash;
      if (hash.indexOf(PREFIX) !== 0) {
        return "";
      }
      try {
        return decodeURIComponent(hash.slice(PREFIX.length));
      } catch (error) {
        return "";
      }
    }

    function toAddress() {
      var address = window.location.pathname + window.location.search;
      window.history.replaceState(null, "", chosen ? address + PREFIX + encodeURIComponent(chosen) : address);
    }

    // A preview while a name is pointed at or focused; the chosen view comes back after.
    function preview(event) {
      var node = event.target.closest && event.target.closest(".kb-node");
      if (node) {
        light(kindOf(node), node.getAttribute("data-" + kindOf(node)));
      }
    }
    function endPreview(event) {
      var node = event.target.closest && event.target.closest(".kb-node");
      var next = event.relatedTarget && event.relatedTarget.closest && event.relatedTarget.closest(".kb-node");
      if (node && node !== next) {
        light("rec", chosen);
      }
    }

    select.addEventListener("change", function () {
      choose(select.value, true);
      toAddress();
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
    });
    window.addEventListener("hashchange", function () {
      // A jump to a heading's anchor (#links) is not a choice: the view stays as it is.
      if (!window.location.hash || window.location.hash.indexOf(PREFIX) === 0) {
        choose(fromAddress(), true);
      }
    });
    // Listen on the figure around the drawing: Chromium makes an SVG element that has focus
    // listeners a stop of its own in the tab order.
    var figure = drawing.parentNode;
    figure.addEventListener("focusin", preview);
    figure.addEventListener("focusout", endPreview);
    figure.addEventListener("mouseover", preview);
    figure.addEventListener("mouseout", endPreview);
    choose(fromAddress(), false);
    form.hidden = false;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
