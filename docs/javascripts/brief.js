/* Evidence brief: a basket of recommendations, gathered into a brief that can be shared.
 *
 * Anywhere on the site a statement can be ticked for the brief: in the explorer (a "Brief"
 * box in each row), in the search results (a "Brief" button beside each statement found) and
 * on its own page (the "Brief" button, beside "Copy for briefing"). The ticked IDs are kept in
 * this browser (localStorage, "kb-brief") and counted in a link to the brief page.
 *
 * The brief page (brief/) holds every statement's part of a brief, written by the site build
 * and hidden; it shows those its address names, ?ids=a,b,c, in that order, with their key
 * messages (strongest first), the overview sentence and the references they cite. Opening it
 * without ids shows the basket and writes it into the address; opening a shared address makes
 * its selection the basket. Its print stylesheet (brief.css) leaves only the brief.
 *
 * "Copy for briefing" puts the statement, the strength of its evidence, its key quote and its
 * full citation on the clipboard as plain text and as rich text (HTML) for a word processor.
 * Record text is only ever set as textContent, never parsed as HTML.
 */
(function () {
  "use strict";

  var KEY = "kb-brief";
  var ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

  function basket() {
    try {
      var ids = JSON.parse(window.localStorage.getItem(KEY) || "[]");
      return Array.isArray(ids) ? ids.filter(function (id) { return ID.test(id); }) : [];
    } catch (error) {
      return [];
    }
  }

  function keep(ids) {
    try {
      window.localStorage.setItem(KEY, JSON.stringify(ids));
    } catch (error) {
      // Storage refused (a private window): the brief page's address still holds the selection.
    }
    document.dispatchEvent(new CustomEvent("kb-brief-changed"));
  }

  function toggle(id, wanted) {
    var ids = basket().filter(function (other) { return other !== id; });
    if (wanted) {
      ids.push(id);
    }
    keep(ids);
  }

  function siteRoot() {
    var config = document.getElementById("__config");
    var base = ".";
    try {
      base = JSON.parse(config.textContent).base || ".";
    } catch (error) {
      base = ".";
    }
    return new URL(base.replace(/\/?$/, "/"), window.location.href);
  }

  function briefAddress(ids) {
    var address = new URL("brief/", siteRoot());
    if (ids.length) {
      address.search = "?ids=" + ids.join(",");
    }
    return address.href;
  }

  function element(name, attributes, text) {
    var made = document.createElement(name);
    Object.keys(attributes || {}).forEach(function (key) {
      made.setAttribute(key, attributes[key]);
    });
    if (text !== undefined) {
      made.textContent = text;
    }
    return made;
  }

  /* A "Brief" switch for one statement: a checkbox (explorer rows) or a pressed button. */
  function tickBox(id, title) {
    var label = element("label", { "class": "kb-brief-tick" });
    var box = element("input", { type: "checkbox", "data-brief-id": id });
    box.setAttribute("aria-label", window.kbSay("Add to the brief: %(title)s", { title: title }));
    box.checked = basket().indexOf(id) >= 0;
    box.addEventListener("change", function () { toggle(id, box.checked); });
    label.appendChild(box);
    label.appendChild(document.createTextNode(" Brief"));
    return label;
  }

  function tickButton(id, title) {
    var button = element("button", { type: "button", "class": "md-button kb-brief-toggle",
                                      "data-brief-id": id });
    function show() {
      var chosen = basket().indexOf(id) >= 0;
      button.setAttribute("aria-pressed", chosen ? "true" : "false");
      button.textContent = window.kbSay(chosen ? "In the brief ✓" : "Add to brief");
      button.title = window.kbSay(
        chosen ? "Remove from the brief: %(title)s" : "Add to the brief: %(title)s", { title: title });
    }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      event.stopPropagation();
      toggle(id, basket().indexOf(id) < 0);
    });
    document.addEventListener("kb-brief-changed", show);
    show();
    return button;
  }

  /* The link to the brief page, with the count of statements ticked. */
  function basketLink() {
    var link = document.getElementById("kb-brief-basket");
    if (!link) {
      link = element("a", { id: "kb-brief-basket", "class": "kb-brief-basket" });
      document.body.appendChild(link);
    }
    var ids = basket();
    link.hidden = ids.length === 0 || Boolean(document.getElementById("kb-brief-document"));
    link.href = briefAddress(ids);
    link.textContent = window.kbSayCount("Brief: %(num)s selected →", "Brief: %(num)s selected →",
                                         ids.length);
  }

  function explorer() {
    var table = document.getElementById("kb-explorer-table");
    if (!table || table.dataset.briefReady) {
      return;
    }
    table.dataset.briefReady = "yes";
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var code = row.cells[0].querySelector("code");  // each row shows its statement's ID
      var id = code ? code.textContent.trim() : "";
      if (ID.test(id)) {
        row.dataset.briefId = id;
        var link = row.cells[0].querySelector("a");
        row.cells[0].insertBefore(tickBox(id, link ? link.textContent : id),
                                  row.cells[0].firstChild);
      }
    });
    document.addEventListener("kb-brief-changed", function () {
      var ids = basket();
      table.querySelectorAll("input[data-brief-id]").forEach(function (box) {
        box.checked = ids.indexOf(box.dataset.briefId) >= 0;
      });
    });
  }

  /* Search results: a "Brief" button beside each statement the search box finds. */
  function searchResults() {
    var list = document.querySelector(".md-search-result__list");
    if (!list || list.dataset.briefReady) {
      return;
    }
    list.dataset.briefReady = "yes";
    function mark() {
      list.querySelectorAll(".md-search-result__item").forEach(function (item) {
        var link = item.querySelector("a.md-search-result__link");
        if (!link || item.querySelector(".kb-brief-toggle")) {
          return;
        }
        var found = /\/recommendations\/([a-z0-9][a-z0-9-]{0,63})\/(?:[?#].*)?$/.exec(
          new URL(link.getAttribute("href"), window.location.href).pathname);
        if (found) {
          var title = item.querySelector("h1, h2, .md-search-result__title");
          item.appendChild(tickButton(found[1], title ? title.textContent : found[1]));
        }
      });
    }
    new MutationObserver(mark).observe(list, { childList: true, subtree: true });
    mark();
  }

  function copyText(plain, html) {
    function fill(event) {
      event.clipboardData.setData("text/plain", plain);
      event.clipboardData.setData("text/html", html);
      event.preventDefault();
    }
    document.addEventListener("copy", fill);
    var done = false;
    try {
      done = document.execCommand("copy");
    } finally {
      document.removeEventListener("copy", fill);
    }
    return done;
  }

  /* What "Copy for briefing" puts on the clipboard, from the page's hidden copy block. */
  function briefing(block) {
    var parts = {};
    block.querySelectorAll("[data-copy]").forEach(function (part) {
      parts[part.dataset.copy] = part.textContent;
    });
    var address = parts.permalink || "";
    var here = window.location.href.split(/[?#]/)[0];
    var online = !address && /^https?:$/.test(window.location.protocol) ? here : "";
    var plain = [
      parts.title,
      "“" + parts.statement + "”",
      window.kbSay("Strength of evidence:") + " " + parts.strength + ". " + parts.meaning,
    ];
    if (parts.quote) {
      plain.push(window.kbSay("Key quote:") + " “" + parts.quote + "” (" + parts.quoted + ")");
    }
    plain.push(window.kbSay("Source:") + " " + parts.citation +
               (online ? " " + window.kbSay("Online:") + " " + online : ""));
    var rich = element("div");
    rich.appendChild(element("p")).appendChild(element("strong", {}, parts.title));
    rich.appendChild(element("blockquote")).appendChild(element("p", {}, parts.statement));
    var strength = rich.appendChild(element("p"));
    strength.appendChild(element("strong", {},
                                 window.kbSay("Strength of evidence:") + " " + parts.strength + "."));
    strength.appendChild(document.createTextNode(" " + parts.meaning));
    if (parts.quote) {
      rich.appendChild(element("p", {}, window.kbSay("Key quote:") + " “" + parts.quote + "” (" +
                                       parts.quoted + ")"));
    }
    var source = rich.appendChild(element("p", {}, window.kbSay("Source:") + " "));
    var link = address || online;
    var citation = parts.citation;
    if (address && citation.slice(-(address.length + 1)) === address + ".") {
      source.appendChild(document.createTextNode(citation.slice(0, -(address.length + 1))));
      source.appendChild(element("a", { href: address }, address));
      source.appendChild(document.createTextNode("."));
    } else {
      source.appendChild(document.createTextNode(citation));
      if (link) {
        source.appendChild(document.createTextNode(" Online: "));
        source.appendChild(element("a", { href: link }, link));
      }
    }
    return { plain: plain.join("\n\n") + "\n", html: rich.innerHTML };
  }

  function recordPage() {
    var actions = document.querySelector(".kb-brief-actions");
    if (!actions || actions.dataset.briefReady || !ID.test(actions.dataset.id || "")) {
      return;
    }
    actions.dataset.briefReady = "yes";
    var id = actions.dataset.id;
    var block = actions.querySelector(".kb-brief-copy");
    var title = block.querySelector("[data-copy=title]").textContent;
    var bar = element("p", { "class": "kb-brief-bar" });
    bar.appendChild(tickButton(id, title));
    var copy = element("button", { type: "button", "class": "md-button kb-brief-copy-button" },
                       window.kbSay("Copy for briefing"));
    var said = element("span", { "class": "kb-brief-said", role: "status" });
    copy.addEventListener("click", function () {
      var made = briefing(block);
      said.textContent = copyText(made.plain, made.html)
        ? window.kbSay("Copied: statement, strength, key quote and citation.")
        : window.kbSay("Your browser did not allow copying; select the text instead.");
    });
    bar.appendChild(document.createTextNode(" "));
    bar.appendChild(copy);
    bar.appendChild(document.createTextNode(" "));
    bar.appendChild(said);
    actions.appendChild(bar);
  }

  /* Each kind of statement counted, from the messages kb.brief.content.overview uses. */
  var KINDS = {
    "recommendation": ["%(num)s recommendation", "%(num)s recommendations"],
    "key-message": ["%(num)s key message", "%(num)s key messages"],
    "recurring": ["%(num)s recurring recommendation", "%(num)s recurring recommendations"],
    "government-action": ["%(num)s government action", "%(num)s government actions"],
  };

  /* The overview sentence, as kb.brief.content.overview writes it, in the page's language. */
  function overview(messages) {
    var kinds = [], kindCounts = {}, levels = [], levelCounts = {}, ranks = {};
    messages.forEach(function (item) {
      var kind = item.dataset.kind, words = item.dataset.words;
      if (!(kind in kindCounts)) { kinds.push(kind); kindCounts[kind] = 0; }
      kindCounts[kind] += 1;
      if (!(words in levelCounts)) { levels.push(words); levelCounts[words] = 0; }
      levelCounts[words] += 1;
      ranks[words] = Number(item.dataset.rank);
    });
    var parts = kinds.map(function (kind) {
      return window.kbSayCount(KINDS[kind][0], KINDS[kind][1], kindCounts[kind]);
    });
    var covers = parts.length === 1 ? parts[0]
      : window.kbSayCount("%(num)s statement", "%(num)s statements", messages.length) + ": " +
        parts.join(", ");
    levels.sort(function (a, b) { return ranks[b] - ranks[a]; });
    return window.kbSay("%(covers)s. Headline strength of evidence: %(levels)s.", {
      covers: covers,
      levels: levels.map(function (words) {
        return window.kbSay("%(level)s for %(num)s", { level: words, num: levelCounts[words] });
      }).join(", "),
    });
  }

  function briefPage() {
    var documentPart = document.getElementById("kb-brief-document");
    var controls = document.getElementById("kb-brief-controls");
    if (!documentPart || controls.dataset.briefReady) {
      return;
    }
    controls.dataset.briefReady = "yes";
    var status = document.getElementById("kb-brief-status");
    var itemsPart = document.getElementById("kb-brief-items");
    var messagesPart = document.getElementById("kb-brief-messages");
    var items = {}, messages = {};
    Array.prototype.forEach.call(itemsPart.children, function (item) {
      items[item.dataset.id] = item;
      var remove = element("button", { type: "button", "class": "md-button kb-brief-remove" },
                           window.kbSay("Remove from the brief"));
      remove.addEventListener("click", function () {
        show(selected().filter(function (id) { return id !== item.dataset.id; }));
      });
      item.insertBefore(remove, item.children[1]);
    });
    Array.prototype.forEach.call(messagesPart.children, function (item) {
      messages[item.dataset.id] = item;
    });
    var references = Array.prototype.slice.call(
      document.getElementById("kb-brief-references").children);

    function selected() {
      var params = new URLSearchParams(window.location.search);
      var ids = (params.get("ids") || "").split(",").filter(Boolean);
      return ids.filter(function (id, index) { return ids.indexOf(id) === index; });
    }

    function show(ids) {
      var known = ids.filter(function (id) { return ID.test(id) && items[id]; });
      var unknown = ids.filter(function (id) { return known.indexOf(id) < 0; });
      var query = known.length ? "?ids=" + known.join(",") : "";
      window.history.replaceState(null, "", window.location.pathname + query);
      keep(known);
      Object.keys(items).forEach(function (id) {
        items[id].hidden = known.indexOf(id) < 0;
        messages[id].hidden = known.indexOf(id) < 0;
      });
      known.forEach(function (id, index) {
        itemsPart.appendChild(items[id]);
        items[id].querySelector(".kb-brief-number").textContent = (index + 1) + ".";
      });
      var shown = known.map(function (id) { return messages[id]; });
      shown.slice().sort(function (a, b) {
        return Number(b.dataset.rank) - Number(a.dataset.rank) ||
          known.indexOf(a.dataset.id) - known.indexOf(b.dataset.id);
      }).forEach(function (item) { messagesPart.appendChild(item); });
      document.getElementById("kb-brief-overview").textContent =
        shown.length ? overview(shown) : "";
      var cited = {};
      known.forEach(function (id) {
        items[id].dataset.references.split(" ").forEach(function (ref) { cited[ref] = true; });
      });
      references.forEach(function (item) { item.hidden = !cited[item.dataset.id]; });
      documentPart.hidden = known.length === 0;
      var words = known.length
        ? window.kbSayCount("%(num)s statement in this brief.", "%(num)s statements in this brief.",
                            known.length)
        : window.kbSay("No statement is selected yet: tick “Brief” in the explorer, the search " +
                       "results or on a recommendation’s page.");
      if (unknown.length) {
        words += " " + window.kbSay("Not found, so left out: %(ids)s.", { ids: unknown.join(", ") });
      }
      status.textContent = words;
      controls.querySelectorAll("[data-brief-action=print], [data-brief-action=copy-link], " +
                                "[data-brief-action=clear]").forEach(function (button) {
        button.disabled = known.length === 0;
      });
    }

    controls.addEventListener("click", function (event) {
      var action = event.target.getAttribute("data-brief-action");
      if (action === "print") {
        window.print();
      } else if (action === "copy-link") {
        var link = window.location.href;
        copyText(link, "<a href=\"" + encodeURI(link).replace(/"/g, "%22") + "\">" +
                 window.kbSay("Evidence brief").replace(/[&<>"]/g, function (c) {
                   return "&#" + c.charCodeAt(0) + ";";
                 }) + "</a>");
        status.textContent = window.kbSay("Link copied: %(link)s", { link: link });
      } else if (action === "clear") {
        show([]);
      }
    });
    var wanted = selected();
    show(wanted.length ? wanted : basket());
    controls.hidden = false;
  }

  function start() {
    explorer();
    recordPage();
    briefPage();
    searchResults();
    basketLink();
  }

  document.addEventListener("kb-brief-changed", basketLink);
  // Another tab ticked something: show it here too.
  window.addEventListener("storage", function (event) {
    if (event.key === KEY) {
      document.dispatchEvent(new CustomEvent("kb-brief-changed"));
    }
  });
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(start);  // Material's instant navigation, if turned on
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  // The search box is made when it is first opened.
  document.addEventListener("focusin", searchResults);
})();
