/* Recommendation explorer: filter the table of statements, keeping the filters in the URL.
 *
 * Without JavaScript the page is a plain table of every statement and the filter form stays
 * hidden. With it, each <select> and the text box filter the rows; the query string holds
 * the current filters (e.g. ?theme=hsc-data&level=S3&text=ethnicity), so a filtered view can
 * be bookmarked, shared and reloaded. Rows carry their facet values as space-separated tokens
 * in data-* attributes, written by the site build.
 */
(function () {
  "use strict";

  function start() {
    var form = document.getElementById("kb-explorer-filters");
    var table = document.getElementById("kb-explorer-table");
    if (!form || !table || form.dataset.ready) {
      return;
    }
    form.dataset.ready = "yes";
    var status = document.getElementById("kb-explorer-status");
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var selects = Array.prototype.slice.call(form.querySelectorAll("select"));
    var text = form.querySelector("input[name=text]");
    rows.forEach(function (row) {
      row.dataset.search = row.textContent.toLowerCase().replace(/\s+/g, " ");
    });

    function readUrl() {
      var params = new URLSearchParams(window.location.search);
      selects.forEach(function (select) {
        var value = params.get(select.name) || "";
        var known = Array.prototype.some.call(select.options, function (option) {
          return option.value === value;
        });
        select.value = known ? value : "";
      });
      text.value = params.get("text") || "";
    }

    function writeUrl() {
      var params = new URLSearchParams(window.location.search);
      selects.concat([text]).forEach(function (field) {
        if (field.value) {
          params.set(field.name, field.value);
        } else {
          params.delete(field.name);
        }
      });
      var query = params.toString();
      var address = window.location.pathname + (query ? "?" + query : "") + window.location.hash;
      window.history.replaceState(null, "", address);
    }

    function apply() {
      var words = text.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var match = selects.every(function (select) {
          if (!select.value) {
            return true;
          }
          var values = (row.getAttribute("data-" + select.name) || "").split(" ");
          return values.indexOf(select.value) >= 0;
        }) && words.every(function (word) {
          return row.dataset.search.indexOf(word) >= 0;
        });
        row.hidden = !match;
        if (match) {
          shown += 1;
        }
      });
      status.textContent = shown === rows.length
        ? "Showing all " + rows.length + " statements."
        : "Showing " + shown + " of " + rows.length + " statements.";
    }

    form.addEventListener("input", function () {
      apply();
      writeUrl();
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
    });
    form.addEventListener("reset", function () {
      window.setTimeout(function () {
        apply();
        writeUrl();
      });
    });
    window.addEventListener("popstate", function () {
      readUrl();
      apply();
    });
    readUrl();
    apply();
    form.hidden = false;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
