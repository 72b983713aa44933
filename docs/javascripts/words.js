/*
 * Our own words in the page's language, for the site's other scripts.
 *
 * javascripts/kb-words.js, written by each language's build from the catalogue
 * (kb.render.script_words), sets window.kbWords, keyed by their English: "words" for plain
 * messages, "counts" for messages with a number, each the list of its forms for 0 to 7 (the
 * forms of English and Welsh differ only below 7, so 7 stands for every number above). A
 * message it does not hold is shown in English. The callers put values in with textContent,
 * never as markup.
 */
(function () {
  "use strict";
  var table = null;

  function words() {
    if (table === null) {
      table = window.kbWords || {};
    }
    return table;
  }

  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (whole, name) {
      return values && name in values ? String(values[name]) : whole;
    });
  }

  /* say("Showing %(shown)s of %(total)s statements.", {shown: 3, total: 9}) */
  window.kbSay = function (english, values) {
    var known = (words().words || {})[english];
    return fill(known || english, values);
  };

  /* sayCount("%(num)s statement", "%(num)s statements", 3): the form for the number. */
  window.kbSayCount = function (one, many, number, values) {
    var forms = (words().counts || {})[one];
    var text = forms ? forms[Math.min(Math.max(number, 0), 7)] : (number === 1 ? one : many);
    var all = { num: number };
    for (var name in values || {}) {
      all[name] = values[name];
    }
    return fill(text, all);
  };
})();
