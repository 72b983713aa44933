/*
 * The site's search: Pagefind behind Material for MkDocs' search box.
 *
 * Material hands each query to a web worker that answers in its message format (SETUP → READY,
 * QUERY → RESULT; see Material's "custom search" documentation). This worker asks Pagefind,
 * whose index is built over the finished site and fetched in small pieces, so a query costs a
 * few kilobytes however large the site. Like `kb search`, it finds the synonyms of the
 * query's words (kb/data/synonyms.yaml: each page is indexed with the synonyms its words lack,
 * `synonyms_to_add` in kb/render/site_search.py, so they cost no more fetches), searches the
 * UK spelling of US words, and weighs each kind of record as `kb search` does (a
 * recommendation before a study for the same match). When no recommendation matches the whole
 * query, the first result says so and points to the nearest one.
 *
 * Everything shown is escaped here or by Pagefind: record text is untrusted.
 */

const SETUP = 0, READY = 1, QUERY = 2, RESULT = 3
// The kinds of statement a "no recommendation matches" notice looks for, as kb search does.
const STATEMENTS = new Set(
  ["Recommendation", "Key message", "Recurring recommendation", "Government action"])
const SHOWN = 10                 // results shown, as Material's own search shows them
const RERANKED = SHOWN           // candidates read and scored again by where their words are
const TITLE_BONUS = 1            // a title holding every part of the query doubles a score
const PHRASE_BONUS = 1.5         // the query's words in their order count half as much again
const COVERAGE_POWER = 1.5       // a page holding half the query's parts scores a third

