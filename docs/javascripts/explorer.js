/* Recommendation explorer: filter and sort the table of statements, keeping both in the URL.
 *
 * Without JavaScript the page is a plain table of every statement, in its default order
 * (theme, then place in the theme's list), and the filter form stays hidden. With it, each
 * <select> and the text box filter the rows, and each column heading becomes a button that
 * sorts by it (again to reverse). The query string holds the current view (e.g.
 * ?theme=hsc-data&level=atleast-S3&text=ethnicity&sort=-rank), so it can be bookmarked,
 * shared and reloaded. The strength filter takes a level exactly (level=S3) or at least
 * (level=atleast-S3). Rows carry their facet values as space-separated tokens in data-*
 * attributes, and their sort keys in data-sort-*, written by the site build.
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
    table.classList.add("kb-sortable");
    var status = document.getElementById("kb-explorer-status");
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var selects = Array.prototype.slice.call(form.querySelectorAll("select"));
    var text = form.querySelector("input[name=text]");
    var headings = Array.prototype.slice.call(table.tHead.rows[0].cells).filter(function (cell) {
      return cell.dataset.sort;
    });
    var sort = "";  // a data-sort key, "-" before it for descending; "" for the default order
    rows.forEach(function (row) {
      row.dataset.search = row.textContent.toLowerCase().replace(/\s+/g, " ");
    });
    headings.forEach(function (cell) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "kb-sort";
      button.textContent = cell.textContent;
      cell.textContent = "";
      cell.appendChild(button);
      button.addEventListener("click", function () {
        var key = cell.dataset.sort;
        sort = sort === key ? "-" + key : key;
        order();
        writeUrl();
      });
    });

    function sortKey(row, key) {
      var value = row.dataset["sort" + key.charAt(0).toUpperCase() + key.slice(1)] || "";
      return /^-?\d+$/.test(value) ? Number(value) : value;
    }

    function order() {
      var key = sort.replace(/^-/, "");
      var down = sort.charAt(0) === "-";
      var sorted = rows.slice().sort(function (a, b) {
        if (key) {
          var x = sortKey(a, key), y = sortKey(b, key);
          if (x !== y) {
            return (x < y ? -1 : 1) * (down ? -1 : 1);
          }
        }
        return Number(a.dataset.order) - Number(b.dataset.order);
      });
      sorted.forEach(function (row) {
        table.tBodies[0].appendChild(row);
      });
      headings.forEach(function (cell) {
        if (cell.dataset.sort === key) {
          cell.setAttribute("aria-sort", down ? "descending" : "ascending");
        } else {
          cell.removeAttribute("aria-sort");
        }
      });
    }

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
      var wanted = params.get("sort") || "";
      sort = headings.some(function (cell) {
        return cell.dataset.sort === wanted.replace(/^-/, "");
      }) ? wanted : "";
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
      if (sort) {
        params.set("sort", sort);
      } else {
        params.delete("sort");
      }
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
          var atLeast = /^atleast-S(\d)$/.exec(select.value);
          if (atLeast) {  // "at least S3": the row's level is S3, S4 or S5
            return values.some(function (value) {
              return /^S\d$/.test(value) && Number(value.charAt(1)) >= Number(atLeast[1]);
            });
          }
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
        ? window.kbSayCount("Showing all %(num)s statement.", "Showing all %(num)s statements.",
                            rows.length)
        : window.kbSay("Showing %(shown)s of %(total)s statements.",
                       { shown: shown, total: rows.length });
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
        sort = "";
        order();
        apply();
        writeUrl();
      });
    });
    window.addEventListener("popstate", function () {
      readUrl();
      order();
      apply();
    });
    readUrl();
    order();
    apply();
    form.hidden = false;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