const root = new URL("..", self.location.href)   // this file is javascripts/kb-search.js
let pagefind = null
// search/kb-search.json (kb/render/site_search.py): the synonym groups, the US-to-UK spelling
// folds, the stop words, the kinds' priors, the mark that starts a page's added synonyms, and
// the messages in the site's language.
let vocabulary = {
  groups: [], endings: [], stems: {}, stopwords: [], priors: {}, mark: "\u2042", language: "en",
  messages: {}
}
let stopwords = new Set()
let pages = 1                    // how many pages the index holds
let groupWords = []              // each synonym group's terms as words, as a query is read
// Each page's kind ("Recommendation", "Study"…) by its Pagefind id, from
// pagefind/kb-kinds.json.gz (kb/render/site_search.py), written beside the index: the pages
// of every kind but the commonest are listed, and a page not listed is of the commonest kind.
let kinds = { common: "Study", of: () => undefined }

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`)
}

/* Lower-case words without accents; "anti-racist" is two words, as Pagefind reads it too,
   and a possessive 's goes. */
function words(text) {
  return (text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
    .replace(/['’]s\b/g, "").match(/[\p{L}\p{N}]+/gu) || [])
}

/* The UK spelling of a US word ("anonymized" → "anonymised"), or the word itself. */
function ukSpelling(word) {
  let text = word
  for (const [pattern, replacement] of vocabulary.endings)
    text = text.replace(new RegExp(pattern), replacement)
  for (const [us, uk] of Object.entries(vocabulary.stems))
    if (text.startsWith(us) && !text.startsWith(uk))
      text = uk + text.slice(us.length)
  return text
}

/* Words alike but for a plural -s: "interpreters" matches the term "interpreter". */
function same(a, b) {
  return a === b || a === `${b}s` || b === `${a}s` || a === `${b}es` || b === `${a}es`
}

/* A text's words as a query's are searched: in UK spelling, without stop words. */
function searchWords(text) {
  return words(text).map(ukSpelling).filter(word => !stopwords.has(word))
}

/*
 * The parts of a query, each searched on its own: a word in its UK spelling, or a synonym
 * group's term found in the query (one or more words), with the group's other terms, which
 * the pages are indexed with and a title may hold instead.
 */
function parts(query) {
  const tokens = searchWords(query)
  const covered = new Array(tokens.length).fill(null)
  const found = []
  for (const terms of groupWords) {
    for (const term of terms) {
      if (!term.length)
        continue
      for (let start = 0; start + term.length <= tokens.length; start++) {
        if (covered.slice(start, start + term.length).some(Boolean))
          continue
        if (!term.every((word, i) => same(word, tokens[start + i])))
          continue
        const text = tokens.slice(start, start + term.length).join(" ")
        const synonyms = terms.filter(other => other.length && other.join(" ") !== term.join(" "))
          .map(other => other.join(" "))
        // The term as the group writes it is searched too: it is what the pages holding one of
        // its synonyms were indexed with ("anonymised cvs" finds "anonymised CV").
        const part = { start, text, synonyms, searched: [...new Set([text, term.join(" ")])] }
        found.push(part)
        covered.fill(part, start, start + term.length)
      }
    }
  }
  tokens.forEach((token, index) => {
    if (!covered[index])
      found.push({ start: index, text: token, synonyms: [], searched: [token] })
  })
  return found.sort((a, b) => a.start - b.start)
}

/* A JSON file of the site; one written gzipped (the pages' kinds) is unpacked here, unless
   the host has already unpacked it on the way (as it may for a name ending in .gz). */
async function json(path) {
  const response = await fetch(new URL(path, root))
  if (!response.ok)
    throw new Error(`${path}: ${response.status}`)
  const bytes = new Uint8Array(await response.arrayBuffer())
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b)  // not gzip's signature
    return JSON.parse(new TextDecoder().decode(bytes))
  const unpacked = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))
  return new Response(unpacked).json()
}

/* The values a kinds file's list holds: sorted numbers written as the gaps between them, each
   in Rice code (its high part in unary, then `rice` low bits), in base 64. */
function riceDecode(coded, rice, count) {
  const bytes = Uint8Array.from(atob(coded), c => c.charCodeAt(0))
  let position = 0
  const bit = () => (bytes[position >> 3] >> (7 - (position++ & 7))) & 1
  const values = []
  let previous = -1
  for (let n = 0; n < count; n++) {
    let high = 0
    while (bit())
      high++
    let low = 0
    for (let i = 0; i < rice; i++)
      low = low * 2 + bit()
    previous += 1 + high * 2 ** rice + low
    values.push(previous)
  }
  return values
}

/* A page's kind by its Pagefind id ("en_3f2a9c1"), or undefined for the commonest kind, from
   the kinds file (`encode_page_kinds` in kb/render/site_search.py): a page is listed by its
   whole id, or by the first `bits` bits of its seven hexadecimal digits, which no other
   page's id starts with. */
function kindsReader({ bits, kinds: listed }) {
  const byId = new Map(), byPrefix = new Map()
  for (const [kind, { exact, count, rice, prefixes }] of Object.entries(listed)) {
    for (const id of exact ? exact.split(" ") : [])
      byId.set(id, kind)
    for (const prefix of riceDecode(prefixes, rice, count))
      byPrefix.set(prefix, kind)
  }
  const scale = 2 ** (28 - bits)
  return id => {
    const page = id.slice(id.indexOf("_") + 1)
    if (byId.has(page))
      return byId.get(page)
    if (/^[0-9a-f]{7}$/.test(page))
      return byPrefix.get(Math.floor(parseInt(page, 16) / scale))
    return undefined
  }
}

async function setup() {
  pagefind = await import(new URL("pagefind/pagefind.js", root).href)
  // This is already a worker: Pagefind is told not to start another of its own.
  await pagefind.options({
    basePath: new URL("pagefind/", root).pathname, excerptLength: 30, noWorker: true
  })
  // The synonyms and the pages' kinds are fetched while Pagefind loads its own files.
  const [index, synonyms, pageKinds] = await Promise.allSettled(
    [pagefind.init(), json("search/kb-search.json"), json("pagefind/kb-kinds.json.gz")])
  if (index.status === "rejected")
    throw index.reason  // no index: search is not available (see the message handler)
  if (synonyms.status === "fulfilled")
    vocabulary = synonyms.value
  else
    console.warn("kb search: no synonyms", synonyms.reason)
  stopwords = new Set(vocabulary.stopwords)
  groupWords = vocabulary.groups.map(group => group.map(searchWords))
  try {
    if (pageKinds.status === "rejected")
      throw pageKinds.reason
    kinds = { common: pageKinds.value.common, of: kindsReader(pageKinds.value) }
    pages = pageKinds.value.pages || 1
  } catch (error) {
    // Without it, a page's kind is learnt when its data is read (the reranked candidates).
    console.warn("kb search: no page kinds", error)
  }
  // Pagefind's first real search costs 100 ms or more beyond a later one's: setting up its
  // word splitter (Intl.Segmenter), compiling its WebAssembly search and unpacking code, and
  // reading a page's data the first time. It is paid now, before the box says it is ready,
  // with a search for the commonest kind's name (a word on most pages: one index chunk) and
  // the reading of its best page, rather than after the reader's first keystroke.
  try {
    const { results } = await pagefind.search(kinds.common)
    await Promise.all(results.slice(0, 1).map(result => result.data()))
  } catch (error) {
    console.warn("kb search: the first search failed", error)  // the next may not
  }
}

/* A page's kind: from its data once read, else from the list of kinds. */
function kindOf(entry) {
  if (entry.data)
    return (entry.data.filters.kind || ["Page"])[0]
  return kinds.of(entry.result.id) || kinds.common
}

/* The pages a part finds. A word no page holds is tried again by its first letters, so a
   misspelling still finds something ("bereavment"). */
async function partResults(word) {
  let { results } = await pagefind.search(word)
  for (let cut = word.length - 1; !results.length && !word.includes(" ") &&
       cut >= Math.max(4, Math.ceil(word.length * 0.6)); cut--)
    results = (await pagefind.search(word.slice(0, cut))).results
  return results
}

/* Each page a part finds, at its best score. */
async function lookUp(part) {
  const best = new Map()
  for (const results of await Promise.all(part.searched.map(partResults)))
    for (const result of results)
      if (!best.has(result.id) || result.score > best.get(result.id).score)
        best.set(result.id, { result, score: result.score })
  return best
}

/*
 * Pagefind finds pages holding every word of a query; a policy writer's question rarely
 * matches a page word for word, so each part is searched alone and the scores added up,
 * each weighted by how rare its part is (inverse document frequency, as `kb search` weighs
 * words), times the share of the query's parts the page holds (to the power 1.5), times the
 * prior for the page's kind that `kb search` uses (a recommendation before a study).
 */
function rank(partsScores, found) {
  const totals = new Map()
  for (const scores of partsScores) {
    const rarity = Math.log(1 + pages / (1 + scores.size))
    for (const [id, { result, score }] of scores) {
      const entry = totals.get(id) || { result, score: 0, parts: 0 }
      entry.score += score * rarity
      entry.parts += 1
      totals.set(id, entry)
    }
  }
  for (const entry of totals.values()) {
    entry.score *= (entry.parts / found.length) ** COVERAGE_POWER
    entry.kind = kindOf(entry)
    entry.score *= kindPrior(entry.kind)
  }
  return [...totals.values()].sort((a, b) => b.score - a.score)
}

/* The pages ranked by `rank`; the strongest candidates are then read and reranked (`rerank`),
   in one round of fetches with the best statement among the rest when the answer names it. */
async function searchAll(query) {
  const found = parts(query)
  const ranked = rank(await Promise.all(found.map(lookUp)), found)
  const candidates = ranked.slice(0, RERANKED)
  // A rerank only raises the pages it reads, so the best statement below them keeps its place
  // among the rest. It is the nearest recommendation when none is among the candidates, and
  // is read with them when the notice in `search` will name it (it lacks a part of the query).
  const below = !candidates.some(entry => STATEMENTS.has(entry.kind)) &&
    ranked.slice(RERANKED).find(entry => STATEMENTS.has(entry.kind))
  await Promise.all([
    rerank(candidates, query, found),
    below && below.parts < found.length && below.result.data().then(data => { below.data = data })
  ])
  ranked.sort((a, b) => b.score - a.score)
  const nearest = ranked.find(entry => STATEMENTS.has(entry.kind))
  return { ranked, parts: found.length, nearest }
}

/* How much a kind of page weighs, as `kb search` weighs it (a recommendation before a study),
   relative to a study's. */
function kindPrior(kind) {
  const common = vocabulary.priors.Study || 1
  return (vocabulary.priors[kind] || common) / common
}

/* A word found in a text, allowing for endings: "nurses" in "nurse", "men" not in "mental". */
function holds(textWords, word) {
  const stem = word.length > 5 ? word.slice(0, Math.max(5, word.length - 3)) : word
  return textWords.some(w => w === word || (stem !== word && w.startsWith(stem)) || same(w, word))
}

/*
 * Pagefind's scores know nothing of where a word is, so the strongest candidates are read
 * (their title and searchable text, a few kilobytes each) and scored again, as `kb search`
 * weighs fields: a page whose title holds the query's parts, or whose text holds the query's
 * words in their order, comes first.
 */
async function rerank(candidates, query, found) {
  const phrase = searchWords(query).join(" ")
  await Promise.all(candidates.map(async entry => {
    entry.data = await entry.result.data()
    const kind = kindOf(entry)  // as read, should the list of kinds be missing
    entry.score *= kindPrior(kind) / kindPrior(entry.kind)
    entry.kind = kind
    const title = words(entry.data.meta.title || "").map(ukSpelling)
    const inTitle = found.filter(part => [part.text, ...part.synonyms].some(term =>
      term.split(" ").every(word => holds(title, word)))).length
    entry.score *= 1 + TITLE_BONUS * inTitle / found.length
    const text = searchWords(ownText(entry.data)).join(" ")
    if (found.length > 1 && text.includes(phrase))
      entry.score *= PHRASE_BONUS
  }))
}

/* A page's own text: Pagefind's copy of its searchable text without the synonyms it was
   indexed with, which follow the mark. */
function ownText(data) {
  const content = data.content || ""
  const cut = content.lastIndexOf(` ${vocabulary.mark} `)
  return cut < 0 ? content : content.slice(0, cut)
}

/* Whether Pagefind's excerpt of a page, or of a section, came from the page's own text rather
   than from the synonyms it was indexed with. */
function ownExcerpt(excerpt, own) {
  const plain = excerpt.replace(/<[^>]*>/g, "")
  return !plain.includes(vocabulary.mark) && own.includes(plain)
}

/* About thirty words of a page's own text, from a little before the first word of the query
   (or of a synonym of it) the text holds, each such word marked: for a page Pagefind found by
   a synonym it was indexed with, whose excerpt would show the synonyms instead. */
function excerptOfOwnText(own, query) {
  const wanted = parts(query).flatMap(part => [part.text, ...part.synonyms])
    .flatMap(term => term.split(" "))
  const tokens = own.split(/\s+/).filter(Boolean)
  const matches = token => searchWords(token).some(word => wanted.some(w => same(word, w)))
  const start = Math.max(0, tokens.findIndex(matches) - 5)
  return tokens.slice(start, start + 30)
    .map(token => matches(token) ? `<mark>${escapeHtml(token)}</mark>` : escapeHtml(token))
    .join(" ")
}

/* A message in the site's language (search/kb-search.json, from kb/locale), with its
   %(name)s places filled by escaped values. */
function say(english, values = {}) {
  const text = vocabulary.messages[english] || english
  return text.replace(/%\((\w+)\)s/g, (whole, name) =>
    name in values ? escapeHtml(values[name]) : whole)
}

/* On a site in another language than English (the Welsh one, /cy/), where most records are in
   English only: a query that finds nothing there is offered to the English site's search. */
function englishSearch(query) {
  return [{
    location: new URL(`../?q=${encodeURIComponent(query)}`, root).href,
    title: say("Nothing on the Welsh site matches “%(query)s”", { query }),
    text: `<p>${say("Most records are in English only: search the English site for “%(query)s”.",
      { query })}</p>`,
    score: Number.MAX_SAFE_INTEGER, terms: {}, tags: []
  }]
}

function address(url) {
  return new URL(url.replace(/^\//, ""), root).href
}

function terms(query) {
  return Object.fromEntries(words(query).map(word => [word, true]))
}

/* One page as Material's result items: the page, then its best sections. */
async function items(entry, query) {
  const data = entry.data || await entry.result.data()
  const kind = (data.filters.kind || ["Page"])[0]
  const tags = [kind, ...(data.meta.level ? [data.meta.level] : [])].map(escapeHtml)
  const own = ownText(data)
  const page = {
    location: address(data.url),
    title: escapeHtml(data.meta.title || data.url),
    text: ownExcerpt(data.excerpt, own) ? data.excerpt : excerptOfOwnText(own, query),
    score: entry.score,
    terms: terms(query),
    tags
  }
  const sections = (data.sub_results || [])
    .filter(section => section.url !== data.url && section.url.includes("#"))
    .filter(section => ownExcerpt(section.excerpt, own))
    .slice(0, 2)
    .map((section, index) => ({
      location: address(section.url),
      title: escapeHtml(section.title),
      text: section.excerpt,
      score: entry.score / (index + 2),
      terms: terms(query)
    }))
  return [page, ...sections]
}

async function search(query) {
  if (!words(query).length)
    return { items: [] }
  if (!pagefind)
    return { items: [[{
      location: address("/recommendations/"),
      title: say("Search is not available just now"),
      text: `<p>${say("Browse every recommendation in the explorer instead.")}</p>`,
      score: 1, terms: {}, tags: []
    }]] }
  const { ranked, parts, nearest } = await searchAll(query)
  const shown = await Promise.all(ranked.slice(0, SHOWN).map(entry => items(entry, query)))
  // No recommendation holds every part of the query: say so, and name the nearest.
  if (!nearest || nearest.parts < parts) {
    const [page] = nearest ? await items(nearest, query) : [null]
    if (!page && vocabulary.language !== "en")
      return { items: [englishSearch(query), ...shown] }
    shown.unshift([{
      location: page ? page.location : address("/recommendations/"),
      title: say("No recommendation matches “%(query)s”", { query }) +
        (page ? say("; the nearest is “%(title)s”").replace("%(title)s", () => page.title) : ""),
      text: page
        ? page.text
        : `<p>${say("Try other words, or browse every recommendation in the explorer.")}</p>`,
      score: Number.MAX_SAFE_INTEGER,
      terms: terms(query),
      tags: []
    }])
  }
  return { items: shown }
}

/* Messages are answered one at a time, in order, as Material expects of its worker; a query
   overtaken by a newer one while it waited is answered at once with no results. */
let queue = Promise.resolve()
let latest = 0

addEventListener("message", event => {
  const message = event.data
  const number = message.type === QUERY ? ++latest : latest
  queue = queue.then(async () => {
    if (message.type === SETUP) {
      try {
        await setup()
      } catch (error) {
        console.warn("kb search: the index could not be loaded", error)
        pagefind = null
      }
      postMessage({ type: READY })
    } else if (message.type === QUERY) {
      try {
        const data = number === latest ? await search(message.data) : { items: [] }
        postMessage({ type: RESULT, data })
      } catch (error) {
        console.warn("kb search:", error)
        postMessage({ type: RESULT, data: { items: [] } })
      }
    }
  })
})
